import Mustache

/// The values a template can read at one point of a run.
///
/// Missing values are left out of the dictionary rather than set to empty strings, so
/// `{{#user.name}}...{{/user.name}}` is skipped when the name is unknown.
public struct TemplateValues {
    public var userID: String
    public var userName: String?
    public var messageText: String?
    public var messageMedia: MediaKind?
    public var chatSource: ChatSource
    public var autoMode: Bool
    public var transcript: String?
    public var answer: String?
    public var variant: String?
    /// `YYYY-MM-DD` in the configured time zone.
    public var today: String

    /// The text a plain `{{name}}` tag renders for a dotted name ("" when missing).
    func text(of name: String) -> String {
        switch name {
        case "user.id": return userID
        case "user.name": return userName ?? ""
        case "message.text": return messageText ?? ""
        case "message.media": return messageMedia.map { $0 == .none ? "" : $0.rawValue } ?? ""
        case "chat.source": return chatSource.rawValue
        case "chat.auto_mode": return autoMode ? "on" : "off"
        case "transcript": return transcript ?? ""
        case "answer": return answer ?? ""
        case "variant": return variant ?? ""
        case "today": return today
        default: return ""
        }
    }
}

extension TemplateValues: MustacheParent {
    /// Looks values up on demand instead of building nested dictionaries for every render.
    /// Missing or empty values are nil, so sections over them are skipped.
    public func child(named name: String) -> Any? {
        switch name {
        case "user", "message", "chat": return TemplateObject(values: self, name: name)
        default:
            let text = self.text(of: name)
            return text.isEmpty ? nil : text
        }
    }
}

/// `user`, `message` or `chat` as a template sees it.
struct TemplateObject: MustacheParent {
    let values: TemplateValues
    let name: String

    func child(named field: String) -> Any? {
        let text = values.text(of: name + "." + field)
        return text.isEmpty ? nil : text
    }
}

/// Which template variables exist, and where.
public enum TemplateCatalogue {
    /// Objects and their fields.
    static let objects: [String: [String]] = [
        "user": ["id", "name"],
        "message": ["text", "media"],
        "chat": ["source", "auto_mode"],
    ]
    /// Top-level plain values.
    static let scalars = ["today", "transcript", "answer", "variant"]

    /// Every variable, dotted, for docs and hints.
    public static let allNames: [String] =
        objects.keys.sorted().flatMap { object in objects[object]!.map { "\(object).\($0)" } } + scalars
}
