import Foundation
import GRDB

/// The flow studio's history of flow files (`FlowVersion`). Append-only.
extension ReplyflowDatabase: FlowVersionStore {
    /// Appends versions in one transaction (an outside change and the save after it go
    /// in together), in order; returns them with their ids.
    @discardableResult
    public func recordFlowVersions(_ versions: [NewFlowVersion], at now: Date) async throws -> [FlowVersion] {
        try await writer.write { db in
            try versions.map { version in
                try db.execute(
                    sql: "INSERT INTO flow_versions (file, change, content, content_hash, comment, author, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    arguments: [
                        version.file, version.change.rawValue, version.content, version.contentHash, version.comment, version.author,
                        now.timeIntervalSince1970,
                    ])
                return FlowVersion(
                    id: db.lastInsertedRowID, file: version.file, change: version.change, content: version.content, contentHash: version.contentHash,
                    comment: version.comment, author: version.author, createdAt: now)
            }
        }
    }

    /// A file's versions, newest first.
    public func flowVersions(of file: String, limit: Int) async throws -> [FlowVersion] {
        try await writer.read { db in
            try FlowVersion.fetchAll(db, sql: "SELECT * FROM flow_versions WHERE file = ? ORDER BY id DESC LIMIT ?", arguments: [file, max(1, limit)])
        }
    }

    /// One version of a file; nil when there is none with that id for that file.
    public func flowVersion(id: Int64, of file: String) async throws -> FlowVersion? {
        try await writer.read { db in
            try FlowVersion.fetchOne(db, sql: "SELECT * FROM flow_versions WHERE id = ? AND file = ?", arguments: [id, file])
        }
    }

    /// The newest version of every file that has one (who changed each file last, and the
    /// files deleted in the panel).
    public func latestFlowVersions() async throws -> [String: FlowVersion] {
        try await writer.read { db in
            let rows = try FlowVersion.fetchAll(db, sql: "SELECT * FROM flow_versions WHERE id IN (SELECT max(id) FROM flow_versions GROUP BY file)")
            return Dictionary(rows.map { ($0.file, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Runs and skips per flow since `since` (from the run traces), for the flows list.
    public func flowRunCounts(since: Date) async throws -> [String: (ran: Int, skipped: Int)] {
        try await writer.read { db in
            // The first id at or after `since` bounds the scan to the period.
            let cutoff = since.timeIntervalSince1970
            let low = try Self.firstTraceID(atOrAfter: since, db)
            var counts: [String: (ran: Int, skipped: Int)] = [:]
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT flow, result, count(*) AS n FROM run_traces WHERE id >= ? AND at >= ? AND flow IS NOT NULL GROUP BY flow, result",
                arguments: [low, cutoff])
            for row in rows {
                let flow: String = row["flow"], result: String? = row["result"], n: Int = row["n"]
                var entry = counts[flow] ?? (0, 0)
                if result == "ran" { entry.ran += n } else if result == "skipped" { entry.skipped += n }
                counts[flow] = entry
            }
            return counts
        }
    }
}
