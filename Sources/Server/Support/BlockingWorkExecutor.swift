import Dispatch

/// Runs a task's jobs on a private serial queue instead of Swift's cooperative pool: for
/// async work that blocks its thread now and then (a comparison's scratch SQLite, which
/// reads and waits for its writer synchronously), so it never holds one of the few pool
/// threads the server's requests run on.
///
/// Use with `withTaskExecutorPreference(executor) { ... }`.
public final class BlockingWorkExecutor: TaskExecutor, @unchecked Sendable {
    // A DispatchQueue is thread-safe; nothing else is stored.
    private let queue: DispatchQueue

    public init(label: String) {
        queue = DispatchQueue(label: label)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
