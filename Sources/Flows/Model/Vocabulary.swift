/// The events a flow can listen to (`on:`).
public enum Trigger: String, Sendable, CaseIterable, Codable {
    case appMessage = "app_message"
    case telegramReply = "telegram_reply"
    case historyFirstFetchToday = "history_first_fetch_today"
    case instagramDM = "instagram_dm"
    case telegramMessage = "telegram_message"

    /// Whether the event carries a message (text, media); `history_first_fetch_today` does not.
    public var carriesMessage: Bool { self != .historyFirstFetchToday }
}

/// The channel a conversation lives on.
public enum ChatSource: String, Sendable, CaseIterable, Codable {
    case app
    case telegram
    case instagram
}

/// What kind of attachment a message has.
public enum MediaKind: String, Sendable, CaseIterable, Codable {
    case none
    case photo
    case voice
    case audio
    case video
    case document
    case sticker
}

/// How often `once_per_user` lets a flow run for the same user.
public enum OncePeriod: String, Sendable, CaseIterable {
    case hour
    case day
    case week
    case ever
}

/// Names of the language's keys, in one place so the loader, the hints and the schema agree.
public enum Vocabulary {
    public static let flowKeys = ["name", "description", "on", "priority", "enabled", "once_per_user", "if", "do", "else", "experiment"]
    public static let conditionKeys = [
        "auto_mode", "media", "source", "text_contains", "text_matches", "user_name", "time", "first_message", "variant", "any", "all", "not",
    ]
    public static let actionNames = ["forward_to_group", "push", "greet", "reply", "transcribe", "ask_assistant", "broadcast", "set_auto_mode", "stop", "if"]
    public static let experimentKeys = ["key", "goal", "variants"]
    public static let goalKeys = ["on", "within"]
    public static let variantKeys = ["name", "weight", "do"]
    public static let timeKeys = ["between", "days", "timezone"]
    public static let mediaValues = MediaKind.allCases.map(\.rawValue) + ["any"]
    public static let triggerNames = Trigger.allCases.map(\.rawValue)
    public static let sourceNames = ChatSource.allCases.map(\.rawValue)
    public static let dayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    /// Parameters each action accepts in its long form.
    public static let actionParameters: [String: [String]] = [
        "forward_to_group": ["text"],
        "push": ["title", "text"],
        "greet": ["text"],
        "reply": ["text"],
        "transcribe": [],
        "ask_assistant": ["prompt", "on_failure"],
        "broadcast": [],
        "set_auto_mode": ["value"],
        "stop": [],
    ]
}
