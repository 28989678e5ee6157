/// How `replyflow serve` writes its log (`LOG_FORMAT`).
public enum LogFormat: String, Sendable, CaseIterable {
    /// One readable line per entry (swift-log's stream format), the default.
    case text
    /// One JSON object per line, for log collectors (see `JSONLogHandler`).
    case json

    /// The setting's value, or a one-line error naming it.
    static func parse(_ raw: String) throws -> LogFormat {
        guard let format = LogFormat(rawValue: raw.lowercased()) else {
            throw ServerConfiguration.Failure(description: "LOG_FORMAT=\(raw) must be text or json")
        }
        return format
    }
}
