import Logging

/// swift-log's `StreamLogHandler` (standard error, same line format), except that the
/// logger's metadata is formatted when a line is written rather than whenever it changes.
///
/// `StreamLogHandler` formats its metadata on every change, and Hummingbird gives each
/// request's logger a fresh request id: that formatting cost about 2% of a
/// `send_message`'s CPU, for lines that at the usual log level are never written.
struct DeferredMetadataLogHandler: LogHandler {
    private var stream: StreamLogHandler
    var metadata: Logger.Metadata = [:]

    init(label: String) {
        self.init(writingTo: StreamLogHandler.standardError(label: label))
    }

    /// Writes through `stream` (tests pass one over their own output stream).
    init(writingTo stream: StreamLogHandler) {
        self.stream = stream
    }

    var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { stream.metadataProvider }
        set { stream.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        // The line's own metadata wins over the logger's, as in StreamLogHandler.
        if !metadata.isEmpty { event.metadata = metadata.merging(event.metadata ?? [:]) { _, line in line } }
        stream.log(event: event)
    }
}
