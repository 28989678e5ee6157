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

extension FirstAnswer {
    /// `work`'s value, or `late` when `timeout` passes first; `work` is not cancelled (it
    /// may wait where it cannot be) and finishes on its own.
    static func within(_ timeout: Duration, late: Value, _ work: @escaping @Sendable () async -> Value) async -> Value {
        await withCheckedContinuation { continuation in
            let answer = FirstAnswer(continuation)
            Task { answer.give(await work()) }
            Task {
                try? await Task.sleep(for: timeout)
                answer.give(late)
            }
        }
    }
}
