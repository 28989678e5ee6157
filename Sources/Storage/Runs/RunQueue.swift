import Flows
import Foundation
import GRDB
import Synchronization

/// Runs' trips to SQLite: the snapshot a run reads before it runs, and the commit of its
/// outcome after. Both go to the writer connection, in the order they were asked for:
///
/// - Its page cache stays warm. A reader connection drops its whole cache whenever the
///   file changed since its last transaction, which with a commit per run is every time,
///   so each snapshot read the B-trees' upper pages again from the WAL.
/// - The writer's thread is woken once for everything waiting, not once per request.
///
/// Snapshots asked for together are read in one transaction; each commit is a
/// transaction of its own, and one that fails is rolled back alone. A run's lane lets it
/// in only once its chat's previous run has committed, so its snapshot, queued after
/// that commit, sees it.
final class RunQueue: Sendable {
    /// What a snapshot read is asked for.
    struct SnapshotRequest {
        var reads: StateReads
        /// Also the id of the user's newest app-chat message (a history fetch's cache key).
        var latestAppMessage: Bool
    }

    private enum Job {
        case snapshot(SnapshotRequest, CheckedContinuation<(StateSnapshot, Int64?), any Error>)
        case commit(RunRecord, CheckedContinuation<CommitReceipt?, any Error>)
    }

    private struct State {
        var pending: [Job] = []
        var draining = false
    }

    private let writer: any DatabaseWriter
    private let state = Mutex(State())

    init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// The state `request` names, as committed now.
    func snapshot(_ request: SnapshotRequest) async throws -> (StateSnapshot, Int64?) {
        try await withCheckedThrowingContinuation { enqueue(.snapshot(request, $0)) }
    }

    /// Commits `record` in its own transaction; nil when its key was already committed.
    func commit(_ record: RunRecord) async throws -> CommitReceipt? {
        try await withCheckedThrowingContinuation { enqueue(.commit(record, $0)) }
    }

    private func enqueue(_ job: Job) {
        let startDrain = state.withLock { state in
            state.pending.append(job)
            defer { state.draining = true }
            return !state.draining
        }
        if startDrain { drain() }
    }

    private func drain() {
        writer.asyncWriteWithoutTransaction { db in
            while true {
                let batch = self.state.withLock { state in
                    defer { state.pending = [] }
                    if state.pending.isEmpty { state.draining = false }
                    return state.pending
                }
                if batch.isEmpty { return }
                var reads: [(SnapshotRequest, CheckedContinuation<(StateSnapshot, Int64?), any Error>)] = []
                for job in batch {
                    switch job {
                    case .snapshot(let request, let waiter):
                        reads.append((request, waiter))
                    case .commit(let record, let waiter):
                        // Snapshots asked for before this commit are read before it.
                        Self.read(reads, in: db)
                        reads = []
                        Self.commit(record, waiter, in: db)
                    }
                }
                Self.read(reads, in: db)
            }
        }
    }

    private static func read(_ requests: [(SnapshotRequest, CheckedContinuation<(StateSnapshot, Int64?), any Error>)], in db: Database) {
        guard !requests.isEmpty else { return }
        var answers: [Result<(StateSnapshot, Int64?), any Error>] = []
        answers.reserveCapacity(requests.count)
        do {
            try db.inTransaction(.deferred) {
                for (request, _) in requests {
                    answers.append(
                        Result {
                            let snapshot = try ReplyflowDatabase.snapshot(db, for: request.reads)
                            let latest =
                                request.latestAppMessage
                                ? try request.reads.userID.flatMap { try ReplyflowDatabase.latestAppMessageID(db, userID: $0) } : nil
                            return (snapshot, latest)
                        })
                }
                return .commit
            }
        } catch {
            for (_, waiter) in requests { waiter.resume(throwing: error) }
            return
        }
        for ((_, waiter), answer) in zip(requests, answers) { waiter.resume(with: answer) }
    }

    private static func commit(_ record: RunRecord, _ waiter: CheckedContinuation<CommitReceipt?, any Error>, in db: Database) {
        do {
            var receipt: CommitReceipt?
            try db.inTransaction(.immediate) {
                receipt = try ReplyflowDatabase.commit(record, in: db)
                return .commit
            }
            waiter.resume(returning: receipt)
        } catch {
            waiter.resume(throwing: error)
        }
    }
}
