import Flows
import Foundation

/// Stored inbound events as replay events, from the rows of
/// `ReplyflowDatabase.inboundEventsSQL` in their order, on either database.
public struct InboundEvents {
    /// One row as the query selects it.
    public struct Row: Sendable {
        public var kind: String
        public var userID: String
        public var at: Double
        public var text: String?
        public var media: String?
        public var platformMessageID: String?
        public var transcript: String?
        public var answer: String?
        public var name: String?

        public init(
            kind: String, userID: String, at: Double, text: String?, media: String?, platformMessageID: String?, transcript: String?, answer: String?,
            name: String?
        ) {
            self.kind = kind
            self.userID = userID
            self.at = at
            self.text = text
            self.media = media
            self.platformMessageID = platformMessageID
            self.transcript = transcript
            self.answer = answer
            self.name = name
        }
    }

    private var previous: (userID: String, at: Double, platformID: String)?

    public init() {}

    /// The event `row` is, or nil when it is a further photo of the message before it
    /// (stored right after the first, no text, the same id on the channel): one event.
    public mutating func event(_ row: Row) -> EventRecord? {
        if let previous, let platformID = row.platformMessageID, previous.userID == row.userID, previous.at == row.at,
            previous.platformID == platformID, row.media == MediaKind.photo.rawValue, row.text?.isEmpty != false
        {
            return nil
        }
        previous = row.platformMessageID.map { (row.userID, row.at, $0) }
        var record = EventRecord()
        record.kind = row.kind
        record.at = Timestamp.format(Date(timeIntervalSince1970: row.at))
        record.user = EventRecord.User(id: row.userID, name: row.name)
        if row.kind != EventKind.historyFetch.rawValue {
            record.message = EventRecord.Message(text: row.text ?? "", media: row.media == MediaKind.none.rawValue ? nil : row.media)
        }
        if row.answer != nil || row.transcript != nil { record.stubs = EventRecord.Stubs(answer: row.answer, transcript: row.transcript) }
        return record
    }
}
