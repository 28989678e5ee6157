import Foundation
import GRDB

/// The admin panel's accounts. Each write is one transaction; a change that would leave no
/// enabled admin is refused inside it, so two admins demoting each other at once cannot
/// both succeed.
extension ReplyflowDatabase {
    /// Adds an account; throws `StaffAccountError.duplicateUsername` when the name is taken
    /// (names ignore case). The caller has checked the name and hashed the password.
    public func addAccount(username: String, role: StaffRole, passwordHash: String, at now: Date = Date()) async throws -> StaffAccount {
        try await writer.write { db in
            if try Self.accountRow(named: username, in: db) != nil { throw StaffAccountError.duplicateUsername(username) }
            try db.execute(
                sql: "INSERT INTO staff_accounts (username, role, password_hash, disabled, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?)",
                arguments: [username, role.rawValue, passwordHash, now.timeIntervalSince1970, now.timeIntervalSince1970])
            return StaffAccount(id: db.lastInsertedRowID, username: username, role: role, disabled: false, createdAt: now)
        }
    }

    /// The account named `username` (ignoring case), or nil.
    public func account(named username: String) async throws -> StaffAccount? {
        try await writer.read { db in try Self.accountRow(named: username, in: db) }
    }

    public func account(id: Int64) async throws -> StaffAccount? {
        try await writer.read { db in
            try StaffAccount.fetchOne(db, sql: "SELECT \(StaffAccount.columns) FROM staff_accounts WHERE id = ?", arguments: [id])
        }
    }

    /// Every account, by name.
    public func accounts() async throws -> [StaffAccount] {
        try await writer.read { db in
            try StaffAccount.fetchAll(db, sql: "SELECT \(StaffAccount.columns) FROM staff_accounts ORDER BY username COLLATE NOCASE")
        }
    }

    /// The account and its password hash, for a login (nil when there is no such name).
    public func credentials(named username: String) async throws -> StaffCredentials? {
        try await writer.read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT \(StaffAccount.columns), password_hash FROM staff_accounts WHERE username = ?", arguments: [username])
            else { return nil }
            return StaffCredentials(account: StaffAccount(row: row), passwordHash: row["password_hash"])
        }
    }

    /// Changes an account's role; refuses to demote the last enabled admin.
    @discardableResult
    public func setRole(accountID: Int64, to role: StaffRole, at now: Date = Date()) async throws -> StaffAccount {
        try await writer.write { db in
            var account = try Self.existingAccount(id: accountID, in: db)
            if account.role == .admin, role != .admin, !account.disabled { try Self.requireAnotherEnabledAdmin(than: account, in: db) }
            try db.execute(
                sql: "UPDATE staff_accounts SET role = ?, updated_at = ? WHERE id = ?", arguments: [role.rawValue, now.timeIntervalSince1970, accountID])
            account.role = role
            return account
        }
    }

    /// Disables (ending its sessions) or enables an account; refuses to disable the last
    /// enabled admin.
    @discardableResult
    public func setDisabled(accountID: Int64, _ disabled: Bool, at now: Date = Date()) async throws -> StaffAccount {
        try await writer.write { db in
            var account = try Self.existingAccount(id: accountID, in: db)
            if disabled, account.role == .admin, !account.disabled { try Self.requireAnotherEnabledAdmin(than: account, in: db) }
            try db.execute(
                sql: "UPDATE staff_accounts SET disabled = ?, updated_at = ? WHERE id = ?", arguments: [disabled, now.timeIntervalSince1970, accountID])
            if disabled { try db.execute(sql: "DELETE FROM staff_sessions WHERE account_id = ?", arguments: [accountID]) }
            account.disabled = disabled
            return account
        }
    }

    /// Replaces an account's password hash and ends all of its sessions: whoever knew the
    /// old password is signed out everywhere.
    public func setPasswordHash(accountID: Int64, _ passwordHash: String, at now: Date = Date()) async throws {
        try await writer.write { db in
            _ = try Self.existingAccount(id: accountID, in: db)
            try db.execute(
                sql: "UPDATE staff_accounts SET password_hash = ?, updated_at = ? WHERE id = ?",
                arguments: [passwordHash, now.timeIntervalSince1970, accountID])
            try db.execute(sql: "DELETE FROM staff_sessions WHERE account_id = ?", arguments: [accountID])
        }
    }

    // MARK: Inside a transaction

    static func accountRow(named username: String, in db: Database) throws -> StaffAccount? {
        try StaffAccount.fetchOne(db, sql: "SELECT \(StaffAccount.columns) FROM staff_accounts WHERE username = ?", arguments: [username])
    }

    static func existingAccount(id: Int64, in db: Database) throws -> StaffAccount {
        guard let account = try StaffAccount.fetchOne(db, sql: "SELECT \(StaffAccount.columns) FROM staff_accounts WHERE id = ?", arguments: [id])
        else { throw StaffAccountError.unknownAccount("#\(id)") }
        return account
    }

    static func requireAnotherEnabledAdmin(than account: StaffAccount, in db: Database) throws {
        let others =
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM staff_accounts WHERE role = ? AND disabled = 0 AND id != ?",
                arguments: [StaffRole.admin.rawValue, account.id]) ?? 0
        if others == 0 { throw StaffAccountError.lastAdmin(account.username) }
    }
}
