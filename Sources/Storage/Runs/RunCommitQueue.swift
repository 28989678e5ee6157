import Foundation
import GRDB
import Synchronization

/// Hands runs to SQLite's writer: each run is committed in a transaction of its own, but
/// the writer's thread is woken once for all the runs waiting, not once per run. Under
/// load a request's commit then costs its transaction, not also two thread hand-offs.
///
/// A run whose transaction fails is rolled back alone; the runs around it commit.
final class RunCommitQueue: Sendable {
    private struct Pending {
        var record: RunRecord
        var waiter: CheckedContinuation<CommitReceipt?, any Error>
    }

    private struct State {
        var pending: [Pending] = []
        var draining = false
    }

    private let writer: any DatabaseWriter
    private let state = Mutex(State())

    init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Commits `record` in its own transaction; nil when its key was already committed.
    func commit(_ record: RunRecord) async throws -> CommitReceipt? {
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<CommitReceipt?, any Error>) in
            let startDrain = state.withLock { state in
                state.pending.append(Pending(record: record, waiter: waiter))
                defer { state.draining = true }
                return !state.draining
            }
            if startDrain { drain() }
        }
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
                for run in batch {
                    do {
                        var receipt: CommitReceipt?
                        try db.inTransaction(.immediate) {
                            receipt = try ReplyflowDatabase.commit(run.record, in: db)
                            return .commit
                        }
                        run.waiter.resume(returning: receipt)
                    } catch {
                        run.waiter.resume(throwing: error)
                    }
                }
            }
        }
    }
}
