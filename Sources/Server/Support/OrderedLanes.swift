import Synchronization

/// Work one at a time per key, in the order it lined up; different keys side by side.
///
/// The engine runs each chat's inputs in its lane (a run reads its chat's state, waits on
/// the AI and commits before the chat's next input reads that state), and the Telegram
/// dispatcher hands each chat's updates out in order, while other chats go on.
///
/// Taking a place in line (`enter`) is synchronous, so callers that receive work in order
/// (an actor queuing updates) keep that order even though the waiting happens later.
final class OrderedLanes<Key: Hashable & Sendable>: Sendable {
    /// A place in one key's line.
    final class Turn: Sendable {
        fileprivate let lanes: OrderedLanes
        fileprivate let key: Key
        fileprivate let number: UInt64

        fileprivate init(lanes: OrderedLanes, key: Key, number: UInt64) {
            self.lanes = lanes
            self.key = key
            self.number = number
        }

        /// Returns once every turn ahead in this key's line has left.
        func wait() async {
            await lanes.wait(for: self)
        }

        /// Gives the key to the next turn in line. Call once, after `wait` returned.
        func leave() {
            lanes.leave(self)
        }
    }

    private struct Line {
        /// Turn numbers in order; the first holds the key.
        var order: [UInt64] = []
        /// Turns that are waiting for the key, by number.
        var waiting: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private struct State {
        var lines: [Key: Line] = [:]
        var nextNumber: UInt64 = 0
    }

    private let state = Mutex(State())

    init() {}

    /// Takes a place at the end of `key`'s line.
    func enter(_ key: Key) -> Turn {
        let number = state.withLock { state in
            state.nextNumber += 1
            state.lines[key, default: Line()].order.append(state.nextNumber)
            return state.nextNumber
        }
        return Turn(lanes: self, key: key, number: number)
    }

    /// Runs `body` once every earlier caller with the same key is done.
    nonisolated(nonsending) func run<T>(_ key: Key, _ body: () async throws -> T) async throws -> T {
        let turn = enter(key)
        await turn.wait()
        defer { turn.leave() }
        return try await body()
    }

    private func wait(for turn: Turn) async {
        let first = state.withLock { $0.lines[turn.key]?.order.first == turn.number }
        if first { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let firstNow = state.withLock { state in
                guard state.lines[turn.key]?.order.first != turn.number else { return true }
                state.lines[turn.key]?.waiting[turn.number] = continuation
                return false
            }
            if firstNow { continuation.resume() }
        }
    }

    private func leave(_ turn: Turn) {
        let next: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard var line = state.lines[turn.key], let index = line.order.firstIndex(of: turn.number) else { return nil }
            line.order.remove(at: index)
            guard let head = line.order.first else {
                state.lines[turn.key] = nil
                return nil
            }
            let continuation = index == 0 ? line.waiting.removeValue(forKey: head) : nil
            state.lines[turn.key] = line
            return continuation
        }
        next?.resume()
    }
}
