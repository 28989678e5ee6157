import Foundation
import GRDB

/// Writes batches of queued rows to SQLite on one background queue, grouping everything
/// queued while a transaction runs into the next one (group commit). Callers that need
/// durability pass a waiter, called once their rows are committed.
final class GroupCommitQueue: @unchecked Sendable {
    // Guarded by `condition`: submitted by the store's owner, drained by `queue`.
    private let condition = NSCondition()
    private var queued: [PendingWrite] = []
    private var waiters: [@Sendable (Error?) -> Void] = []
    private var drainScheduled = false
    /// Batches the writer has run, released by the next `submit`: their rows were made on
    /// the submitter's thread, and glibc's `free` of another thread's block takes that
    /// thread's arena lock, which the two threads then waited on (a tenth of a replay's
    /// time idle).
    private var written: [[PendingWrite]] = []

    private let queue = DispatchQueue(label: "replyflow.group-commit")
    private let writer: any DatabaseWriter
    private let errors: FirstError
    /// Rows allowed to wait for SQLite before `submit` blocks (back-pressure for bulk runs).
    private let maxQueued: Int
    /// Told of every failed transaction (the store keeps only the first error).
    private let onError: @Sendable (Error) -> Void
    /// How long rows may wait for company before their transaction starts. Zero for
    /// callers waiting on their commit; a few milliseconds for writes nobody waits for,
    /// which a lone worker would otherwise commit one transaction each.
    private let gathering: DispatchTimeInterval

    init(
        writer: any DatabaseWriter, errors: FirstError, maxQueued: Int, gathering: DispatchTimeInterval = .never,
        onError: @escaping @Sendable (Error) -> Void = { _ in }
    ) {
        self.writer = writer
        self.errors = errors
        self.maxQueued = maxQueued
        self.gathering = gathering
        self.onError = onError
    }

    /// Queues rows for the next transaction. Blocks while too many rows are waiting.
    func submit(_ writes: [PendingWrite], waiter: (@Sendable (Error?) -> Void)?) {
        if writes.isEmpty && waiter == nil { return }
        var released: [[PendingWrite]] = []
        defer { released = [] }
        condition.lock()
        while !queued.isEmpty && queued.count + writes.count > maxQueued {
            condition.wait()
        }
        queued.append(contentsOf: writes)
        swap(&released, &written)
        if let waiter { waiters.append(waiter) }
        let schedule = !drainScheduled
        drainScheduled = true
        condition.unlock()
        guard schedule else { return }
        if gathering == .never {
            queue.async { self.drain() }
        } else {
            queue.asyncAfter(deadline: .now() + gathering) { self.drain() }
        }
    }

    /// Returns once everything submitted so far is written (or has failed), without
    /// blocking a thread: for async callers.
    func written() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            submit([], waiter: { _ in continuation.resume() })
        }
    }

    /// Returns once everything submitted so far is written (or has failed). Blocks: for
    /// the bulk writer's own thread.
    func waitUntilWritten() {
        // The queue is serial, so nothing else writes while this drains whatever is
        // queued (a drain scheduled for later then finds nothing left).
        queue.sync { self.drain() }
    }

    private func drain() {
        condition.lock()
        let batch = queued
        let batchWaiters = waiters
        queued = []
        waiters = []
        drainScheduled = false
        condition.broadcast()
        condition.unlock()

        var failure: Error?
        if !batch.isEmpty {
            do {
                try writer.write { db in
                    var statements = PendingWrite.Statements(db)
                    for write in batch { try write.execute(&statements) }
                    try statements.writeHeldRows()
                }
            } catch {
                errors.keep(error)
                onError(error)
                failure = error
            }
            condition.lock()
            written.append(batch)
            condition.unlock()
        }
        for waiter in batchWaiters { waiter(failure) }
    }
}
