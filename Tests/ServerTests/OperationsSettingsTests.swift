import Foundation
import Testing

@testable import Server
import TestSupport

/// `LOG_FORMAT` and `RETENTION_DAYS_*`: defaults, values, and one clear line for a bad one.
@Suite("Configuration: log format and retention", .machineShare)
struct OperationsSettingsTests {
    @Test("by default the log is text and everything is kept forever")
    func defaults() throws {
        let configuration = try ServerConfiguration.load(environment: [:])
        #expect(configuration.logFormat == .text)
        #expect(configuration.retention == RetentionPolicy())
        #expect(!configuration.retention.isActive)
    }

    @Test("the settings are read, from the environment or .env")
    func values() throws {
        let configuration = try ServerConfiguration.load(
            environment: ["LOG_FORMAT": "JSON", "RETENTION_DAYS_TRACES": "30"], dotEnv: ["RETENTION_DAYS_MESSAGES": "365"])
        #expect(configuration.logFormat == .json)
        #expect(configuration.retention == RetentionPolicy(traceDays: 30, messageDays: 365))
        #expect(try ServerConfiguration.load(environment: ["LOG_FORMAT": "text", "RETENTION_DAYS_TRACES": ""]).retention.traceDays == nil)
    }

    @Test("the settings are documented where the others are")
    func documented() throws {
        let root = ServerHarness.repositoryRoot
        let example = try String(contentsOfFile: root + "/.env.example", encoding: .utf8)
        let privacy = try String(contentsOfFile: root + "/docs/privacy.md", encoding: .utf8)
        let readme = try String(contentsOfFile: root + "/README.md", encoding: .utf8)
        for setting in ["LOG_FORMAT=", "RETENTION_DAYS_TRACES=", "RETENTION_DAYS_MESSAGES="] { #expect(example.contains("\n" + setting), "\(setting)") }
        for setting in ["RETENTION_DAYS_TRACES", "RETENTION_DAYS_MESSAGES"] { #expect(privacy.contains(setting) && readme.contains(setting)) }
        #expect(readme.contains("LOG_FORMAT=json") && readme.contains("replyflow customers erase"))
    }

    @Test("a bad value is one line naming the setting")
    func badValues() {
        for (key, value) in [
            ("LOG_FORMAT", "xml"), ("RETENTION_DAYS_TRACES", "0"), ("RETENTION_DAYS_TRACES", "a month"), ("RETENTION_DAYS_MESSAGES", "-5"),
            ("RETENTION_DAYS_MESSAGES", "36501"),
        ] {
            let error = #expect(throws: ServerConfiguration.Failure.self) { try ServerConfiguration.load(environment: [key: value]) }
            #expect(error?.description.hasPrefix("\(key)=\(value) ") == true, "\(error?.description ?? "")")
            #expect(error?.description.contains("\n") == false)
        }
    }
}
