import Synchronization
import Testing

@testable import Server
import TestSupport

/// A value the test's concurrent closures share.
private final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result { value.withLock { body(&$0) } }
}

/// The lanes that keep each chat's inputs in order (the engine's runs, the Telegram
/// dispatcher's updates) while other chats go on.
@Suite("Ordered lanes", .machineShare)
struct OrderedLanesTests {
    struct Counts: Sendable {
        var now = 0
        var most = 0
    }

    @Test("turns of one key go in the order they lined up, whatever order their waiters start in", .timeLimit(.minutes(5)))
    func oneKeyGoesInLineOrder() async {
        let lanes = OrderedLanes<String>()
        let turns = (0..<50).map { _ in lanes.enter("chat") }
        let served = Shared<[Int]>([])
        await withTaskGroup(of: Void.self) { group in
            for (number, turn) in turns.enumerated().reversed() {
                group.addTask {
                    await turn.wait()
                    served.withLock { $0.append(number) }
                    turn.leave()
                }
            }
        }
        #expect(served.withLock { $0 } == Array(0..<50))
    }

    @Test("a key held by a slow run holds up no other key", .timeLimit(.minutes(5)))
    func otherKeysGoOn() async {
        let lanes = OrderedLanes<String>()
        let held = lanes.enter("waiting-on-the-AI")
        await held.wait()
        let queuedBehind = lanes.enter("waiting-on-the-AI")
        let other = lanes.enter("another chat")
        await other.wait()  // returns at once: nothing ahead of it in its own line
        other.leave()
        let behindServed = Shared(false)
        let behind = Task {
            await queuedBehind.wait()
            behindServed.withLock { $0 = true }
            queuedBehind.leave()
        }
        try? await Task.sleep(for: .milliseconds(50))
        #expect(!behindServed.withLock { $0 }, "a turn went ahead of the one holding its key")
        held.leave()
        await behind.value
        #expect(behindServed.withLock { $0 })
    }

    @Test("run() never lets two bodies of one key overlap", .timeLimit(.minutes(5)))
    func runIsExclusivePerKey() async throws {
        let lanes = OrderedLanes<Int>()
        let inside = Shared(Counts())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await lanes.run(7) {
                        inside.withLock {
                            $0.now += 1; $0.most = max($0.most, $0.now)
                        }
                        try await Task.sleep(for: .milliseconds(2))
                        inside.withLock { $0.now -= 1 }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(inside.withLock { $0.most } == 1)
    }
}
