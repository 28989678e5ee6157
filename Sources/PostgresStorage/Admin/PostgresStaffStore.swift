import Foundation
import Logging
import PostgresNIO
import Storage

/// `StaffStore` on PostgreSQL: the same accounts, sessions and audit log as SQLite's, for
/// an admin panel served by several instances. Names compare as `lower(username)` (the
/// unique index SQLite's `COLLATE NOCASE` became). Every account write holds one
/// transaction advisory lock, so the "another enabled admin" check and the change it
/// allows cannot interleave with another instance's.
public struct PostgresStaffStore: StaffStore {
    private let client: PostgresClient
    private let logger: Logger

    public init(_ database: ReplyflowPostgres) {
        client = database.client
        logger = database.logger
    }

    private typealias AccountRow = (Int64, String, String, Int64, Double)

    private static func account(_ row: AccountRow) -> StaffAccount {
        // An unknown role (written by a newer version) reads as the least it could be.
        StaffAccount(
            id: row.0, username: row.1, role: StaffRole(rawValue: row.2) ?? .agent, disabled: row.3 != 0, createdAt: Date(timeIntervalSince1970: row.4))
    }

    public func addAccount(username: String, role: StaffRole, passwordHash: String, at now: Date) async throws -> StaffAccount {
        try await writingAccounts { connection in
            if try await account(named: username, on: connection) != nil { throw StaffAccountError.duplicateUsername(username) }
            let at = now.timeIntervalSince1970
            let id = try await connection.query(
                """
                INSERT INTO staff_accounts (username, role, password_hash, disabled, created_at, updated_at)
                VALUES (\(username), \(role.rawValue), \(passwordHash), 0, \(at), \(at)) RETURNING id
                """, logger: logger
            ).decode(Int64.self).first { _ in true }
            return StaffAccount(id: id ?? 0, username: username, role: role, disabled: false, createdAt: now)
        }
    }

    public func account(named username: String) async throws -> StaffAccount? {
        try await client.withConnection { try await account(named: username, on: $0) }
    }

    public func account(id: Int64) async throws -> StaffAccount? {
        try await client.query("SELECT a.id, a.username, a.role, a.disabled, a.created_at FROM staff_accounts a WHERE a.id = \(id)", logger: logger)
            .decode(AccountRow.self).first { _ in true }.map(Self.account)
    }

    public func accounts() async throws -> [StaffAccount] {
        var accounts: [StaffAccount] = []
        for try await row in try await client.query(
            "SELECT a.id, a.username, a.role, a.disabled, a.created_at FROM staff_accounts a ORDER BY lower(a.username)", logger: logger
        ).decode(AccountRow.self) {
            accounts.append(Self.account(row))
        }
        return accounts
    }

    public func credentials(named username: String) async throws -> StaffCredentials? {
        let rows = try await client.query(
            "SELECT a.id, a.username, a.role, a.disabled, a.created_at, a.password_hash FROM staff_accounts a WHERE lower(a.username) = lower(\(username))",
            logger: logger)
        return try await rows.decode((Int64, String, String, Int64, Double, String).self).first { _ in true }.map { row in
            StaffCredentials(account: Self.account((row.0, row.1, row.2, row.3, row.4)), passwordHash: row.5)
        }
    }

    @discardableResult
    public func setRole(accountID: Int64, to role: StaffRole, at now: Date) async throws -> StaffAccount {
        try await writingAccounts { connection in
            var account = try await existingAccount(id: accountID, on: connection)
            if account.role == .admin, role != .admin, !account.disabled { try await requireAnotherEnabledAdmin(than: account, on: connection) }
            _ = try await connection.query(
                "UPDATE staff_accounts SET role = \(role.rawValue), updated_at = \(now.timeIntervalSince1970) WHERE id = \(accountID)", logger: logger
            ).collect()
            account.role = role
            return account
        }
    }

    @discardableResult
    public func setDisabled(accountID: Int64, _ disabled: Bool, at now: Date) async throws -> StaffAccount {
        try await writingAccounts { connection in
            var account = try await existingAccount(id: accountID, on: connection)
            if disabled, account.role == .admin, !account.disabled { try await requireAnotherEnabledAdmin(than: account, on: connection) }
            let flag: Int64 = disabled ? 1 : 0
            _ = try await connection.query(
                "UPDATE staff_accounts SET disabled = \(flag), updated_at = \(now.timeIntervalSince1970) WHERE id = \(accountID)", logger: logger
            ).collect()
            if disabled { _ = try await connection.query("DELETE FROM staff_sessions WHERE account_id = \(accountID)", logger: logger).collect() }
            account.disabled = disabled
            return account
        }
    }

    public func setPasswordHash(accountID: Int64, _ passwordHash: String, at now: Date) async throws {
        try await writingAccounts { connection in
            _ = try await existingAccount(id: accountID, on: connection)
            _ = try await connection.query(
                "UPDATE staff_accounts SET password_hash = \(passwordHash), updated_at = \(now.timeIntervalSince1970) WHERE id = \(accountID)",
                logger: logger
            ).collect()
            _ = try await connection.query("DELETE FROM staff_sessions WHERE account_id = \(accountID)", logger: logger).collect()
        }
    }

    // MARK: Sessions

    public func createSession(
        idHash: String, accountID: Int64, csrfToken: String, address: String?, userAgent: String?, limits: StaffSessionLimits, at now: Date
    ) async throws {
        let at = now.timeIntervalSince1970
        try await client.withConnection { connection in
            try await connection.inTransaction(logger: logger) {
                _ = try await connection.query(
                    "DELETE FROM staff_sessions WHERE last_seen_at <= \(at - limits.idle) OR created_at <= \(at - limits.absolute)", logger: logger
                ).collect()
                _ = try await connection.query(
                    """
                    INSERT INTO staff_sessions (id_hash, account_id, csrf_token, created_at, last_seen_at, address, user_agent)
                    VALUES (\(idHash), \(accountID), \(csrfToken), \(at), \(at), \(address), \(userAgent.map { String($0.prefix(512)) }))
                    """, logger: logger
                ).collect()
            }
        }
    }

    public func session(idHash: String, limits: StaffSessionLimits, at now: Date) async throws -> StaffSession? {
        let rows = try await client.query(
            """
            SELECT a.id, a.username, a.role, a.disabled, a.created_at, s.csrf_token, s.created_at, s.last_seen_at
            FROM staff_sessions s JOIN staff_accounts a ON a.id = s.account_id
            WHERE s.id_hash = \(idHash)
            """, logger: logger)
        guard let row = try await rows.decode((Int64, String, String, Int64, Double, String, Double, Double).self).first(where: { _ in true }) else {
            return nil
        }
        let session = StaffSession(
            account: Self.account((row.0, row.1, row.2, row.3, row.4)), csrfToken: row.5, createdAt: Date(timeIntervalSince1970: row.6),
            lastSeenAt: Date(timeIntervalSince1970: row.7))
        guard !session.account.disabled, !limits.hasExpired(createdAt: session.createdAt, lastSeenAt: session.lastSeenAt, now: now) else { return nil }
        return session
    }

    public func touchSession(idHash: String, at now: Date) async throws {
        _ = try await client.query("UPDATE staff_sessions SET last_seen_at = \(now.timeIntervalSince1970) WHERE id_hash = \(idHash)", logger: logger)
            .collect()
    }

    public func endSession(idHash: String) async throws {
        _ = try await client.query("DELETE FROM staff_sessions WHERE id_hash = \(idHash)", logger: logger).collect()
    }

    public func sessionCount(accountID: Int64) async throws -> Int {
        Int(try await client.query("SELECT count(*) FROM staff_sessions WHERE account_id = \(accountID)", logger: logger).decode(Int64.self).first { _ in true } ?? 0)
    }

    // MARK: Audit log

    public func recordAudit(actor: String, action: String, detail: String, address: String?, at now: Date) async throws {
        _ = try await client.query(
            "INSERT INTO audit_log (at, actor, action, detail, address) VALUES (\(now.timeIntervalSince1970), \(actor), \(action), \(detail), \(address))",
            logger: logger
        ).collect()
    }

    public func auditEntries(page: Int, limit: Int) async throws -> [AuditEntry] {
        let limit = max(1, limit), offset = (max(1, page) - 1) * limit
        var entries: [AuditEntry] = []
        for try await row in try await client.query(
            "SELECT id, at, actor, action, detail, address FROM audit_log ORDER BY id DESC LIMIT \(limit) OFFSET \(offset)", logger: logger
        ).decode((Int64, Double, String, String, String, String?).self) {
            entries.append(AuditEntry(id: row.0, at: Date(timeIntervalSince1970: row.1), actor: row.2, action: row.3, detail: row.4, address: row.5))
        }
        return entries
    }

    public func auditEntryCount() async throws -> Int {
        Int(try await client.query("SELECT count(*) FROM audit_log", logger: logger).decode(Int64.self).first { _ in true } ?? 0)
    }

    // MARK: Inside an account write

    /// One transaction holding the accounts' lock.
    private func writingAccounts<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        try await client.withConnection { connection in
            try await connection.inTransaction(logger: logger) {
                _ = try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended('replyflow.staff_accounts', 0))", logger: logger).collect()
                return try await body(connection)
            }
        }
    }

    private func account(named username: String, on connection: PostgresConnection) async throws -> StaffAccount? {
        try await connection.query(
            "SELECT a.id, a.username, a.role, a.disabled, a.created_at FROM staff_accounts a WHERE lower(a.username) = lower(\(username))", logger: logger
        ).decode(AccountRow.self).first { _ in true }.map(Self.account)
    }

    private func existingAccount(id: Int64, on connection: PostgresConnection) async throws -> StaffAccount {
        guard
            let account = try await connection.query(
                "SELECT a.id, a.username, a.role, a.disabled, a.created_at FROM staff_accounts a WHERE a.id = \(id)", logger: logger
            ).decode(AccountRow.self).first(where: { _ in true }).map(Self.account)
        else { throw StaffAccountError.unknownAccount("#\(id)") }
        return account
    }

    private func requireAnotherEnabledAdmin(than account: StaffAccount, on connection: PostgresConnection) async throws {
        let others =
            try await connection.query(
                "SELECT count(*) FROM staff_accounts WHERE role = \(StaffRole.admin.rawValue) AND disabled = 0 AND id <> \(account.id)", logger: logger
            ).decode(Int64.self).first { _ in true } ?? 0
        if others == 0 { throw StaffAccountError.lastAdmin(account.username) }
    }
}
