import Logging
import PostgresNIO

extension PostgresConnection {
    /// Returns when the connection has closed (PostgreSQL ended the session: at once) or a
    /// check of it failed or went unanswered for `answerWithin` (a network gone quiet),
    /// or when the task is cancelled. Checks every `checkEvery`. A connection that failed a
    /// check is closed, so PostgreSQL drops its session locks as soon as it notices.
    ///
    /// Whoever holds session locks on the connection stops acting on them when this returns.
    func watchUntilLost(checkEvery: Duration, answerWithin: Duration, logger: Logger) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await self.closeFuture.get() }
            group.addTask { await self.checkUntilFailed(every: checkEvery, answerWithin: answerWithin, logger: logger) }
            await group.next()
            group.cancelAll()
            // Ends the wait for the close; the caller is done with the connection either way.
            try? await close()
        }
    }

    private func checkUntilFailed(every interval: Duration, answerWithin timeout: Duration, logger: Logger) async {
        while !Task.isCancelled && !isClosed {
            do { try await Task.sleep(for: interval) } catch { return }
            let answered = await withTaskGroup(of: Bool.self) { group in
                group.addTask { (try? await self.queryIfOpen("SELECT 1", logger: logger).collect()) != nil }
                group.addTask {
                    try? await Task.sleep(for: timeout)
                    return false
                }
                let first = await group.next() ?? false
                // A check still waiting fails once the connection is closed.
                if !first { try? await close() }
                group.cancelAll()
                return first
            }
            if !answered { return }
        }
    }
}
