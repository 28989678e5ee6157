import Synchronization

/// Resumes a continuation with the first value given and ignores the rest: a probe or a
/// read raced against its timeout (`/ready`, the outbox gauges of `/metrics`), where the
/// loser cannot be cancelled and finishes on its own.
final class FirstAnswer<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value, Never>?>

    init(_ continuation: CheckedContinuation<Value, Never>) {
        self.continuation = Mutex(continuation)
    }

    func give(_ value: Value) {
        continuation.withLock { pending in
            defer { pending = nil }
            return pending
        }?.resume(returning: value)
    }
}
