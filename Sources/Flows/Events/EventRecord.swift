import Foundation

/// The dry-run event format, field by field, before validation. One type for both the
/// YAML event files and replay's JSON lines, so both accept exactly the same events.
public struct EventRecord: Decodable, Sendable {
    public var kind: String?
    public var at: String?
    public var user: User?
    public var chat: Chat?
    public var message: Message?
    public var stubs: Stubs?

    public struct User: Decodable, Sendable {
        public var id: FlexibleString?
        public var name: String?
    }

    public struct Chat: Decodable, Sendable {
        public var auto_mode: FlexibleBool?
    }

    public struct Message: Decodable, Sendable {
        public var text: String?
        public var media: String?
        public var reply_to: Int64?
    }

    public struct Stubs: Decodable, Sendable {
        public var answer: String?
        public var transcript: String?
        public var assistant_fails: Bool?
        public var transcription_fails: Bool?
    }

    /// Keys of each part, for the YAML reader's unknown-key check and the docs.
    static let keys = ["kind", "at", "user", "chat", "message", "stubs"]
    static let userKeys = ["id", "name"]
    static let chatKeys = ["auto_mode"]
    static let messageKeys = ["text", "media", "reply_to"]
    static let stubKeys = ["answer", "transcript", "assistant_fails", "transcription_fails"]

    /// A problem with one field, named by its dotted path.
    public struct Problem: Error, Sendable {
        public var field: String
        public var message: String
        public var hint: String?
    }

    /// Validates the record into an event. `now` stands in for a missing `at`.
    public func makeEvent(now: Date) -> Result<InboundEvent, Problem> {
        guard let kindText = kind else {
            return .failure(Problem(field: "kind", message: "an event needs a 'kind'", hint: "one of: " + EventKind.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        guard let kind = EventKind(rawValue: kindText) else {
            return .failure(Problem(field: "kind", message: "unknown event kind '\(kindText)'", hint: Suggestions.hint(for: kindText, in: EventKind.allCases.map(\.rawValue))))
        }
        var date = now
        if let at {
            guard let parsed = Timestamp.parse(at) else {
                return .failure(Problem(field: "at", message: "'\(at)' is not a date and time", hint: "write it as 2026-11-21T09:00:00+03:00"))
            }
            date = parsed
        }
        var media = MediaKind.none
        if let mediaText = message?.media {
            guard let parsed = MediaKind(rawValue: mediaText) else {
                return .failure(Problem(field: "message.media", message: "'\(mediaText)' is not a media kind", hint: Suggestions.hint(for: mediaText, in: MediaKind.allCases.map(\.rawValue))))
            }
            media = parsed
        }
        let userID = user?.id?.value
        if kind != .telegramReply || message?.reply_to == nil {
            guard let userID, !userID.isEmpty else {
                let hint = kind == .telegramReply ? "or give message.reply_to: the forwarded message staff answered" : "for example user: { id: \"42\" }"
                return .failure(Problem(field: "user.id", message: "the event needs a user id", hint: hint))
            }
        }
        return .success(InboundEvent(
            kind: kind, at: date, userID: userID, userName: user?.name, autoMode: chat?.auto_mode?.value,
            text: message?.text, media: media, replyTo: message?.reply_to,
            stubs: InboundEvent.Stubs(
                answer: stubs?.answer, transcript: stubs?.transcript,
                assistantFails: stubs?.assistant_fails ?? false, transcriptionFails: stubs?.transcription_fails ?? false
            )
        ))
    }
}

/// A user id may be written as a number or a text; it is always kept as text.
public struct FlexibleString: Decodable, Sendable {
    public var value: String
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            value = text
        } else if let number = try? container.decode(Int64.self) {
            value = String(number)
        } else {
            throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath, debugDescription: "expected a text or a whole number"))
        }
    }
}

/// Auto mode may be written `true`/`false` or `"on"`/`"off"`.
public struct FlexibleBool: Decodable, Sendable {
    public var value: Bool
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) {
            value = flag
        } else if let text = try? container.decode(String.self), ["on", "off", "true", "false"].contains(text.lowercased()) {
            value = ["on", "true"].contains(text.lowercased())
        } else {
            throw DecodingError.typeMismatch(Bool.self, .init(codingPath: decoder.codingPath, debugDescription: "expected on or off"))
        }
    }
}
