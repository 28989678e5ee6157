/// Where a server's live events come from: its own commits (`LivePublisher`, alone on a
/// SQLite file) or the feed every server of a PostgreSQL database commits to
/// (`SharedLivePublisher`). Either fills `log` for `/api/stream` and sends socket.io rooms
/// their messages.
protocol LiveSource: Sendable {
    var log: LiveEventLog { get }
    /// Publishes until `finish`.
    func run() async
    func finish()
    /// Returns once every event up to `id` that exists is in `log`, or it is known not to
    /// exist (bounded in time): a stream resuming from an id another server gave must not
    /// be told its id is unknown merely because this server has not read that far yet.
    func catchUp(after id: Int64) async
}
