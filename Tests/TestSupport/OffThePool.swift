import Foundation

/// Runs blocking work (waiting for a child process, reading its output to the end) on a
/// thread of its own and awaits its result. Swift's cooperative pool has as many threads
/// as cores (two here): blocking one stalls every test's server with it, so no async test
/// waits for a child on the pool.
public func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try work() })
        }
    }
}
