import Foundation
import GRDB
import Logging
import PostgresNIO
import PostgresStorage
import Storage
import TestSupport
import Testing

@testable import ReplyflowCLI

/// The copier's table list is the SQLite schema's: a table added to SQLite without a place
/// in the PostgreSQL schema fails here, not silently in an operator's copy.
@Suite("migrate-to-postgres: tables", .machineShare)
struct MigrateToPostgresTableListTests {
    @Test("every SQLite table (but sqlite_* and grdb_migrations) is one the copier knows, and no other")
    func tableListIsTheSQLiteSchemas() async throws {
        let tables = try await TableExport(ReplyflowDatabase()).tables().map(\.name)
        #expect(tables.sorted() == ReplyflowTable.all.map(\.name).sorted())
        #expect(!tables.contains("grdb_migrations"))
    }

    @Test("a bad --to is one line and exit 1")
    func badTarget() async throws {
        let directory = try makeDirectory([:])
        _ = try ReplyflowDatabase(path: directory + "/replyflow.sqlite")
        let code = await ReplyflowMain.run(["migrate-to-postgres", "--db", directory + "/replyflow.sqlite", "--to", "mysql://rf:pw@h/d"])
        #expect(code == 1)
    }
}

/// `replyflow migrate-to-postgres` into the private cluster: a SQLite database with rows in
/// every table (replayed events, the staff and studio APIs, and the rest by SQL) copied,
/// then compared table by table, row by row.
@Suite(
    "migrate-to-postgres",
    .disabled(if: PostgresCluster.skipReason != nil, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"), .machineShare)
struct MigrateToPostgresTests {
    static let logger: Logger = {
        var logger = Logger(label: "replyflow.migrate-tests")
        logger.logLevel = .error
        return logger
    }()

    /// Messages written by SQL on top of the replay: more than one batch of the copy.
    static let bulkMessages = 2_500

    /// Columns only PostgreSQL keeps, filled from the copied ones (migration 6).
    static let derivedOnPostgres: [String: Set<String>] = ["telegram_inbox": ["chat_id"]]

    /// A SQLite database with rows in every table; returns its path.
    static func seededDatabase() async throws -> String {
        let flows = try makeDirectory([
            "greeting.yaml": ReplayCommandTests.experimentFlow,
            "forward.yaml": """
            name: Forward
            on: app_message
            priority: 1
            do:
              - forward_to_group: {}
              - reply: "Got it"

            """,
        ])
        let users = (0..<20).map { "user-\($0)" }
        var events: [String] = []
        for user in users {
            events.append(#"{"kind":"history_fetch","at":"2026-11-20T09:00:00Z","user":{"id":"\#(user)","name":"Ann \#(user)"}}"#)
            events.append(
                #"{"kind":"app_message","at":"2026-11-20T12:00:00Z","user":{"id":"\#(user)"},"message":{"text":"hi 'quoted' \"double\" ünï 😀\nline $1"}}"#)
        }
        let directory = try makeDirectory(["events.jsonl": events.joined(separator: "\n") + "\n"])
        let path = directory + "/state/replyflow.sqlite"
        let (console, output) = Console.capturing()
        let code = try await ReplayCommand.replay(
            eventsFile: directory + "/events.jsonl", flowsDirectory: flows, options: try options(["--db", path]), json: false, traces: true,
            console: console)
        #expect(code == 0, "\(output.error)")

        let database = try ReplyflowDatabase(path: path)
        let now = Date(timeIntervalSince1970: 1_767_261_600.25)
        let admin = try await database.addAccount(username: "Admin", role: .admin, passwordHash: "$2b$12$hash", at: now)
        _ = try await database.addAccount(username: "agent", role: .agent, passwordHash: "$2b$12$other", at: now)
        try await database.createSession(
            idHash: "hash-1", accountID: admin.id, csrfToken: "csrf", address: "127.0.0.1", userAgent: nil,
            limits: StaffSessionLimits(idle: 3600, absolute: 86400), at: now)
        try await database.recordAudit(actor: "Admin", action: "login", detail: "from the panel", address: nil, at: now)
        try await database.recordFlowVersions(
            [.init(file: "greeting.yaml", change: .save, content: "name: x\n", contentHash: "abc", comment: "first", author: "Admin")], at: now)
        try await database.writer.write { db in
            let at = 1_767_261_600.5
            try db.execute(
                sql: "INSERT INTO devices (fcm_token, user_id, platform, device_id, registered_at, updated_at) VALUES ('token-1', 'user-1', 'ios', NULL, ?, ?)",
                arguments: [at, at])
            try db.execute(
                sql: """
                    INSERT INTO outbox (kind, lane, payload, status, attempts, next_attempt_at, last_error, created_at, updated_at, parts_sent, parts_plan, message_id)
                    VALUES ('fcm.push', 'fcm:user-1', '{"text":"x"}', 'failed', 12, ?, 'HTTP 500', ?, ?, 1, 'plan', 3)
                    """, arguments: [at, at, at])
            try db.execute(sql: "INSERT INTO telegram_updates (update_id, received_at) VALUES (900001, ?)", arguments: [at])
            try db.execute(sql: "INSERT INTO forum_topics (user_id, thread_id, created_at) VALUES ('user-2', 77, ?)", arguments: [at])
            try db.execute(
                sql: "INSERT INTO group_forwards (group_message_id, user_id, created_at, source) VALUES (900002, 'user-3', ?, 'telegram')", arguments: [at])
            try db.execute(
                sql: "INSERT INTO assistant_memory (source, platform_chat_id, previous_response_id, updated_at) VALUES ('app', 'user-4', 'resp_1', ?)",
                arguments: [at])
            try db.execute(sql: "INSERT INTO brevo_messages (message_id, direction, at) VALUES ('brevo-1', 'in', ?)", arguments: [at])
            try db.execute(
                sql:
                    "INSERT INTO telegram_inbox (update_id, body, received_at, status, last_error) VALUES (900003, '{\"update_id\":900003}', ?, 'failed', 'boom')",
                arguments: [at])
            try db.execute(
                sql: "INSERT INTO telegram_inbox (update_id, body, received_at) VALUES (900004, ?, ?)",
                arguments: [#"{"update_id":900004,"message":{"message_id":7,"date":0,"chat":{"id":-100777,"type":"private"},"text":"left"}}"#, at])
            for number in 0..<bulkMessages {
                try db.execute(
                    sql:
                        "INSERT INTO messages (user_id, source, direction, text, media, created_at, author) VALUES (?, 'telegram', 'user', ?, 'none', ?, 'customer')",
                    arguments: ["tg-\(number % 50)", "bulk \(number)", at + Double(number)])
            }
        }
        return path
    }

    /// Every row of `table` on PostgreSQL, each as one comparable line.
    static func postgresRows(_ table: TableExport.Table, _ postgres: ReplyflowPostgres) async throws -> [String] {
        let columns = table.columns.map { "\"\($0)\"" }.joined(separator: ", ")
        var lines: [String] = []
        for try await row in try await postgres.client.query(PostgresQuery(unsafeSQL: "SELECT \(columns) FROM \"\(table.name)\"")) {
            var cells: [String] = []
            for cell in row {
                switch cell.dataType {
                case .int8: cells.append(try cell.decode(Int64?.self).map { "i:\($0)" } ?? "null")
                case .float8: cells.append(try cell.decode(Double?.self).map { "r:\($0)" } ?? "null")
                case .text: cells.append(try cell.decode(String?.self).map { "t:\($0)" } ?? "null")
                default: Issue.record("\(table.name): a column of type \(cell.dataType)")
                }
            }
            lines.append(cells.joined(separator: " | "))
        }
        return lines.sorted()
    }

    /// Every row of `table` in SQLite, as `postgresRows` writes them.
    static func sqliteRows(_ table: TableExport.Table, _ export: TableExport) async throws -> [String] {
        try await export.batch(of: table, after: nil, limit: 1_000_000).map { row in
            row.map { value in
                switch value {
                case .null: return "null"
                case .integer(let integer): return "i:\(integer)"
                case .real(let real): return "r:\(real)"
                case .text(let text): return "t:\(text)"
                case .blob(let bytes): return "b:\(bytes)"
                }
            }.joined(separator: " | ")
        }.sorted()
    }

    @Test("every table is copied: the same rows, value for value; ids continue after the copied ones; a second copy is refused")
    func copiesEverything() async throws {
        let path = try await Self.seededDatabase()
        let cluster = try await PostgresCluster.shared()
        let name = try await cluster.makeDatabase()
        let url = try DatabaseURL.parse(cluster.url(database: name))

        let (console, output) = Console.capturing()
        let copied = try await MigrateToPostgresCommand.migrate(databasePath: path, to: url, console: console, logger: Self.logger)
        #expect(copied.map(\.table) == ReplyflowTable.all.map(\.name))
        #expect(output.out.hasPrefix("Copied \(path) into postgres://replyflow@127.0.0.1:\(cluster.port)/\(name)?sslmode=disable in one transaction:"))
        for (table, rows) in copied {
            #expect(output.out.contains(" \(table) ") && output.out.contains("  \(rows)\n"), "\(table) \(rows) missing from\n\(output.out)")
        }

        let source = try ReplyflowDatabase(path: path)
        let export = TableExport(source)
        let tables = try await export.tables()
        try await ReplyflowPostgres.withDatabase(url, logger: Self.logger) { postgres in
            for table in tables {
                let sqlite = try await Self.sqliteRows(table, export)
                #expect(!sqlite.isEmpty, "the seed left \(table.name) empty: the test would prove nothing for it")
                #expect(copied.first { $0.table == table.name }?.rows == sqlite.count, "\(table.name)")
                let postgresRows = try await Self.postgresRows(table, postgres)
                #expect(postgresRows.count == sqlite.count, "\(table.name): \(postgresRows.count) rows on PostgreSQL, \(sqlite.count) in SQLite")
                #expect(postgresRows == sqlite, "\(table.name) differs; first SQLite row: \(sqlite.first ?? "")")

                // The same columns on both sides (a column SQLite has and PostgreSQL lacks
                // would have failed the copy; one only PostgreSQL has shows here).
                var postgresColumns: [String] = []
                for try await column in try await postgres.client.query(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = \(table.name)"
                ).decode(String.self) {
                    postgresColumns.append(column)
                }
                let derived = Self.derivedOnPostgres[table.name] ?? []
                #expect(postgresColumns.filter { !derived.contains($0) }.sorted() == table.columns.sorted(), "\(table.name)")
            }
            // The kept Telegram updates got their chats, the lanes they are handled in.
            var inboxChats: [Int64: Int64] = [:]
            for try await (id, chat) in try await postgres.client.query("SELECT update_id, chat_id FROM telegram_inbox").decode((Int64, Int64).self) {
                inboxChats[id] = chat
            }
            #expect(inboxChats[900004] == -100_777)
            #expect(inboxChats[900003] == 0, "an update without a message is in chat 0")
            #expect(try await Self.postgresRows(tables.first { $0.name == "messages" }!, postgres).contains { $0.contains("😀\nline $1") })

            // The next id PostgreSQL gives out is max(id)+1.
            let maxID = try await source.writer.read { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM messages") } ?? 0
            var newID: Int64 = 0
            for try await id in try await postgres.client.query(
                "INSERT INTO messages (user_id, source, direction, text, media, created_at) VALUES ('u', 'app', 'user', 'new', 'none', 0) RETURNING id"
            ).decode(Int64.self) {
                newID = id
            }
            #expect(newID == maxID + 1)
        }

        // It never merges: the same target again is refused, and nothing is added.
        let again = await #expect(throws: CommandFailure.self) {
            try await MigrateToPostgresCommand.migrate(databasePath: path, to: url, console: Console.capturing().0, logger: Self.logger)
        }
        #expect(again?.description.contains("already holds Replyflow data (in users, chats, messages") == true, "\(again?.description ?? "")")
        #expect(again?.description.contains("never merges") == true)
    }

    @Test("a SQLite table the copier does not know stops the copy before anything is written")
    func unknownTable() async throws {
        let directory = try makeDirectory([:])
        let path = directory + "/replyflow.sqlite"
        let database = try ReplyflowDatabase(path: path)
        try await database.writer.write { db in try db.execute(sql: "CREATE TABLE future_table (id INTEGER PRIMARY KEY, note TEXT)") }
        let cluster = try await PostgresCluster.shared()
        let name = try await cluster.makeDatabase()
        let url = try DatabaseURL.parse(cluster.url(database: name))
        let failure = await #expect(throws: CommandFailure.self) {
            try await MigrateToPostgresCommand.migrate(databasePath: path, to: url, console: Console.capturing().0, logger: Self.logger)
        }
        #expect(
            failure?.description.hasPrefix("the SQLite database has tables the PostgreSQL copy does not know: future_table;") == true,
            "\(failure?.description ?? "")")
        // Not even the schema was made.
        try await ReplyflowPostgres.withDatabase(url, logger: Self.logger) { postgres in
            for try await exists in try await postgres.client.query("SELECT to_regclass('schema_migrations') IS NOT NULL").decode(Bool.self) {
                #expect(!exists)
            }
        }
    }

    @Test("a wrong password stops the command with one line, and the password is not in it")
    func wrongPassword() async throws {
        let directory = try makeDirectory([:])
        let path = directory + "/replyflow.sqlite"
        _ = try ReplyflowDatabase(path: path)
        let cluster = try await PostgresCluster.shared()
        let name = try await cluster.makeDatabase()
        let url = try DatabaseURL.parse(cluster.url(database: name, user: PostgresCluster.passwordUser, password: "wrong-password-77"))
        let failure = await #expect(throws: CommandFailure.self) {
            try await MigrateToPostgresCommand.migrate(databasePath: path, to: url, console: Console.capturing().0, logger: Self.logger)
        }
        #expect(
            failure?.description
                == "PostgreSQL at 127.0.0.1:\(cluster.port) refused the password of user \(PostgresCluster.passwordUser); correct the password in --to")
    }
}
