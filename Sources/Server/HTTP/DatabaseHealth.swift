import PostgresStorage
import Storage
import Synchronization

/// `/health`'s word on the database, answered at once: the last probe's result, refreshed
/// in the background at most once a second, one probe at a time. A liveness probe must not
/// wait on a pool whose connections busy runs hold, or pile probes into its queue. Only
/// the first call waits (up to a second) for a first answer.
final class DatabaseHealth: Sendable {
    private struct State {
        var reachable: Bool?
        var checkedAt: ContinuousClock.Instant?
        var probing = false
    }

    private let database: any ServerDatabaseStatus
    /// The shared database's own watch, when there is one: its answer is used as it is.
    private let reachability: PostgresReachability?
    private let state = Mutex(State())

    init(database: any ServerDatabaseStatus, reachability: PostgresReachability? = nil) {
        self.database = database
        self.reachability = reachability
    }

    func reachable() async -> Bool {
        if let known = reachability?.isReachable { return known }
        let (known, probe) = state.withLock { state -> (Bool?, Bool) in
            let stale = state.checkedAt.map { $0.duration(to: .now) > .seconds(1) } ?? true
            let probe = stale && !state.probing
            if probe { state.probing = true }
            return (state.reachable, probe)
        }
        if let known {
            if probe { Task { await self.probe() } }
            return known
        }
        // No answer yet: the first caller waits for one, up to a second.
        return await FirstAnswer.within(.seconds(1), late: false) { await self.probe() }
    }

    /// Reads once, records the result and gives it back.
    @discardableResult
    private func probe() async -> Bool {
        let reachable: Bool
        do {
            try await database.probeReads()
            reachable = true
        } catch {
            reachable = false
        }
        state.withLock { state in
            state.reachable = reachable
            state.checkedAt = .now
            state.probing = false
        }
        return reachable
    }
}
