import Foundation

/// The state the runtime reads and writes. The runtime does no database access of its own;
/// `Storage` implements this over SQLite, and `InMemoryStateStore` for quick unit tests.
public protocol FlowStateStore: AnyObject {
    /// Records that a user wrote (or was written to) and returns how many inbound messages
    /// the user had sent before this one.
    func noteUser(id: String, name: String?, at: Date, inbound: Bool) -> Int
    /// The chat's auto mode, or nil when the chat has never been seen.
    func autoMode(source: ChatSource, userID: String) -> Bool?
    func setAutoMode(_ on: Bool, source: ChatSource, userID: String, at: Date)
    /// Per-user markers: greeted today, once-per-user, first history fetch of the day.
    func hasMarker(userID: String, key: String, period: String) -> Bool
    func setMarker(userID: String, key: String, period: String, at: Date)
    /// Stores a message in the user's history and returns its id.
    @discardableResult func storeMessage(_ message: StoredMessage) -> Int64
    /// Remembers which user a message forwarded to the staff group belongs to.
    func saveGroupForward(groupMessageID: Int64, userID: String, at: Date)
    func userForGroupMessage(_ groupMessageID: Int64) -> String?
    /// Experiments: sticky assignment, exposures and conversions.
    func assignment(experiment: String, userID: String) -> String?
    func saveAssignment(experiment: String, userID: String, variant: String, at: Date)
    func recordExposure(experiment: String, variant: String, userID: String, at: Date)
    func firstExposure(experiment: String, userID: String) -> (variant: String, at: Date)?
    /// Records a conversion; false when this user already converted in this experiment.
    func recordConversion(experiment: String, variant: String, userID: String, at: Date) -> Bool
    /// Keeps what a run did, for `replyflow` and for people asking "why did it do that?".
    func recordTrace(_ result: RunResult, event: InboundEvent)
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
    /// it came from one; the `/api` shows it as `platformMessageId`.
    public var platformMessageID: String?
    /// Who sent it, when a sender named themselves (`senderName` of `POST /api/messages`).
    public var senderName: String?

    public init(
        userID: String, source: ChatSource, direction: Direction, text: String, media: MediaKind = .none, at: Date, flow: String? = nil,
        photoURL: String? = nil, platformMessageID: String? = nil, senderName: String? = nil
    ) {
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
