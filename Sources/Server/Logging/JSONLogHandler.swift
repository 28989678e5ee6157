import Foundation
import Logging

/// One JSON object a line (`LOG_FORMAT=json`), for log collectors:
/// `{"label":…,"level":…,"message":…,"metadata":{…},"source":…,"time":…}`, keys sorted,
/// `time` in ISO 8601 with milliseconds (UTC). Metadata keeps its nesting (dictionaries
/// and arrays); every leaf is a string. Serialised by `JSONSerialization`, so any text in a
/// message or a value (quotes, newlines, non-ASCII) stays one valid line.
public struct JSONLogHandler: LogHandler {
    private let label: String
    private let output: LogOutput
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info

    public init(label: String, output: LogOutput) {
        self.label = label
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    private static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, provided in provided } }
        if let own = event.metadata { merged.merge(own) { _, line in line } }
        if let error = event.error { merged["error"] = .string("\(error)") }
        let object: [String: Any] = [
            "time": Date().formatted(Self.timeFormat),
            "level": event.level.rawValue,
            "message": event.message.description,
            "label": label,
            "source": event.source,
            "metadata": merged.mapValues(Self.json),
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        output.write(String(decoding: data, as: UTF8.self) + "\n")
    }

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .dictionary(let dictionary): dictionary.mapValues(json)
        case .array(let array): array.map(json)
        }
    }
}
