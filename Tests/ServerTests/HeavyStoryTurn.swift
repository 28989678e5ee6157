import Synchronization

/// The suite's heavy stories (the inbox in Chromium, schemathesis' fuzzing) each keep both
/// cores of a small machine busy for a minute or more. Beside the rest of the suite they
/// made tests with second-long deadlines miss them, and beside each other they slowed
/// both: each takes its turn here, then waits for a quiet machine.
final class HeavyStoryTurn: Sendable {
    static let shared = HeavyStoryTurn()

    private struct State {
        var taken = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Waits for the turn; call `release()` when done (in a `defer`).
    func take() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state in
                if state.taken {
                    state.waiting.append(continuation)
                    return false
                }
                state.taken = true
                return true
            }
            if resumeNow { continuation.resume() }
        }
    }

    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiting.isEmpty {
                state.taken = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
