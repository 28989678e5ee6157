import Foundation
import GRDB

/// The audit log: append-only; the panel only reads it.
extension ReplyflowDatabase {
    /// Appends an entry. `actor` is a username or "command line"; `detail` names what was
    /// acted on and never holds a password, session id or token.
    public func recordAudit(actor: String, action: String, detail: String, address: String?, at now: Date = Date()) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "INSERT INTO audit_log (at, actor, action, detail, address) VALUES (?, ?, ?, ?, ?)",
                arguments: [now.timeIntervalSince1970, actor, action, detail, address])
        }
    }

    /// One page of entries, newest first; `page` counts from 1.
    public func auditEntries(page: Int, limit: Int) async throws -> [AuditEntry] {
        let limit = max(1, limit)
        let offset = (max(1, page) - 1) * limit
        return try await writer.read { db in
            try AuditEntry.fetchAll(
                db, sql: "SELECT id, at, actor, action, detail, address FROM audit_log ORDER BY id DESC LIMIT ? OFFSET ?", arguments: [limit, offset])
        }
    }

    /// How many entries the log holds (for paging).
    public func auditEntryCount() async throws -> Int {
        try await writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log") ?? 0 }
    }
}
