import Flows

/// Where the server's runs read their state and commit their outcome: SQLite
/// (`ReplyflowDatabase`) or PostgreSQL (`PostgresRunStore`), chosen once at start-up.
///
/// The server keeps each chat's inputs in order within its own process; `withChat` is what
/// keeps them one at a time across processes sharing the database. Between the snapshot a
/// run reads and the commit of its outcome no other run of the chat may commit, or two
/// instances would both see "not greeted today" and both greet.
public protocol RunStore: Sendable {
    /// Runs `body` while `chat` is held against every other process on the database, and
    /// lends it the chat's reads and commit. SQLite, one process per file, holds nothing.
    func withChat<Result>(_ chat: String, _ body: (any ChatRunAccess) async throws -> Result) async throws -> Result

    /// Whether an input was handled already, read without holding its chat (a webhook's
    /// early check, before it downloads what a redelivery would not need).
    func isHandled(_ key: IdempotencyKey) async throws -> Bool

    /// The user a message forwarded to the staff group belongs to (a staff reply's chat,
    /// looked up before the chat is held).
    func userForGroupMessage(_ groupMessageID: Int64) async throws -> String?

    /// Whether runs commit what they show live (`RunRecord.live`) for every server of the
    /// database to read (`SharedLiveFeed`); false for a store only one server uses.
    var sharesLiveEvents: Bool { get }
}

extension RunStore {
    public var sharesLiveEvents: Bool { false }
}

/// The store could not be reached for a run's reads or its chat (PostgreSQL down or
/// restarting, no pooled connection in time, a connection lost mid-run): nothing of the run
/// is stored, and its input can be handled again (the server answers 503).
public struct RunStoreUnavailable: Error, CustomStringConvertible {
    public var underlying: any Error

    public init(underlying: any Error) {
        self.underlying = underlying
    }

    public var description: String { "the database cannot be reached: \(underlying)" }
}

/// A held chat's reads and commit (see `RunStore.withChat`); valid only inside `withChat`.
public protocol ChatRunAccess: Sendable {
    /// Whether an input was handled already (its key committed).
    func isHandled(_ key: IdempotencyKey) async throws -> Bool

    /// The state a run reads, and the id of the user's newest app-chat message when asked.
    func snapshot(for reads: StateReads, latestAppMessage: Bool) async throws -> (StateSnapshot, Int64?)

    /// Writes one run in one transaction; nil (and nothing written) when its key is there.
    func commit(_ record: RunRecord) async throws -> CommitReceipt?
}

/// SQLite: one server per database file (`ServingLock`), whose lanes already hold each chat.
extension ReplyflowDatabase: RunStore, ChatRunAccess {
    public func withChat<Result>(_ chat: String, _ body: (any ChatRunAccess) async throws -> Result) async throws -> Result {
        try await body(self)
    }
}
