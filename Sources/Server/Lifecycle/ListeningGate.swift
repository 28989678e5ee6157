import Synchronization

/// Opens once every address of the server is bound. What reaches outside at start-up
/// waits for it: a second `replyflow serve` that fails with "port in use" must not first
/// tell Telegram to drop the webhook (or poll in its place) of the server already running.
///
/// Opened by the applications' `onServerRunning`, so it stays shut where no server binds
/// (HummingbirdTesting's `.router` mode): what waits on it does not run there.
final class ListeningGate: Sendable {
    private struct State {
        var unbound: Int
        var waiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        var nextWaiter = 0
    }

    private let state: Mutex<State>

    /// `listeners`: how many addresses must be bound (the main port, and METRICS_PORT's).
    init(listeners: Int) {
        state = Mutex(State(unbound: listeners))
    }

    /// One address is bound; the last one opens the gate.
    func listening() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.unbound -= 1
            guard state.unbound <= 0 else { return [] }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the gate is open; throws `CancellationError` if cancelled first (the
    /// server failed to start, or stopped).
    func wait() async throws {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { state in
                    if state.unbound <= 0 { return .success(()) }
                    // Checked under the lock the cancellation handler takes: either it sees
                    // this waiter, or this sees the cancellation.
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[id] = waiter
                    return nil
                }
                if let outcome { waiter.resume(with: outcome) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(throwing: CancellationError())
        }
    }
}
