import Foundation
import GRDB

/// Signed-in browsers. A session is stored under the SHA-256 of its cookie value (the
/// caller hashes it), so nothing read from the database can be replayed as a cookie.
extension ReplyflowDatabase {
    /// Stores a new session for the account, dropping sessions of anyone that are over by
    /// `limits`, so the table does not grow with every login.
    public func createSession(
        idHash: String, accountID: Int64, csrfToken: String, address: String?, userAgent: String?, limits: StaffSessionLimits, at now: Date = Date()
    ) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "DELETE FROM staff_sessions WHERE last_seen_at <= ? OR created_at <= ?",
                arguments: [now.timeIntervalSince1970 - limits.idle, now.timeIntervalSince1970 - limits.absolute])
            try db.execute(
                sql: """
                    INSERT INTO staff_sessions (id_hash, account_id, csrf_token, created_at, last_seen_at, address, user_agent)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    idHash, accountID, csrfToken, now.timeIntervalSince1970, now.timeIntervalSince1970, address, userAgent.map { String($0.prefix(512)) },
                ])
        }
    }

    /// The session stored under `idHash`, with its account as it is now; nil when there is
    /// none, its account is disabled, or it is over by `limits` at `now`.
    public func session(idHash: String, limits: StaffSessionLimits, at now: Date = Date()) async throws -> StaffSession? {
        let session = try await writer.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT \(StaffAccount.columns), staff_sessions.csrf_token, staff_sessions.created_at AS session_created_at, staff_sessions.last_seen_at
                    FROM staff_sessions JOIN staff_accounts ON staff_accounts.id = staff_sessions.account_id
                    WHERE staff_sessions.id_hash = ?
                    """, arguments: [idHash]
            ).map(StaffSession.init(row:))
        }
        guard let session, !session.account.disabled, !limits.hasExpired(createdAt: session.createdAt, lastSeenAt: session.lastSeenAt, now: now)
        else { return nil }
        return session
    }

    /// Notes that the session was used at `now` (its idle timeout counts from here).
    public func touchSession(idHash: String, at now: Date = Date()) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE staff_sessions SET last_seen_at = ? WHERE id_hash = ?", arguments: [now.timeIntervalSince1970, idHash])
        }
    }

    /// Ends one session (logout).
    public func endSession(idHash: String) async throws {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM staff_sessions WHERE id_hash = ?", arguments: [idHash])
        }
    }

    /// How many sessions the account has stored (tests, and the users page).
    public func sessionCount(accountID: Int64) async throws -> Int {
        try await writer.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM staff_sessions WHERE account_id = ?", arguments: [accountID]) ?? 0
        }
    }
}
