/// Engine.IO v4 heartbeat: the server pings, the client answers.
extension EngineSession {
    /// Starts the next ping cycle: ping after `pingInterval` (counted from the last pong), then
    /// close the session if no pong arrives within `pingTimeout`. One task per cycle; a pong
    /// starts the next cycle.
    func scheduleNextPing() {
        let interval = configuration.pingInterval
        let timeout = configuration.pingTimeout
        let task = Task { [weak self] in
            guard (try? await Task.sleep(for: interval)) != nil, let sequence = self?.sendPing() else { return }
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            self?.pongDeadlinePassed(sequence: sequence)
        }
        let previous = state.withLock { state -> Task<Void, Never>? in
            if state.closed {
                task.cancel()
                return nil
            }
            defer { state.heartbeat = task }
            return state.heartbeat
        }
        // A previous cycle can only still be running in its pong-timeout sleep; stop it early.
        previous?.cancel()
    }

    private func sendPing() -> UInt64? {
        let sequence = state.withLock { state -> UInt64? in
            guard !state.closed else { return nil }
            state.pingSequence += 1
            state.pendingPing = (state.pingSequence, .now)
            return state.pingSequence
        }
        guard let sequence else { return nil }
        return send([EnginePacket.ping("").frame]) ? sequence : nil
    }

    func pongReceived() {
        let wasPending = state.withLock { state -> Bool in
            defer { state.pendingPing = nil }
            return state.pendingPing != nil && !state.closed
        }
        // An unsolicited pong must not start a second ping cycle.
        if wasPending { scheduleNextPing() }
    }

    private func pongDeadlinePassed(sequence: UInt64) {
        let expired = state.withLock { $0.pendingPing?.sequence == sequence && !$0.closed }
        if expired {
            logger.debug("Engine.IO ping timeout")
            close(reason: .pingTimeout)
        }
    }

    /// Closes the session if its pong is overdue. Polling requests call this first, so a client
    /// that comes back after `pingInterval + pingTimeout` sees the session gone even if the
    /// timer task has not run yet. Returns `true` if the session is (now) closed.
    func closeIfPongOverdue() -> Bool {
        let (closed, overdue) = state.withLock { state -> (Bool, Bool) in
            guard let pending = state.pendingPing else { return (state.closed, false) }
            return (state.closed, ContinuousClock.now - pending.sentAt >= configuration.pingTimeout)
        }
        if closed { return true }
        if overdue {
            close(reason: .pingTimeout)
            return true
        }
        return false
    }
}
