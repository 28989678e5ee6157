/// A job that only one server of a database may do at a time.
public enum LeaderRole: String, Sendable, CaseIterable {
    /// Long polling Telegram's `getUpdates`: two pollers of one bot get 409 Conflict, and
    /// each would take updates the other never sees.
    case telegramPoller = "telegram.poller"
    /// Looking for Telegram updates left in the inbox with nobody to handle them
    /// (`StaleInboxSweeper`). A role of its own: a second contender for the poller's role
    /// in the same instance could take the lead from the poller, and nobody would poll.
    case telegramInboxSweep = "telegram.inbox-sweep"
    /// Deleting what the instances no longer need (old live events): once is enough, and
    /// several at once would only wait on each other's rows.
    case housekeeping = "housekeeping"
    /// Deleting rows older than `RETENTION_DAYS_*`, in batches.
    case retention = "retention"
}

/// Which of the servers sharing a database does a job only one of them may do.
public protocol Leadership: Sendable {
    /// Runs `body` while this server leads `role`: waits until it leads, runs `body`, and
    /// cancels `body` the moment the lead is lost, then waits to lead again. Returns when
    /// the calling task is cancelled, or when `body` returns by itself (giving up the lead).
    func whileLeading(_ role: LeaderRole, _ body: @escaping @Sendable () async -> Void) async
}

/// The leadership of a database only one server uses (SQLite: its serving lock keeps a
/// second server out), which therefore always leads.
public struct SoleServer: Leadership {
    public init() {}

    public func whileLeading(_ role: LeaderRole, _ body: @escaping @Sendable () async -> Void) async {
        await body()
    }
}
