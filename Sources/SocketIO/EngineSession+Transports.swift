/// Per-transport bookkeeping of a session: which polling requests may run, and the
/// polling → WebSocket upgrade.
extension EngineSession {
    /// Why a polling request was refused.
    enum PollingRefusal: Error {
        /// The session closed meanwhile: answer as for an unknown sid.
        case closed
        /// Wrong transport, or an overlapping request: `400 Bad request`.
        case badRequest
    }

    fileprivate enum Claim {
        case granted(probing: Bool)
        case refused(PollingRefusal)
        case overlap
    }

    /// Claims the GET slot. Returns whether the session is probing a WebSocket upgrade (the
    /// poll must then return at once).
    func beginPoll() throws(PollingRefusal) -> Bool {
        let claim = state.withLock { state -> Claim in
            if state.closed { return .refused(.closed) }
            guard state.transport == .polling else { return .refused(.badRequest) }
            if case .done = state.upgrade { return .refused(.badRequest) }
            if state.pollInProgress { return .overlap }
            state.pollInProgress = true
            if case .probing = state.upgrade { return .granted(probing: true) }
            return .granted(probing: false)
        }
        return try resolve(claim)
    }

    func endPoll() {
        state.withLock { $0.pollInProgress = false }
    }

    /// Claims the POST slot; overlapping POSTs close the session like overlapping GETs.
    func beginPost() throws(PollingRefusal) {
        let claim = state.withLock { state -> Claim in
            if state.closed { return .refused(.closed) }
            guard state.transport == .polling else { return .refused(.badRequest) }
            if case .done = state.upgrade { return .refused(.badRequest) }
            if state.postInProgress { return .overlap }
            state.postInProgress = true
            return .granted(probing: false)
        }
        _ = try resolve(claim)
    }

    fileprivate func resolve(_ claim: Claim) throws(PollingRefusal) -> Bool {
        switch claim {
        case .granted(let probing):
            return probing
        case .refused(let refusal):
            throw refusal
        case .overlap:
            // The protocol treats overlapping requests of one kind as a broken client.
            close(reason: .transportError("overlapping polling requests"))
            throw .badRequest
        }
    }

    func endPost() {
        state.withLock { $0.postInProgress = false }
    }

    // MARK: Upgrade

    /// Starts probing a WebSocket for this polling session. `signal` is finished when the
    /// upgrade completes or the session closes. Returns `false` if the session cannot upgrade
    /// (not polling, already upgrading or upgraded, closed).
    func beginUpgrade(signal: AsyncStream<Void>.Continuation) -> Bool {
        state.withLock { state in
            guard !state.closed, state.transport == .polling, case .none = state.upgrade else { return false }
            state.upgrade = .probing(signal: signal)
            return true
        }
    }

    /// The client probed (`2probe`): release the pending GET so the client can pause polling.
    func probeReceived() {
        queue.releaseWaiter()
    }

    /// The client sent `5`: from now on the WebSocket carries the session.
    func completeUpgrade() -> Bool {
        let signal = state.withLock { state -> AsyncStream<Void>.Continuation? in
            guard !state.closed, case .probing(let signal) = state.upgrade else { return nil }
            state.upgrade = .done
            state.transport = .websocket
            return signal
        }
        guard let signal else { return false }
        queue.releaseWaiter()
        signal.yield()
        signal.finish()
        return true
    }

    /// The probing WebSocket went away before `5`: keep polling.
    func abortUpgrade() {
        let signal = state.withLock { state -> AsyncStream<Void>.Continuation? in
            guard case .probing(let signal) = state.upgrade else { return nil }
            state.upgrade = .none
            return signal
        }
        signal?.finish()
    }
}
