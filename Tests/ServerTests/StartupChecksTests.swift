import Foundation
import TestSupport
import Testing

@testable import Server

#if canImport(Glibc)
    import Glibc
#endif

/// Settings that used to be accepted and then failed on every request (or were retried
/// forever) stop start-up with one line naming the setting.
@Suite("Start-up checks", .machineShare)
struct StartupChecksTests {
    func startupError(_ harness: ServerHarness) -> String? {
        do {
            _ = try harness.build()
            return nil
        } catch {
            return "\(error)"
        }
    }

    func configurationError(_ environment: [String: String]) -> String? {
        do {
            _ = try ServerConfiguration.load(environment: environment)
            return nil
        } catch {
            return "\(error)"
        }
    }

    // MARK: Settings read from the environment

    @Test func trustedProxiesMustBeIPAddresses() throws {
        let error = try #require(configurationError(["TRUSTED_PROXIES": "garbage"]))
        #expect(error == "TRUSTED_PROXIES: garbage is not an IP address (a comma-separated list such as 127.0.0.1, ::1)")
        #expect(configurationError(["TRUSTED_PROXIES": "10.0.0.1, proxy.local"])?.contains("proxy.local is not an IP address") == true)
        // Written as NIO writes a peer's address, so the two compare equal.
        let configuration = try ServerConfiguration.load(environment: ["TRUSTED_PROXIES": "10.0.0.1, 0:0:0:0:0:0:0:1"])
        #expect(configuration.trustedProxies == ["10.0.0.1", "::1"])
    }

    @Test func theTelegramWebhookURLMustBeAURL() throws {
        #expect(
            configurationError(["TELEGRAM_WEBHOOK_URL": "not-a-url"])
                == "TELEGRAM_WEBHOOK_URL=not-a-url is not a URL (it is where Telegram sends updates: https://YOUR-HOST/webhooks/telegram)")
        #expect(configurationError(["TELEGRAM_WEBHOOK_URL": "ftp://bot.example/webhooks/telegram"])?.contains("TELEGRAM_WEBHOOK_URL=") == true)
        #expect(configurationError(["TELEGRAM_WEBHOOK_URL": "https:///webhooks/telegram"])?.contains("TELEGRAM_WEBHOOK_URL=") == true)
        let configuration = try ServerConfiguration.load(environment: ["TELEGRAM_WEBHOOK_URL": "https://bot.example/webhooks/telegram"])
        #expect(configuration.telegramWebhookURL == "https://bot.example/webhooks/telegram")
        #expect(configurationError(["TELEGRAM_API_URL": "api.telegram.org"])?.contains("TELEGRAM_API_URL=api.telegram.org is not an http(s) URL") == true)
        #expect(configurationError(["FCM_API_URL": "fcm"])?.contains("FCM_API_URL=fcm is not an http(s) URL") == true)
    }

    @Test func theShutdownGracePeriodIsASetting() throws {
        #expect(try ServerConfiguration.load(environment: [:]).shutdownGraceSeconds == 10)
        #expect(try ServerConfiguration.load(environment: ["SHUTDOWN_GRACE_SECONDS": "3"]).shutdownGraceSeconds == 3)
        #expect(configurationError(["SHUTDOWN_GRACE_SECONDS": "ten"])?.contains("SHUTDOWN_GRACE_SECONDS=ten is not a whole number between 0 and 3600") == true)
    }

    // MARK: Files and folders

    @Test func anUploadsFolderThatIsAFileIsRefused() throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        let file = harness.directory + "/uploads-file"
        try "not a folder".write(toFile: file, atomically: true, encoding: .utf8)
        harness.configuration.uploadsDirectory = file
        #expect(startupError(harness) == "UPLOADS_DIR=\(file) is a file, not a folder: it must be a folder the server can write photos to")
    }

    /// Root writes through permission bits, so `/proc` (which no one can create files in)
    /// stands for a read-only folder here; the permission case runs when not root.
    @Test func anUploadsFolderThatCannotBeWrittenIsRefused() throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        #if os(Linux)
            harness.configuration.uploadsDirectory = "/proc"
            let error = try #require(startupError(harness))
            #expect(error.hasPrefix("UPLOADS_DIR=/proc cannot be written ("), "\(error)")
            #expect(!error.contains("\n") && !error.contains("Error Domain"))
        #endif
        guard getuid() != 0 else { return }
        let readOnly = harness.directory + "/read-only"
        try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o555])
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: readOnly) }
        harness.configuration.uploadsDirectory = readOnly
        #expect(startupError(harness) == "UPLOADS_DIR=\(readOnly) cannot be written (Permission denied): it must be a folder the server can write photos to")
    }

    @Test func theWriteProbeLeavesNothingBehind() throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let folder = harness.directory + "/fresh/uploads"
        try WritableFolder.prepare(folder)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        #expect(throws: WritableFolder.Problem.self) { try WritableFolder.probe(harness.directory + "/no-such-folder") }
    }

    @Test func aServiceAccountPathThatIsAFolderIsRefused() throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        harness.configuration.fcmServiceAccountPath = harness.directory
        #expect(
            startupError(harness)
                == "FCM_SERVICE_ACCOUNT_PATH=\(harness.directory): service account \(harness.directory): is a folder, not the service account's JSON key file")
    }

    @Test func anotherApplicationsDatabaseIsRefusedAndLeftAsItWas() throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        // The Flask relay's support_bot.db, in short.
        let foreign = harness.directory + "/support_bot.db"
        try SQLiteWriter.run(
            foreign,
            "CREATE TABLE messages (id INTEGER PRIMARY KEY, user_id TEXT, message TEXT); CREATE TABLE devices (user_id TEXT, fcm_token TEXT); INSERT INTO messages VALUES (1, 'u', 'hi');"
        )
        harness.configuration.databasePath = foreign
        let error = try #require(startupError(harness))
        #expect(
            error
                == "DATABASE_PATH=\(foreign): this file is another application's SQLite database (tables devices, messages) and not Replyflow's: point it at a new file, Replyflow creates it"
        )
        #expect(
            try SQLiteReader.rows(foreign, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").map { $0.first as? String } == [
                "devices", "messages",
            ])
        #expect(try SQLiteReader.rows(foreign, "PRAGMA journal_mode").first?.first as? String == "delete")

        let text = harness.directory + "/notes.txt"
        try String(repeating: "not a database\n", count: 100).write(toFile: text, atomically: true, encoding: .utf8)
        harness.configuration.databasePath = text
        #expect(startupError(harness) == "DATABASE_PATH=\(text): this file is not a SQLite database")
    }

    @Test func replyflowsOwnDatabaseOpensAgain() throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        _ = try harness.build()
        _ = try harness.build()
    }
}

/// Writes to a SQLite file from a python3 child process: a file made by another program.
enum SQLiteWriter {
    static func run(_ path: String, _ script: String) throws {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()", path, script]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw SQLiteReader.Failure(description: "python3 sqlite3 failed on \(path)") }
    }
}

/// The same mistakes given to the real `replyflow serve`: a non-zero exit and one line
/// naming the setting, not a stack of migration SQL or a Foundation error code.
@Suite("Start-up lines", .serialized, .machineShare)
struct StartupLineTests {
    static let cases = ["TRUSTED_PROXIES", "TELEGRAM_WEBHOOK_URL", "UPLOADS_DIR", "FCM_SERVICE_ACCOUNT_PATH", "DATABASE_PATH"]

    @Test(.timeLimit(.minutes(5)), arguments: cases) func aBadSettingIsOneLineAndAFailedExit(setting: String) async throws {
        let binary = try #require(ServerProcess.binary, "build replyflow first (swift build)")
        let harness = try ServerHarness()
        defer { harness.remove() }
        var environment = ServerProcess.environment(harness, port: try ServerProcess.freePort())
        switch setting {
        case "TRUSTED_PROXIES": environment[setting] = "garbage"
        case "TELEGRAM_WEBHOOK_URL": environment[setting] = "not-a-url"
        case "UPLOADS_DIR":
            environment[setting] = harness.directory + "/uploads-file"
            try "a file".write(toFile: harness.directory + "/uploads-file", atomically: true, encoding: .utf8)
        case "FCM_SERVICE_ACCOUNT_PATH": environment[setting] = harness.directory
        default:
            environment[setting] = harness.directory + "/support_bot.db"
            try SQLiteWriter.run(harness.directory + "/support_bot.db", "CREATE TABLE messages (id INTEGER PRIMARY KEY, user_id TEXT, message TEXT);")
        }
        let server = try ServerProcess(binary: binary, environment: environment, logPath: harness.directory + "/server.log")
        defer { server.kill() }
        _ = try await waitFor(timeout: .seconds(20)) { server.isRunning ? nil : true }
        #expect(server.terminationStatus != 0)
        let lines = server.logTail(lines: 200).split(separator: "\n").map(String.init)
        let naming = lines.filter { $0.contains(setting) }
        #expect(naming.count == 1, "\(lines)")
        #expect(naming.first == lines.last, "the line naming \(setting) is not the last: \(lines)")
        #expect(!lines.contains { $0.contains("CREATE") || $0.contains("Error Domain") || $0.contains("listening") }, "\(lines)")
    }
}
