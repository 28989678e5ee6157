import Foundation

/// What a run reads: the state of one event's user and chat, as it was before the run.
///
/// The runtime never writes through a view: it returns its writes in a `RunOutcome`.
/// The server loads a `StateSnapshot` for each event (`StateReads` says what to load);
/// dry-run, tests and replay read a store that takes outcomes one after another.
public protocol StateView {
    /// How many messages the user had sent before this event.
    func inboundCount(userID: String) -> Int
    /// The chat's auto mode, or nil when the chat has never been seen.
    func autoMode(source: ChatSource, userID: String) -> Bool?
    /// Per-user markers: first history fetch of the day, once-per-user periods.
    func hasMarker(userID: String, key: String, period: String) -> Bool
    /// Which user a message forwarded to the staff group belongs to.
    func userForGroupMessage(_ groupMessageID: Int64) -> String?
    /// Experiments: the sticky variant, the first exposure, and whether the user converted.
    func assignment(experiment: String, userID: String) -> String?
    func firstExposure(experiment: String, userID: String) -> (variant: String, at: Date)?
    func hasConverted(experiment: String, userID: String) -> Bool
}

/// A view that also takes each run's outcome, for runs one after another in one process:
/// dry-run, flow tests and replay (`SequentialRunner`). The server commits outcomes to
/// its database instead.
public protocol FlowStateStore: StateView, AnyObject {
    /// Keeps what a run decided; the next run reads it.
    func apply(_ outcome: RunOutcome)
    /// Remembers which user a message forwarded to the staff group belongs to (the
    /// server's outbox records these as messages reach the group; local runs hand out ids).
    func saveGroupForward(groupMessageID: Int64, userID: String, at: Date)
}

/// A message as stored in a user's history.
public struct StoredMessage: Sendable, Equatable {
    public enum Direction: String, Sendable {
        /// From the user.
        case user
        /// From staff or an automatic action.
        case support
    }

    public var userID: String
    public var source: ChatSource
    public var direction: Direction
    public var text: String
    public var media: MediaKind
    public var at: Date
    /// The flow whose action sent it; nil for inbound messages.
    public var flow: String?
    /// Where the message's photo is served (the server's `/uploads/...`), when it has one;
    /// for a file the server did not keep (an Instagram voice note or document), where its
    /// channel keeps it.
    public var photoURL: String?
    /// The message's id on its channel (Telegram's `message_id`, Brevo's message id), when
    /// it came from one; the `/api` shows it as `platformMessageId`. A message sent on a
    /// channel has none when stored: the outbox notes it on the row once sent.
    public var platformMessageID: String?
    /// Who sent it, when a sender named themselves (`senderName` of `POST /api/messages`,
    /// the staff member's Telegram name for a reply from the group, Brevo's agent name).
    public var senderName: String?
    /// Who wrote it: the customer, the AI, a flow, or staff (`senderName` says who).
    public var author: Author
    /// What a voice or audio message said, when a flow transcribed it (`transcribe`).
    public var transcript: String?
    /// Where a voice or audio message's file is, as its channel keeps it
    /// (`AudioAttachment.location`: `telegram-file:<file_id>`, or an https URL), so the inbox
    /// can play it.
    public var audioLocation: String?

    /// Who wrote a message, as the inbox shows it; stored as its raw value in `messages.author`,
    /// so the raw values never change.
    public enum Author: String, Sendable, CaseIterable {
        /// The customer (every message of `direction` user).
        case customer
        /// A flow's reply whose text used the AI's answer (`{{answer}}` after `ask_assistant`).
        case assistant
        /// A flow's own text: a greeting, a canned reply.
        case flow
        /// A person: a staff reply from the Telegram group, Brevo's inbox or the `/api`.
        case staff

        /// What a message was written by when nothing more is known: the customer for
        /// incoming messages, a flow when one sent it, else staff. Also how the migration
        /// classified messages stored before authors were.
        public static func inferred(direction: Direction, flow: String?) -> Author {
            direction == .user ? .customer : flow == nil ? .staff : .flow
        }
    }

    /// `author` defaults to what `direction` and `flow` tell (`Author.inferred`); a run
    /// that knows better (an AI answer) says so.
    public init(
        userID: String, source: ChatSource, direction: Direction, text: String, media: MediaKind = .none, at: Date, flow: String? = nil,
        photoURL: String? = nil, platformMessageID: String? = nil, senderName: String? = nil, author: Author? = nil
    ) {
        self.author = author ?? Author.inferred(direction: direction, flow: flow)
        self.userID = userID
        self.source = source
        self.direction = direction
        self.text = text
        self.media = media
        self.at = at
        self.flow = flow
        self.photoURL = photoURL
        self.platformMessageID = platformMessageID
        self.senderName = senderName
    }
}
