import Synchronization

/// Work one at a time per key, in the order it arrived; different keys side by side.
///
/// The engine runs each chat's events in its lane (a run reads its chat's state, waits on
/// the AI, and commits, before the chat's next event reads that state), while other chats
/// go on.
final class OrderedLanes<Key: Hashable & Sendable>: Sendable {
    /// A key present is held; its array lists who waits for it, first come first served.
    private let held = Mutex<[Key: [CheckedContinuation<Void, Never>]]>([:])

    init() {}

    /// Runs `body` once every earlier caller with the same key is done.
    nonisolated(nonsending) func run<T>(_ key: Key, _ body: () async throws -> T) async throws -> T {
        await acquire(key)
        defer { release(key) }
        return try await body()
    }

    private func acquire(_ key: Key) async {
        let free = held.withLock { held in
            guard held[key] == nil else { return false }
            held[key] = []
            return true
        }
        if free { return }
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let freed = held.withLock { held in
                guard held[key] != nil else {
                    held[key] = []
                    return true
                }
                held[key]?.append(waiter)
                return false
            }
            if freed { waiter.resume() }
        }
    }

    /// Hands the key to the next waiter, or frees it.
    private func release(_ key: Key) {
        let next: CheckedContinuation<Void, Never>? = held.withLock { held in
            guard var waiters = held[key], !waiters.isEmpty else {
                held[key] = nil
                return nil
            }
            let next = waiters.removeFirst()
            held[key] = waiters
            return next
        }
        next?.resume()
    }
}
