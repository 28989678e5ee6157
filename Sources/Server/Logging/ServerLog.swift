import Foundation
import Logging

/// Where log lines go: standard error for `replyflow serve`, a buffer in tests.
public final class LogOutput: TextOutputStream, Sendable {
    private let writeLine: @Sendable (String) -> Void

    public init(_ write: @escaping @Sendable (String) -> Void) {
        writeLine = write
    }

    public func write(_ string: String) {
        writeLine(string)
    }

    /// Standard error, one `write` per line (lines of concurrent tasks do not interleave).
    public static let standardError = LogOutput { line in
        FileHandle.standardError.write(Data(line.utf8))
    }
}

/// The server's log handler: `format`'s, behind the secret redaction every line passes.
public enum ServerLog {
    public static func handler(label: String, format: LogFormat, redactor: SecretRedactor, output: LogOutput = .standardError) -> any LogHandler {
        let inner: any LogHandler =
            switch format {
            case .text: StreamLogHandler(label: label, stream: output, metadataProvider: nil)
            case .json: JSONLogHandler(label: label, output: output)
            }
        return RedactingLogHandler(wrapping: inner, redactor: redactor)
    }

    /// The logger `replyflow serve` logs with.
    public static func logger(for configuration: ServerConfiguration, output: LogOutput = .standardError) -> Logger {
        let redactor = SecretRedactor(configuration: configuration)
        var logger = Logger(label: "replyflow") { label in handler(label: label, format: configuration.logFormat, redactor: redactor, output: output) }
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        return logger
    }
}
