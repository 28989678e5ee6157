import Flows

/// What a run shows live, committed with it where several servers share the database
/// (PostgreSQL's `live_events`): every server reads the same entries in commit order,
/// under the same ids, and shows them to its own `/api/stream` clients and socket.io rooms.
/// A store that does not share them (SQLite: one server) gets none; that server publishes
/// from memory after the commit.
public enum LiveEntry: Sendable, Equatable {
    /// The record's message at this index (the commit turns it into the message's id);
    /// the stream shows the message, then its chat.
    case message(index: Int)
    /// A chat whose state changed without a message (auto mode switched).
    case chat(source: ChatSource, chatID: String)
    /// A socket.io `new_message` for a user's room: the history item as JSON.
    case room(userID: String, item: String)
}
