import Foundation

/// The dry-run event format, field by field, before validation. One type for both the
/// YAML event files and replay's JSON lines, so both accept exactly the same events.
public struct EventRecord: Sendable, Equatable, Encodable {
    public var kind: String?
    public var at: String?
    public var user: User?
    public var chat: Chat?
    public var message: Message?
    public var stubs: Stubs?

    public init() {}

    public struct User: Sendable, Equatable, Encodable {
        public var id: String?
        public var name: String?

        public init(id: String? = nil, name: String? = nil) {
            self.id = id
            self.name = name
        }
    }

    public struct Chat: Sendable, Equatable, Encodable {
        public var auto_mode: Bool?

        public init(auto_mode: Bool? = nil) {
            self.auto_mode = auto_mode
        }
    }

    public struct Message: Sendable, Equatable, Encodable {
        public var text: String?
        public var media: String?
        public var reply_to: Int64?

        public init(text: String? = nil, media: String? = nil, reply_to: Int64? = nil) {
            self.text = text
            self.media = media
            self.reply_to = reply_to
        }
    }

    public struct Stubs: Sendable, Equatable, Encodable {
        public var answer: String?
        public var transcript: String?
        public var assistant_fails: Bool?
        public var transcription_fails: Bool?

        public init(answer: String? = nil, transcript: String? = nil, assistant_fails: Bool? = nil, transcription_fails: Bool? = nil) {
            self.answer = answer
            self.transcript = transcript
            self.assistant_fails = assistant_fails
            self.transcription_fails = transcription_fails
        }
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
            return .failure(
                Problem(field: "kind", message: "an event needs a 'kind'", hint: "one of: " + EventKind.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        guard let kind = EventKind(rawValue: kindText) else {
            if kindText.lowercased() == Trigger.historyFirstFetchToday.rawValue {
                // The trigger's name, where the event that causes it is meant.
                return .failure(
                    Problem(
                        field: "kind", message: "'\(kindText)' is a trigger a flow listens to, not an event kind",
                        hint: "did you mean 'history_fetch'? the first history_fetch of a day fires history_first_fetch_today"))
            }
            return .failure(
                Problem(
                    field: "kind", message: "unknown event kind '\(kindText)'", hint: Suggestions.hint(for: kindText, in: EventKind.allCases.map(\.rawValue))))
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
                return .failure(
                    Problem(
                        field: "message.media", message: "'\(mediaText)' is not a media kind",
                        hint: Suggestions.hint(for: mediaText, in: MediaKind.allCases.map(\.rawValue))))
            }
            media = parsed
        }
        let userID = user?.id
        if kind != .telegramReply || message?.reply_to == nil {
            guard let userID, !userID.isEmpty else {
                let hint = kind == .telegramReply ? "or give message.reply_to: the forwarded message staff answered" : "for example user: { id: \"42\" }"
                return .failure(Problem(field: "user.id", message: "the event needs a user id", hint: hint))
            }
        }
        return .success(
            InboundEvent(
                kind: kind, at: date, userID: userID, userName: user?.name, autoMode: chat?.auto_mode,
                text: message?.text, media: media, replyTo: message?.reply_to,
                stubs: InboundEvent.Stubs(
                    answer: stubs?.answer, transcript: stubs?.transcript,
                    assistantFails: stubs?.assistant_fails ?? false, transcriptionFails: stubs?.transcription_fails ?? false
                )
            ))
    }
}

extension EventRecord {
    /// JSONSerialization gives booleans as NSNumbers whose type code is `c` (char).
    static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    /// Reads a parsed JSON object (replay's lines), checking each field's type.
    /// Unknown keys are ignored here, so files written for a newer version still replay.
    public init(json object: Any) throws(Problem) {
        guard let root = object as? [String: Any] else {
            throw Problem(field: "", message: "a line must be a JSON object (an event)", hint: nil)
        }
        // The expected type is tried before `NSNull`: on Linux, asking whether a Swift
        // string or dictionary `is NSNull` bridges it to a Foundation object first, which
        // cost more than parsing the line.
        func part(_ key: String) throws(Problem) -> [String: Any]? {
            guard let value = root[key] else { return nil }
            if let object = value as? [String: Any] { return object }
            if value is NSNull { return nil }
            throw Problem(field: key, message: "'\(key)' must be an object", hint: nil)
        }
        func text(_ object: [String: Any]?, _ key: String, _ path: String) throws(Problem) -> String? {
            guard let value = object?[key] else { return nil }
            if let text = value as? String { return text }
            if value is NSNull { return nil }
            throw Problem(field: path, message: "'\(path)' must be a text", hint: nil)
        }
        func flag(_ object: [String: Any]?, _ key: String, _ path: String) throws(Problem) -> Bool? {
            guard let value = object?[key] else { return nil }
            if let number = value as? NSNumber, Self.isBoolean(number) { return number.boolValue }
            if let text = value as? String, ["on", "off", "true", "false"].contains(text.lowercased()) { return ["on", "true"].contains(text.lowercased()) }
            if value is NSNull { return nil }
            throw Problem(field: path, message: "'\(path)' must be true or false (or \"on\"/\"off\")", hint: nil)
        }
        kind = try text(root, "kind", "kind")
        at = try text(root, "at", "at")
        if let user = try part("user") {
            var id: String?
            if let value = user["id"] {
                if let text = value as? String {
                    id = text
                } else if let number = value as? NSNumber, !Self.isBoolean(number), let whole = Int64(exactly: number.doubleValue) {
                    id = String(whole)
                } else if !(value is NSNull) {
                    throw Problem(field: "user.id", message: "'user.id' must be a text or a whole number", hint: nil)
                }
            }
            self.user = User(id: id, name: try text(user, "name", "user.name"))
        }
        if let chat = try part("chat") { self.chat = Chat(auto_mode: try flag(chat, "auto_mode", "chat.auto_mode")) }
        if let message = try part("message") {
            var replyTo: Int64?
            if let value = message["reply_to"] {
                if let number = value as? NSNumber, !Self.isBoolean(number), let whole = Int64(exactly: number.doubleValue) {
                    replyTo = whole
                } else if !(value is NSNull) {
                    throw Problem(field: "message.reply_to", message: "'message.reply_to' must be a whole number", hint: nil)
                }
            }
            self.message = Message(text: try text(message, "text", "message.text"), media: try text(message, "media", "message.media"), reply_to: replyTo)
        }
        if let stubs = try part("stubs") {
            self.stubs = Stubs(
                answer: try text(stubs, "answer", "stubs.answer"), transcript: try text(stubs, "transcript", "stubs.transcript"),
                assistant_fails: try flag(stubs, "assistant_fails", "stubs.assistant_fails"),
                transcription_fails: try flag(stubs, "transcription_fails", "stubs.transcription_fails")
            )
        }
    }
}
