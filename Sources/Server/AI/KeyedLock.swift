/// One holder per key at a time, waiters served in arrival order. The assistant asks one
/// question per chat at a time, so two quick messages of one customer are answered in
/// order and each sees the memory the previous answer left.
actor KeyedLock<Key: Hashable & Sendable> {
    private var held: Set<Key> = []
    private var waiters: [Key: [CheckedContinuation<Void, Never>]] = [:]

    func lock(_ key: Key) async {
        guard held.contains(key) else {
            held.insert(key)
            return
        }
        await withCheckedContinuation { waiters[key, default: []].append($0) }
    }

    /// Hands the key to the next waiter, or frees it.
    func unlock(_ key: Key) {
        guard var queue = waiters[key], !queue.isEmpty else {
            held.remove(key)
            return
        }
        let next = queue.removeFirst()
        waiters[key] = queue.isEmpty ? nil : queue
        next.resume()
    }

    nonisolated func withLock<T: Sendable>(_ key: Key, _ body: @Sendable () async throws -> T) async throws -> T {
        await lock(key)
        do {
            let result = try await body()
            await unlock(key)
            return result
        } catch {
            await unlock(key)
            throw error
        }
    }
}
