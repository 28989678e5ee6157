import Flows
import Foundation
import GRDB
import Synchronization

/// Loads runs' snapshots: the snapshots asked for while a read is under way are read
/// together in the next read transaction, so a burst of requests takes one reader
/// connection, not one each. A run's lane lets it in only once its chat's previous run
/// has committed, so any read that starts after it asked sees that commit.
final class SnapshotQueue: Sendable {
    struct Request {
        var reads: StateReads
        var latestAppMessage: Bool
    }

    private struct Pending {
        var request: Request
        var waiter: CheckedContinuation<(StateSnapshot, Int64?), any Error>
    }

    private struct State {
        var pending: [Pending] = []
        var reading = false
    }

    private let reader: any DatabaseReader
    private let state = Mutex(State())

    init(reader: any DatabaseReader) {
        self.reader = reader
    }

    func snapshot(_ request: Request) async throws -> (StateSnapshot, Int64?) {
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<(StateSnapshot, Int64?), any Error>) in
            let start = state.withLock { state in
                state.pending.append(Pending(request: request, waiter: waiter))
                defer { state.reading = true }
                return !state.reading
            }
            if start { readNext() }
        }
    }

    private func readNext() {
        let batch = state.withLock { state in
            defer { state.pending = [] }
            if state.pending.isEmpty { state.reading = false }
            return state.pending
        }
        guard !batch.isEmpty else { return }
        reader.asyncRead { result in
            switch result {
            case .success(let db):
                for pending in batch {
                    do {
                        let snapshot = try ReplyflowDatabase.snapshot(db, for: pending.request.reads)
                        let latest = pending.request.latestAppMessage
                            ? try pending.request.reads.userID.flatMap { try ReplyflowDatabase.latestAppMessageID(db, userID: $0) } : nil
                        pending.waiter.resume(returning: (snapshot, latest))
                    } catch {
                        pending.waiter.resume(throwing: error)
                    }
                }
            case .failure(let error):
                for pending in batch { pending.waiter.resume(throwing: error) }
            }
            self.readNext()
        }
    }
}
