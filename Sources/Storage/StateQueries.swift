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
        try database.writer.read { db in
            var counts: [String: (exposures: Int, conversions: Int)] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT variant, count(*) FROM experiment_exposures WHERE experiment = ? GROUP BY variant", arguments: [experiment])
            {
                counts[row[0], default: (0, 0)].exposures = row[1]
            }
            for row in try Row.fetchAll(
                db, sql: "SELECT variant, count(*) FROM experiment_conversions WHERE experiment = ? GROUP BY variant", arguments: [experiment])
            {
                counts[row[0], default: (0, 0)].conversions = row[1]
            }
            return counts
        }
    }

    /// Experiment keys that have any exposure stored.
    public func experimentKeys() throws -> [String] {
        try database.writer.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT experiment FROM experiment_exposures ORDER BY experiment")
        }
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
