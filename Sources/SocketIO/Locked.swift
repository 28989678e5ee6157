import Foundation

/// A value guarded by a lock.
///
/// `Synchronization.Mutex` would be the natural choice, but it needs macOS 15 and the package
/// still declares macOS 14; `NSLock` is available everywhere and is a plain pthread mutex on Linux.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with exclusive access to the value. Never call back into user code or
    /// suspend inside `body`: the lock is not reentrant.
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
