import Foundation
import Server
import Storage
import Testing

@testable import ReplyflowCLI
import TestSupport

/// `replyflow users`, called as a library on a database file, as the server would have it.
@Suite("CLI: users", .machineShare)
struct UsersCommandTests {
    /// bcrypt's least cost: the tests check the commands, not bcrypt's speed.
    let hasher = PasswordHasher(cost: 4)

    func database() throws -> (ReplyflowDatabase, String) {
        let directory = NSTemporaryDirectory() + "replyflow-users-" + UUID().uuidString
        let path = directory + "/state.sqlite"
        return (try ReplyflowDatabase(path: path), directory)
    }

    @Test("add makes an account whose bcrypt hash verifies, audited as the command line; list shows it")
    func addAndList() async throws {
        let (database, directory) = try database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (console, output) = Console.capturing()
        try await UsersCommand.add(username: "alice", role: .admin, password: "correct horse", database: database, hasher: hasher, console: console)
        #expect(output.out.contains("Added alice (admin)."))
        let credentials = try #require(try await database.credentials(named: "alice"))
        #expect(credentials.passwordHash.hasPrefix("$2"))
        #expect(try await hasher.verify("correct horse", against: credentials.passwordHash))
        #expect(try await !hasher.verify("wrong horse!", against: credentials.passwordHash))
        let audit = try await database.auditEntries(page: 1, limit: 10)
        #expect(audit.map(\.action) == ["user added"])
        #expect(audit[0].actor == "command line" && audit[0].detail == "alice as admin")
        #expect(!audit[0].detail.contains("correct horse"))

        let (listConsole, listed) = Console.capturing()
        try await UsersCommand.list(database: database, console: listConsole)
        let row = try #require(listed.out.split(separator: "\n").first { $0.hasPrefix("alice") })
        #expect(row.contains("admin") && row.contains("enabled"))
    }

    @Test("bad names, short passwords and duplicates are clear errors and change nothing")
    func refusals() async throws {
        let (database, directory) = try database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (console, _) = Console.capturing()
        try await UsersCommand.add(username: "alice", role: .admin, password: "0123456789", database: database, hasher: hasher, console: console)
        for (name, password, message) in [
            ("", "0123456789", "the user name is empty"), ("bad name", "0123456789", "may hold only letters"),
            (String(repeating: "a", count: 65), "0123456789", "longer than 64"), ("bob", "short", "at least 10 characters"),
            ("ALICE", "0123456789", "a user named ALICE already exists"),
        ] {
            let error = await #expect(throws: CommandFailure.self) {
                try await UsersCommand.add(username: name, role: .agent, password: password, database: database, hasher: hasher, console: console)
            }
            #expect(error?.description.contains(message) == true, "\(error?.description ?? "")")
        }
        #expect(try await database.accounts().map(\.username) == ["alice"])
        #expect(throws: (any Error).self) { try UsersCommand.role("owner") }
    }

    @Test("set-role, disable, enable and reset-password change the account and are audited; the last admin is kept")
    func changes() async throws {
        let (database, directory) = try database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (console, _) = Console.capturing()
        try await UsersCommand.add(username: "alice", role: .admin, password: "0123456789", database: database, hasher: hasher, console: console)
        try await UsersCommand.add(username: "bob", role: .agent, password: "0123456789", database: database, hasher: hasher, console: console)
        try await UsersCommand.setRole(username: "bob", role: .editor, database: database, console: console)
        #expect(try await database.account(named: "bob")?.role == .editor)
        try await UsersCommand.setDisabled(username: "bob", true, database: database, console: console)
        #expect(try await database.account(named: "bob")?.disabled == true)
        try await UsersCommand.setDisabled(username: "bob", false, database: database, console: console)
        #expect(try await database.account(named: "bob")?.disabled == false)
        try await UsersCommand.resetPassword(username: "bob", password: "new password 1", database: database, hasher: hasher, console: console)
        #expect(try await hasher.verify("new password 1", against: database.credentials(named: "bob")?.passwordHash))

        let lastAdmin = await #expect(throws: CommandFailure.self) {
            try await UsersCommand.setDisabled(username: "alice", true, database: database, console: console)
        }
        #expect(lastAdmin?.description.contains("last enabled admin") == true)
        let unknown = await #expect(throws: CommandFailure.self) {
            try await UsersCommand.setRole(username: "nobody", role: .admin, database: database, console: console)
        }
        #expect(unknown?.description.contains("there is no user nobody") == true)
        let actions = try await database.auditEntries(page: 1, limit: 20).map(\.action)
        #expect(actions == ["password reset", "user enabled", "user disabled", "role changed", "user added", "user added"])
    }

    @Test("the parsed command takes --db, --role and --password-stdin, and refuses an unknown role as a usage error")
    func parsing() throws {
        let command = try ReplyflowCommand.parseAsRoot(["users", "add", "alice", "--role", "admin", "--password-stdin", "--db", "/tmp/x.sqlite"])
        let add = try #require(command as? UsersCommand.Add)
        #expect(add.name == "alice" && add.role == "admin" && add.passwordStdin)
        #expect(try add.common.database.databasePath(environment: [:]) == "/tmp/x.sqlite")
        #expect(try add.common.hasher(environment: ["STAFF_BCRYPT_COST": "5"]).cost == 5)
        #expect(throws: (any Error).self) { try add.common.hasher(environment: ["STAFF_BCRYPT_COST": "3"]) }
        #expect(throws: (any Error).self) { try ReplyflowCommand.parseAsRoot(["users", "set-role", "alice"]) }
    }
}

@Suite("CLI: users, password prompt", .machineShare)
struct PasswordPromptTests {
    @Test("without --password-stdin, a standard input that is not a terminal is refused with the way out", .enabled(if: isatty(STDIN_FILENO) == 0))
    func nonTerminalRefused() {
        let error = #expect(throws: CommandFailure.self) { try PasswordPrompt.read(fromStdin: false, confirm: true) }
        #expect(error?.description.contains("--password-stdin") == true)
    }
}
