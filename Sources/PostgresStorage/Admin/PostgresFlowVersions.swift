import Foundation
import Logging
import PostgresNIO
import Storage

/// `FlowVersionStore` on PostgreSQL: the flow studio's history, shared by every instance
/// (a save on one shows in the history on all).
public struct PostgresFlowVersions: FlowVersionStore {
    private let client: PostgresClient
    private let logger: Logger

    public init(_ database: ReplyflowPostgres) {
        client = database.client
        logger = database.logger
    }

    private typealias Row = (Int64, String, String, String?, String?, String, String, Double)

    private static func version(_ row: Row) -> FlowVersion {
        // A change written by a newer version reads as a save.
        FlowVersion(
            id: row.0, file: row.1, change: FlowVersion.Change(rawValue: row.2) ?? .save, content: row.3, contentHash: row.4, comment: row.5,
            author: row.6, createdAt: Date(timeIntervalSince1970: row.7))
    }

    @discardableResult
    public func recordFlowVersions(_ versions: [NewFlowVersion], at now: Date) async throws -> [FlowVersion] {
        try await client.withConnection { connection in
            try await connection.inTransaction(logger: logger) {
                try await record(versions, at: now, on: connection)
            }
        }
    }

    private func record(_ versions: [NewFlowVersion], at now: Date, on connection: PostgresConnection) async throws -> [FlowVersion] {
        var recorded: [FlowVersion] = []
        for version in versions {
            let id = try await connection.query(
                """
                INSERT INTO flow_versions (file, change, content, content_hash, comment, author, created_at)
                VALUES (\(version.file), \(version.change.rawValue), \(version.content), \(version.contentHash), \(version.comment), \(version.author),
                    \(now.timeIntervalSince1970))
                RETURNING id
                """, logger: logger
            ).decode(Int64.self).first { _ in true }
            recorded.append(
                FlowVersion(
                    id: id ?? 0, file: version.file, change: version.change, content: version.content, contentHash: version.contentHash,
                    comment: version.comment, author: version.author, createdAt: now))
        }
        return recorded
    }

    public func flowVersions(of file: String, limit: Int) async throws -> [FlowVersion] {
        try await versions(
            "SELECT id, file, change, content, content_hash, comment, author, created_at FROM flow_versions WHERE file = \(file) ORDER BY id DESC LIMIT \(max(1, limit))"
        )
    }

    public func flowVersion(id: Int64, of file: String) async throws -> FlowVersion? {
        try await versions(
            "SELECT id, file, change, content, content_hash, comment, author, created_at FROM flow_versions WHERE id = \(id) AND file = \(file)"
        ).first
    }

    public func latestFlowVersions() async throws -> [String: FlowVersion] {
        let rows = try await versions(
            """
            SELECT id, file, change, content, content_hash, comment, author, created_at FROM flow_versions
            WHERE id IN (SELECT max(id) FROM flow_versions GROUP BY file)
            """)
        return Dictionary(rows.map { ($0.file, $0) }, uniquingKeysWith: { first, _ in first })
    }

    private func versions(_ query: PostgresQuery) async throws -> [FlowVersion] {
        var versions: [FlowVersion] = []
        for try await row in try await client.query(query, logger: logger).decode(Row.self) { versions.append(Self.version(row)) }
        return versions
    }
}
