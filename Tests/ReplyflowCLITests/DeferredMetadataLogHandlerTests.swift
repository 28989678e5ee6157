import Logging
import Synchronization
import Testing

@testable import ReplyflowCLI

/// The server's log lines keep StreamLogHandler's format and metadata.
@Suite("Log handler") struct DeferredMetadataLogHandlerTests {
    final class Lines: TextOutputStream, Sendable {
        let text = Mutex("")
        func write(_ string: String) { text.withLock { $0 += string } }
    }

    @Test func linesCarryTheLoggersMetadataSortedAndTheLinesOwnWins() {
        let lines = Lines()
        var logger = Logger(label: "replyflow") { label in
            DeferredMetadataLogHandler(writingTo: StreamLogHandler(label: label, stream: lines, metadataProvider: nil))
        }
        logger.logLevel = .info
        logger[metadataKey: "hb.request.id"] = "abc"
        logger[metadataKey: "user"] = "1"
        logger.info("sent", metadata: ["user": "2", "chat": "7"])
        logger.debug("not written")
        let written = lines.text.withLock { $0 }
        #expect(written.hasSuffix(" info replyflow: chat=7 hb.request.id=abc user=2 [ReplyflowCLITests] sent\n"))
        #expect(!written.contains("not written"))

        var copy = logger
        copy[metadataKey: "extra"] = "x"
        copy.notice("again")
        logger.notice("original")
        #expect(lines.text.withLock { $0 }.contains("notice replyflow: extra=x hb.request.id=abc user=1 [ReplyflowCLITests] again\n"))
        #expect(lines.text.withLock { $0 }.contains("notice replyflow: hb.request.id=abc user=1 [ReplyflowCLITests] original\n"))
    }
}
