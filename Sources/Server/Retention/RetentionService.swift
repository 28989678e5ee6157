import Foundation
import Logging
import ServiceLifecycle
import Storage

/// How long stored rows are kept (`RETENTION_DAYS_TRACES`, `RETENTION_DAYS_MESSAGES`);
/// nil keeps them forever, the default.
public struct RetentionPolicy: Sendable, Equatable {
    public var traceDays: Int?
    public var messageDays: Int?

    public init(traceDays: Int? = nil, messageDays: Int? = nil) {
        self.traceDays = traceDays
        self.messageDays = messageDays
    }

    /// Whether anything is ever deleted.
    public var isActive: Bool { traceDays != nil || messageDays != nil }

    /// The settings' range: a day to a hundred years.
    static let days = 1...36_500
}

/// Deletes rows older than the retention policy, once at start and then every `interval`,
/// in background batches of `batchSize` rows, each its own short write transaction with
/// a pause after it, so requests' commits are never held up for long. Among instances
/// sharing a database, only the one leading retention deletes.
struct RetentionService: Service {
    let policy: RetentionPolicy
    let database: any RetentionStore
    let uploadsDirectory: String
    let clock: @Sendable () -> Date
    let logger: Logger
    var interval: Duration = .seconds(3600)
    var batchSize = 500
    /// Breathing room between batches for the server's own writes.
    var pause: Duration = .milliseconds(20)
    var leadership: any Leadership = SoleServer()

    func run() async throws {
        logger.info(
            "retention on",
            metadata: [
                "trace_days": "\(policy.traceDays.map(String.init) ?? "forever")", "message_days": "\(policy.messageDays.map(String.init) ?? "forever")",
            ])
        await cancelWhenGracefulShutdown {
            await leadership.whileLeading(.retention) {
                while !Task.isCancelled {
                    do {
                        try await sweep()
                    } catch is CancellationError {
                        return
                    } catch {
                        // The next sweep tries again; nothing is lost by waiting.
                        logger.error("retention: could not delete old rows", metadata: ["error": "\(error)"])
                    }
                    do { try await Task.sleep(for: interval) } catch { return }
                }
            }
        }
    }

    /// One pass: every batch of old rows, until none is left. Returns what was deleted.
    @discardableResult
    func sweep() async throws -> RetentionBatch {
        var total = RetentionBatch()
        let now = clock()
        if let days = policy.traceDays {
            let cutoff = now.addingTimeInterval(-Double(days) * 86_400)
            while true {
                try Task.checkCancellation()
                let batch = try await database.deleteTraces(olderThan: cutoff, limit: batchSize)
                total.traces += batch.traces
                if batch.isEmpty { break }
                try await Task.sleep(for: pause)
            }
        }
        if let days = policy.messageDays {
            let cutoff = now.addingTimeInterval(-Double(days) * 86_400)
            while true {
                try Task.checkCancellation()
                let batch = try await database.deleteMessages(olderThan: cutoff, limit: batchSize, uploadsDirectory: uploadsDirectory)
                total.messages += batch.messages
                total.conversations += batch.conversations
                total.outboxItems += batch.outboxItems
                total.uploads += batch.uploads
                if batch.isEmpty { break }
                try await Task.sleep(for: pause)
            }
        }
        if !total.isEmpty {
            logger.info(
                "retention: deleted old rows",
                metadata: [
                    "traces": "\(total.traces)", "messages": "\(total.messages)", "conversations": "\(total.conversations)",
                    "outbox_items": "\(total.outboxItems)", "uploads": "\(total.uploads)",
                ])
        }
        return total
    }
}
