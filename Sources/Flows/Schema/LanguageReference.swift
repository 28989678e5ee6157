import Foundation

/// The flow language's vocabulary with a meaning and an example for each word, for the
/// flow studio's side panel. Built from `Vocabulary`, `TemplateCatalogue` and the schema's
/// own help texts, so it lists exactly what the checker accepts.
public enum LanguageReference {
    /// One word of the language.
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var meaning: String
        /// A line of YAML (or a template tag) showing it in use.
        public var example: String
    }

    /// A group of words: triggers, conditions, actions, template variables.
    public struct Section: Sendable, Equatable {
        public var title: String
        public var entries: [Entry]
    }

    public static var sections: [Section] {
        [
            Section(
                title: "Triggers (on:)",
                entries: Vocabulary.triggerNames.map { Entry(name: $0, meaning: triggerMeanings[$0] ?? "", example: "on: \($0)") }),
            Section(title: "Conditions (if:)", entries: Vocabulary.conditionKeys.map { entry($0) }),
            Section(title: "Actions (do:)", entries: Vocabulary.actionNames.filter { $0 != "if" }.map { entry($0, asListItem: true) }),
            Section(
                title: "Template variables",
                entries: TemplateCatalogue.allNames.map { Entry(name: $0, meaning: variableMeanings[$0] ?? "", example: "{{\($0)}}") }),
        ]
    }

    private static func entry(_ key: String, asListItem: Bool = false) -> Entry {
        let help = FlowSchema.help[key]
        let value = help.map { yamlInline($0.example) } ?? ""
        let line = value.isEmpty ? "\(key): {}" : "\(key): \(value)"
        return Entry(name: key, meaning: help?.description ?? "", example: asListItem ? "- " + line : line)
    }

    /// A JSON value written the way a flow file writes it on one line.
    static func yamlInline(_ value: Any) -> String {
        switch value {
        case is NSNull: return "{}"
        case let text as String:
            return text.hasPrefix("'") || text.allSatisfy({ $0.isLetter || $0.isNumber || "-_".contains($0) }) ? text : "\"\(text)\""
        case let flag as Bool: return flag ? "true" : "false"
        case let number as Int: return String(number)
        case let list as [Any]: return "[" + list.map(yamlInline).joined(separator: ", ") + "]"
        case let map as [String: Any]: return "{ " + map.keys.sorted().map { "\($0): \(yamlInline(map[$0]!))" }.joined(separator: ", ") + " }"
        default: return "\(value)"
        }
    }

    static let triggerMeanings: [String: String] = [
        "app_message": "A message from the mobile app.",
        "telegram_reply": "A staff member replied in the support group to a forwarded message.",
        "history_first_fetch_today": "The app opened the chat for the first time today (no message).",
        "instagram_dm": "An Instagram direct message (through Brevo).",
        "telegram_message": "A message in a private chat with the bot.",
    ]

    static let variableMeanings: [String: String] = [
        "user.id": "The user's id on their channel.",
        "user.name": "The user's name, when known; {{#user.name}}...{{/user.name}} shows text only then.",
        "message.text": "The message's text.",
        "message.media": "The attachment's kind: photo, voice, ... (empty without one).",
        "chat.source": "app, telegram or instagram.",
        "chat.auto_mode": "on or off.",
        "today": "Today's date in the configured time zone.",
        "transcript": "What transcribe heard in a voice or audio message.",
        "answer": "The assistant's answer, after ask_assistant.",
        "variant": "The experiment variant the user is in.",
    ]
}
