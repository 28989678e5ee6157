import Flows
import Foundation

/// One committed live entry as a server reads it back: its id (its position in the feed:
/// the same on every server, in commit order) and what it shows, joined to the message and
/// chat as they are now.
public struct LiveFeedEvent: Sendable, Equatable {
    public enum Body: Sendable, Equatable {
        /// A message, with its chat.
        case message(ConversationMessage, Conversation)
        case chat(Conversation)
        /// A socket.io `new_message` for a user's room (`LiveEntry.room`).
        case room(userID: String, item: String)
        /// An entry whose message or chat is gone (erased since): it keeps its place in
        /// the order and shows nothing.
        case gone
    }

    public var id: Int64
    public var body: Body

    public init(id: Int64, body: Body) {
        self.id = id
        self.body = body
    }
}

/// The live entries the runs of every server committed (`RunRecord.live`), for each server
/// to show its own stream clients and socket.io rooms. Ids grow in commit order: a reader
/// that has everything up to an id never sees an older one appear later.
public protocol SharedLiveFeed: Sendable {
    /// Gives the entries committed since the last pass their ids, in commit order (a reader
    /// sees an entry once it is numbered). Any server may call it; passes do not overlap.
    /// False when another pass was under way (it rings the doorbell when it is done).
    @discardableResult
    func number() async throws -> Bool
    /// Numbered entries after `id`, oldest first, at most `limit`.
    func events(after id: Int64, limit: Int) async throws -> [LiveFeedEvent]
    /// The newest id given, 0 when none was.
    func newestID() async throws -> Int64
    /// The oldest entry's id still kept, nil when there is none (entries older than a
    /// reader's cursor were trimmed while it was away: it missed them).
    func oldestID() async throws -> Int64?
    /// Calls `ring` after each numbering pass that gave entries ids, on any server, until
    /// the task is cancelled; reconnects by itself, and rings once on each (re)connection,
    /// since passes in between rang nobody. A ring is a hint: read from the cursor.
    func listen(_ ring: @escaping @Sendable () -> Void) async
    /// Deletes entries committed before `date`; returns how many.
    func trim(before date: Date) async throws -> Int
}
