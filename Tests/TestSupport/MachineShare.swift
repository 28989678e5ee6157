import Foundation
import Testing

/// Lets only a few tests that start servers, clients or child processes run at once.
///
/// Swift Testing starts every test of the process together. With some 130 servers
/// sharing two cores, each test's wall clock stretches by the work of all the others,
/// and a test's own deadline (a socket.io ping, a retry, "reached in time") passes while
/// it waits for a core. With this trait on a suite, its tests take a share of the machine
/// first: at most `width` run at once, the rest wait before their clocks start.
///
/// A `.timeLimit` counts that wait too (Swift Testing starts it before any scope): a
/// marked test's limit is 5 minutes, the whole suite's length, so it stops a hang without
/// failing a test for its turn in the queue.
public struct MachineShare: TestTrait, SuiteTrait, TestScoping {
    /// How many such tests run at once: enough to keep two cores busy while some wait
    /// on timers, few enough that none waits seconds for a core.
    public static let width = max(4, ProcessInfo.processInfo.activeProcessorCount * 4)

    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        // A test inside two marked suites takes one share, not two.
        if Self.held {
            try await function()
            return
        }
        let count = alone ? Self.width : 1
        // One whole-machine test at a time takes every share, so two never hold part each.
        if alone { await Self.solo.acquire() }
        for _ in 0..<count { await Self.shares.acquire() }
        defer {
            for _ in 0..<count { Self.shares.release() }
            if alone { Self.solo.release() }
        }
        try await Self.$held.withValue(true) { try await function() }
    }

    /// Takes the whole machine: no other marked test runs beside it (a story with several
    /// servers, a database and clients, whose load would stretch other tests' clocks).
    var alone = false

    @TaskLocal private static var held = false
    private static let shares = AsyncSemaphore(count: width)
    private static let solo = AsyncSemaphore(count: 1)
}

extension Trait where Self == MachineShare {
    /// The test (or every test of the suite) runs only while it holds a share of the
    /// machine; see `MachineShare`.
    public static var machineShare: Self { MachineShare() }

    /// The test (or every test of the suite) runs alone among the marked tests.
    public static var machineAlone: Self { MachineShare(alone: true) }
}

/// A counting semaphore whose waiters suspend instead of blocking a thread.
final class AsyncSemaphore: @unchecked Sendable {
    private let lock = NSLock()
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(count: Int) { available = count }

    func acquire() async {
        await withCheckedContinuation { continuation in
            lock.lock()
            if available > 0 {
                available -= 1
                lock.unlock()
                continuation.resume()
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }

    func release() {
        lock.lock()
        if waiters.isEmpty {
            available += 1
            lock.unlock()
        } else {
            let next = waiters.removeFirst()
            lock.unlock()
            next.resume()
        }
    }
}
