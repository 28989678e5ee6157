import Flows
import Foundation
import GRDB
import Storage
import TestSupport
import Testing

@testable import ReplyflowCLI

/// `replyflow customers erase` on a database file, as the library and as the executable.
@Suite("CLI: customers erase", .machineShare)
struct CustomersCommandTests {
    struct Files {
        let directory = NSTemporaryDirectory() + "replyflow-customers-" + UUID().uuidString
        var database: String { directory + "/state.sqlite" }
        var uploads: String { directory + "/uploads" }

        /// A Telegram customer with one photo message, and an app customer.
        init() throws {
            try FileManager.default.createDirectory(atPath: directory + "/uploads", withIntermediateDirectories: true)
            try Data("jpeg".utf8).write(to: URL(fileURLWithPath: directory + "/uploads/tgphoto.jpg"))
            let database = try ReplyflowDatabase(path: directory + "/state.sqlite")
            try database.writer.write { db in
                for (user, source, photo) in [("555000111", "telegram", "/uploads/tgphoto.jpg"), ("app-user-9", "app", nil)] {
                    try db.execute(
                        sql:
                            "INSERT INTO messages (user_id, source, direction, text, media, created_at, photo_url, author) VALUES (?, ?, 'user', 'hi', 'photo', 0, ?, 'customer')",
                        arguments: [user, source, photo])
                    try db.execute(sql: "INSERT INTO markers (user_id, key, period, created_at) VALUES (?, 'greeting', 'ever', 0)", arguments: [user])
                }
            }
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    @Test("erase prints the count of each kind removed and says Telegram's group keeps its copies; the other customer stays")
    func erasePrintsCounts() async throws {
        let files = try Files()
        defer { files.remove() }
        let database = try ReplyflowDatabase(path: files.database)
        let (console, output) = Console.capturing()
        try await CustomersCommand.erase(source: .telegram, id: "555000111", database: database, uploadsDirectory: files.uploads, console: console)
        let lines = output.out.split(separator: "\n").map(String.init)
        #expect(lines.first == "Erased the telegram customer 555000111:")
        #expect(lines.contains { $0.hasPrefix("  messages ") && $0.hasSuffix(" 1") })
        #expect(lines.contains { $0.hasPrefix("  uploads ") && $0.hasSuffix(" 1") })
        #expect(lines.contains { $0.hasPrefix("  markers ") && $0.hasSuffix(" 1") })
        #expect(lines.contains { $0.hasPrefix("  devices ") && $0.hasSuffix(" 0") })
        #expect(output.out.contains("delete them in Telegram"))
        #expect(!FileManager.default.fileExists(atPath: files.uploads + "/tgphoto.jpg"))
        let left = try await database.writer.read { db in try String.fetchAll(db, sql: "SELECT user_id FROM messages") }
        #expect(left == ["app-user-9"])
        let audit = try await database.auditEntries(page: 1, limit: 10)
        #expect(audit.map(\.actor) == ["command line"])
        #expect(!audit[0].detail.contains("555000111"))
    }

    @Test("an unknown customer is one clear error and removes nothing")
    func unknownCustomer() async throws {
        let files = try Files()
        defer { files.remove() }
        let database = try ReplyflowDatabase(path: files.database)
        let (console, _) = Console.capturing()
        let error = await #expect(throws: CommandFailure.self) {
            try await CustomersCommand.erase(source: .instagram, id: "555000111", database: database, uploadsDirectory: files.uploads, console: console)
        }
        #expect(error?.description == "nothing is stored for the instagram customer 555000111 (check --source and --id); nothing was removed")
        #expect(FileManager.default.fileExists(atPath: files.uploads + "/tgphoto.jpg"))
    }

    /// Runs the executable; returns its exit status, standard output and standard error.
    func run(_ arguments: [String]) throws -> (Int32, String, String) {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: ExecutableTests.binary)
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin"]
        let out = Pipe()
        let error = Pipe()
        process.standardOutput = out
        process.standardError = error
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stdout, stderr)
    }

    @Test(
        "the executable: erases by --db and --uploads-dir, and answers bad input with one line and a non-zero exit",
        .enabled(if: FileManager.default.isExecutableFile(atPath: ExecutableTests.binary), "build the replyflow executable first"))
    func executable() throws {
        let files = try Files()
        defer { files.remove() }
        let common = ["--db", files.database, "--uploads-dir", files.uploads, "--env-file", files.directory + "/none.env"]

        let (badSource, _, sourceError) = try run(["customers", "erase", "--source", "fax", "--id", "1"] + common)
        #expect(badSource == 2)
        #expect(sourceError.contains("--source must be app, telegram or instagram"), "\(sourceError)")

        let (badID, _, idError) = try run(["customers", "erase", "--source", "telegram", "--id", "@someone"] + common)
        #expect(badID == 1)
        #expect(idError == "error: \"@someone\" is not a telegram customer id: a Telegram chat id is a number\n")

        let (missing, _, missingError) = try run(["customers", "erase", "--source", "app", "--id", "nobody"] + common)
        #expect(missing == 1)
        #expect(missingError.split(separator: "\n").count == 1 && missingError.contains("nothing is stored for the app customer nobody"))

        let (status, stdout, stderr) = try run(["customers", "erase", "--source", "app", "--id", "app-user-9"] + common)
        #expect(status == 0, "\(stderr)")
        #expect(stdout.hasPrefix("Erased the app customer app-user-9:\n"))
        #expect(stdout.contains("  messages "))
    }
}
