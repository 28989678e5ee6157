import Foundation

/// The admin panel's accounts, signed-in sessions and audit log, on SQLite
/// (`ReplyflowDatabase`) or PostgreSQL (`PostgresStaffStore`); both answer alike
/// (`StaffStoreParityTests`). Account writes are each one transaction, and a change that
/// would leave no enabled admin is refused inside it, so two admins demoting each other at
/// once cannot both succeed.
public protocol StaffStore: Sendable {
    /// Adds an account; throws `StaffAccountError.duplicateUsername` when the name is taken
    /// (names ignore case). The caller has checked the name and hashed the password.
    func addAccount(username: String, role: StaffRole, passwordHash: String, at now: Date) async throws -> StaffAccount
    /// The account named `username` (ignoring case), or nil.
    func account(named username: String) async throws -> StaffAccount?
    func account(id: Int64) async throws -> StaffAccount?
    /// Every account, by name (ignoring case).
    func accounts() async throws -> [StaffAccount]
    /// The account and its password hash, for a login (nil when there is no such name).
    func credentials(named username: String) async throws -> StaffCredentials?
    /// Changes an account's role; refuses to demote the last enabled admin.
    @discardableResult
    func setRole(accountID: Int64, to role: StaffRole, at now: Date) async throws -> StaffAccount
    /// Disables (ending its sessions) or enables an account; refuses to disable the last
    /// enabled admin.
    @discardableResult
    func setDisabled(accountID: Int64, _ disabled: Bool, at now: Date) async throws -> StaffAccount
    /// Replaces an account's password hash and ends all of its sessions.
    func setPasswordHash(accountID: Int64, _ passwordHash: String, at now: Date) async throws

    /// Stores a new session under the SHA-256 of its cookie (`idHash`), dropping every
    /// session that is over by `limits`.
    func createSession(
        idHash: String, accountID: Int64, csrfToken: String, address: String?, userAgent: String?, limits: StaffSessionLimits, at now: Date
    ) async throws
    /// The session stored under `idHash`, with its account as it is now; nil when there is
    /// none, its account is disabled, or it is over by `limits` at `now`.
    func session(idHash: String, limits: StaffSessionLimits, at now: Date) async throws -> StaffSession?
    /// Notes that the session was used at `now` (its idle timeout counts from here).
    func touchSession(idHash: String, at now: Date) async throws
    /// Ends one session (logout).
    func endSession(idHash: String) async throws
    /// How many sessions the account has stored.
    func sessionCount(accountID: Int64) async throws -> Int

    /// Appends an audit entry. `actor` is a username or "command line"; `detail` never
    /// holds a password, session id or token.
    func recordAudit(actor: String, action: String, detail: String, address: String?, at now: Date) async throws
    /// One page of entries, newest first; `page` counts from 1.
    func auditEntries(page: Int, limit: Int) async throws -> [AuditEntry]
    /// How many entries the log holds.
    func auditEntryCount() async throws -> Int
}

extension ReplyflowDatabase: StaffStore {}

extension StaffStore {
    /// The `replyflow users` commands: now.
    public func addAccount(username: String, role: StaffRole, passwordHash: String) async throws -> StaffAccount {
        try await addAccount(username: username, role: role, passwordHash: passwordHash, at: Date())
    }

    @discardableResult
    public func setRole(accountID: Int64, to role: StaffRole) async throws -> StaffAccount {
        try await setRole(accountID: accountID, to: role, at: Date())
    }

    @discardableResult
    public func setDisabled(accountID: Int64, _ disabled: Bool) async throws -> StaffAccount {
        try await setDisabled(accountID: accountID, disabled, at: Date())
    }

    public func setPasswordHash(accountID: Int64, _ passwordHash: String) async throws {
        try await setPasswordHash(accountID: accountID, passwordHash, at: Date())
    }

    public func recordAudit(actor: String, action: String, detail: String, address: String?) async throws {
        try await recordAudit(actor: actor, action: action, detail: detail, address: address, at: Date())
    }
}
