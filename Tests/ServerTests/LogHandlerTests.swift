import Foundation
import Logging
import Synchronization
import Testing

@testable import Server
import TestSupport

/// Lines written by the server's log handlers, kept for a test to read.
final class CapturedLog: Sendable {
    private let text = Mutex("")

    var output: LogOutput { LogOutput { [self] line in text.withLock { $0 += line } } }
    var all: String { text.withLock { $0 } }
    var lines: [String] { all.split(separator: "\n").map(String.init) }
}

/// The log handlers of `replyflow serve`: the text and JSON formats, and redaction.
@Suite("Log handlers", .machineShare)
struct LogHandlerTests {
    @Test("text lines carry the logger's metadata, sorted, with the line's own winning, as StreamLogHandler writes them")
    func textLines() {
        let captured = CapturedLog()
        var logger = Logger(label: "replyflow") { ServerLog.handler(label: $0, format: .text, redactor: SecretRedactor(secrets: []), output: captured.output) }
        logger.logLevel = .info
        logger[metadataKey: "hb.request.id"] = "abc"
        logger[metadataKey: "user"] = "1"
        logger.info("sent", metadata: ["user": "2", "chat": "7"])
        logger.debug("not written")
        #expect(captured.all.hasSuffix(" info replyflow: chat=7 hb.request.id=abc user=2 [ServerTests] sent\n"))
        #expect(!captured.all.contains("not written"))

        var copy = logger
        copy[metadataKey: "extra"] = "x"
        copy.notice("again")
        logger.notice("original")
        #expect(captured.all.contains("notice replyflow: extra=x hb.request.id=abc user=1 [ServerTests] again\n"))
        #expect(captured.all.contains("notice replyflow: hb.request.id=abc user=1 [ServerTests] original\n"))
    }

    @Test("JSON lines are one object each: time in ISO 8601, level, message, label, source and nested metadata, whatever the text holds")
    func jsonLines() throws {
        let captured = CapturedLog()
        var logger = Logger(label: "replyflow") { ServerLog.handler(label: $0, format: .json, redactor: SecretRedactor(secrets: []), output: captured.output) }
        logger.logLevel = .debug
        logger[metadataKey: "hb.request.id"] = "abc"
        logger.warning(
            "a \"quoted\"\nmessage, Анна 😀 \\ </script>",
            metadata: ["count": "\(3)", "nested": ["list": ["a", "b"], "key": "value"], "hb.request.id": "line"])
        logger.trace("not written")
        let lines = captured.lines
        #expect(lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(object["level"] as? String == "warning")
        #expect(object["message"] as? String == "a \"quoted\"\nmessage, Анна 😀 \\ </script>")
        #expect(object["label"] as? String == "replyflow")
        #expect(object["source"] as? String == "ServerTests")
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect(metadata["count"] as? String == "3")
        #expect(metadata["hb.request.id"] as? String == "line")
        #expect((metadata["nested"] as? [String: Any])?["list"] as? [String] == ["a", "b"])
        let time = try #require(object["time"] as? String)
        let parsed = try Date(time, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        #expect(abs(parsed.timeIntervalSinceNow) < 60)
        #expect(time.hasSuffix("Z"))
    }

    @Test("configured secrets and credential shapes are taken out of messages, metadata and errors, in both formats")
    func redaction() throws {
        let token = "7000000001:AAHsecretBotTokenValue_abcdefghijklmn"
        var configuration = ServerConfiguration()
        configuration.botToken = token
        configuration.apiKey = "api-key-distinct-3141"
        configuration.brevoWebhookSecret = "brevo-hook-secret-2718"
        let redactor = SecretRedactor(configuration: configuration)
        struct Failure: Error, CustomStringConvertible { var description: String }
        for format in LogFormat.allCases {
            let captured = CapturedLog()
            var logger = Logger(label: "replyflow") { ServerLog.handler(label: $0, format: format, redactor: redactor, output: captured.output) }
            logger.logLevel = .trace
            logger[metadataKey: "key"] = "api-key-distinct-3141"
            logger.error(
                "POST https://api.telegram.org/bot\(token)/getUpdates failed",
                error: Failure(description: "HTTP 404: Cannot POST /bot\(token)/sendMessage"),
                metadata: ["path": "/webhooks/brevo/brevo-hook-secret-2718", "nested": ["a": ["Authorization: Bearer ya29.a0AfH6SMBxyz-secret"]]])
            logger.info(
                "other token 1234567:AAHanotherBotTokenOfSomeoneElse1234567 and a key",
                metadata: ["json": #"{"private_key":"-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----\n","access_token":"tok-123456"}"#])
            logger.notice("cookie", metadata: ["cookie": "replyflow_session=abcdefabcdef; other=1", "form": "username=ann&password=hunter2hunter2"])
            let text = captured.all
            for secret in [
                token, "AAHsecretBotTokenValue", "api-key-distinct-3141", "brevo-hook-secret-2718", "ya29.a0AfH6SMBxyz", "AAHanotherBotTokenOfSomeoneElse",
                "MIIEvQ", "tok-123456", "abcdefabcdef", "hunter2hunter2",
            ] {
                #expect(!text.contains(secret), "\(format): \(secret) was logged:\n\(text)")
            }
            #expect(text.contains("[redacted]"))
            #expect(text.contains("getUpdates failed"), "the rest of the line stays")
            if format == .json {
                for line in captured.lines { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "not JSON: \(line)") }
            }
        }
    }

    @Test("a secret too short to search for is left alone rather than masking every such letter pair")
    func shortSecrets() {
        #expect(SecretRedactor(secrets: ["ab"]).redact("about abc") == "about abc")
        #expect(SecretRedactor(secrets: ["abcdef"]).redact("xabcdefx") == "x[redacted]x")
        #expect(SecretRedactor(secrets: []).redact("assertion=eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl&x=1") == "assertion=[redacted]&x=1")
        #expect(SecretRedactor(secrets: []).redact("base_url=https://bob:pa55word@ai.local/v1") == "base_url=https://bob:[redacted]@ai.local/v1")
    }
}
