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

    var dictionary: [String: Any] {
        var user: [String: Any] = ["id": userID]
        if let userName, !userName.isEmpty { user["name"] = userName }
        var values: [String: Any] = [
            "user": user,
            "chat": ["source": chatSource.rawValue, "auto_mode": autoMode ? "on" : "off"] as [String: Any],
            "today": today,
        ]
        var message: [String: Any] = [:]
        if let messageText, !messageText.isEmpty { message["text"] = messageText }
        if let messageMedia, messageMedia != .none { message["media"] = messageMedia.rawValue }
        values["message"] = message
        if let transcript { values["transcript"] = transcript }
        if let answer { values["answer"] = answer }
        if let variant { values["variant"] = variant }
        return values
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
