import Flows
import Foundation
import Logging
import PostgresNIO
import Storage

/// A held chat's reads and commit on the connection that holds its lock (see
/// `PostgresRunStore`). The statements mirror SQLite's (`ReplyflowDatabase+Runs`): the
/// same rows come out of the same run on either database, which `RunStoreParityTests`
/// checks table by table.
struct PostgresChatRun: ChatRunAccess {
    let connection: PostgresConnection
    let logger: Logger

    func isHandled(_ key: IdempotencyKey) async throws -> Bool {
        try await unavailableWhenFailing { try await readIsHandled(key) }
    }

    func snapshot(for reads: StateReads, latestAppMessage: Bool) async throws -> (StateSnapshot, Int64?) {
        try await unavailableWhenFailing { try await readSnapshot(for: reads, latestAppMessage: latestAppMessage) }
    }

    private func readIsHandled(_ key: IdempotencyKey) async throws -> Bool {
        let rows =
            switch key {
            case .telegramUpdate(let id): try await connection.queryIfOpen("SELECT 1 FROM telegram_updates WHERE update_id = \(id)", logger: logger)
            case .brevoMessage(let id): try await connection.queryIfOpen("SELECT 1 FROM brevo_messages WHERE message_id = \(id)", logger: logger)
            }
        return try await rows.collect().count > 0
    }

    private func readSnapshot(for reads: StateReads, latestAppMessage: Bool) async throws -> (StateSnapshot, Int64?) {
        var snapshot = StateSnapshot(for: reads)
        if let groupMessageID = reads.groupMessageID {
            snapshot.groupMessageOwner = try await first(
                connection.queryIfOpen("SELECT user_id FROM group_forwards WHERE group_message_id = \(groupMessageID)", logger: logger).decode(String.self))
        }
        guard let userID = reads.userID ?? snapshot.groupMessageOwner else { return (snapshot, nil) }
        let (inboundCount, autoMode, latest) =
            try await first(
                connection.queryIfOpen(
                    """
                    SELECT (SELECT inbound_count FROM users WHERE id = \(userID)),
                        (SELECT auto_mode FROM chats WHERE source = \(reads.source.rawValue) AND user_id = \(userID)),
                        (SELECT max(id) FROM messages WHERE user_id = \(userID) AND source = 'app')
                    """, logger: logger
                ).decode((Int64?, Int64?, Int64?).self)) ?? (nil, nil, nil)
        snapshot.inboundCount = Int(inboundCount ?? 0)
        snapshot.autoMode = autoMode.map { $0 != 0 }
        if !reads.markers.isEmpty {
            let keys = Array(Set(reads.markers.map(\.key)))
            for try await (key, period) in try await connection.queryIfOpen(
                "SELECT key, period FROM markers WHERE user_id = \(userID) AND key = ANY(\(keys))", logger: logger
            ).decode((String, String).self) {
                let marker = StateReads.MarkerKey(key: key, period: period)
                if reads.markers.contains(marker) { snapshot.markers.insert(marker) }
            }
        }
        if !reads.experiments.isEmpty {
            let experiments = reads.experiments
            for try await (experiment, variant) in try await connection.queryIfOpen(
                "SELECT experiment, variant FROM experiment_assignments WHERE user_id = \(userID) AND experiment = ANY(\(experiments))", logger: logger
            ).decode((String, String).self) {
                snapshot.assignments[experiment] = variant
            }
            for try await (experiment, variant, at) in try await connection.queryIfOpen(
                "SELECT experiment, variant, first_at FROM experiment_exposures WHERE user_id = \(userID) AND experiment = ANY(\(experiments))",
                logger: logger
            ).decode((String, String, Double).self) {
                snapshot.exposures[experiment] = (variant: variant, at: Date(timeIntervalSince1970: at))
            }
            for try await experiment in try await connection.queryIfOpen(
                "SELECT experiment FROM experiment_conversions WHERE user_id = \(userID) AND experiment = ANY(\(experiments))", logger: logger
            ).decode(String.self) {
                snapshot.conversions.insert(experiment)
            }
        }
        return (snapshot, latestAppMessage ? latest : nil)
    }

    func commit(_ record: RunRecord) async throws -> CommitReceipt? {
        try await connection.inTransaction(logger: logger) {
            try await PostgresRunCommit(connection: connection, logger: logger).write(record)
        }
    }

    private func first<Rows: AsyncSequence>(_ rows: Rows) async throws -> Rows.Element? {
        for try await row in rows { return row }
        return nil
    }
}
