import Flows
import Foundation
import GRDB

/// Read-side queries over the stored state: reports, history, traces.
public struct StateQueries: Sendable {
    public let database: ReplyflowDatabase

    public init(database: ReplyflowDatabase) {
        self.database = database
    }

    /// Per-variant exposures and conversions (distinct users) of one experiment.
    public func experimentCounts(experiment: String) throws -> [String: (exposures: Int, conversions: Int)] {
        try database.writer.read { try ExperimentQueries.counts($0, experiment: experiment) }
    }

    /// Experiments with stored exposures.
    public func experimentKeys() throws -> [String] {
        try database.writer.read(ExperimentQueries.keys)
    }

    /// A user's messages, oldest first.
    public func messages(userID: String) throws -> [StoredMessage] {
        try database.writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT user_id, source, direction, text, media, created_at, flow, author FROM messages WHERE user_id = ? ORDER BY id", arguments: [userID]
            ).map { row in
                StoredMessage(
                    userID: row[0], source: ChatSource(rawValue: row[1]) ?? .app, direction: StoredMessage.Direction(rawValue: row[2]) ?? .user,
                    text: row[3], media: MediaKind(rawValue: row[4]) ?? .none, at: Date(timeIntervalSince1970: row[5]), flow: row[6],
                    author: StoredMessage.Author(rawValue: row[7])
                )
            }
        }
    }

    /// Number of rows in a table, for summaries and tests.
    public func count(_ table: String) throws -> Int {
        precondition(table.allSatisfy { $0.isLetter || $0 == "_" })
        return try database.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 }
    }
}
