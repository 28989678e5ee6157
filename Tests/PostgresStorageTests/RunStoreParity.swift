import Flows
import Foundation
import GRDB
import PostgresNIO
import TestSupport

@testable import PostgresStorage
@testable import Storage

/// The server's run path over any `RunStore`, without the server: in the chat, skip an
/// input whose key is committed, snapshot, run, commit with an outbox item per delivery
/// and the assistant's memory; then give forwards the group ids `SequentialRunner` would.
struct RunDriver {
    let runtime: FlowRuntime
    let store: any RunStore

    func drive(_ events: [InboundEvent], recordForward: (Int64, String, Date) async throws -> Void) async throws {
        var nextGroupMessageID: Int64 = 1000
        for (index, event) in events.enumerated() {
            var chat = event.userID ?? ""
            if event.userID == nil, let replyTo = event.replyTo {
                chat = try await store.userForGroupMessage(replyTo) ?? "group-message:\(replyTo)"
            }
            let key: IdempotencyKey? =
                switch event.kind {
                case .telegramMessage, .telegramReply: .telegramUpdate(Int64(index))
                case .instagramDM: .brevoMessage("brevo-\(index)")
                case .appMessage, .historyFetch: nil
                }
            let runtime = self.runtime
            let outcome = try await store.withChat(chat) { access -> RunOutcome? in
                if let key, try await access.isHandled(key) { return nil }
                let (snapshot, _) = try await access.snapshot(for: runtime.reads(for: event), latestAppMessage: event.kind == .historyFetch)
                let outcome = await runtime.run(event, view: snapshot, services: RecordingServices())
                var record = RunRecord(outcome, idempotencyKey: key)
                record.outbox = outcome.deliveries.map { delivery in
                    OutboxDraft(
                        kind: .push, lane: "fcm:\(outcome.userID ?? "")", payload: "\(delivery.effect)", status: .pending, at: event.at,
                        message: delivery.message)
                }
                if event.kind == .appMessage, let user = outcome.userID, !event.stubs.assistantFails {
                    record.assistantMemory = AssistantMemoryUpdate(source: .app, platformChatID: user, responseID: "response-\(index)", at: event.at)
                }
                guard try await access.commit(record) != nil else { return nil }
                // Delivered twice (a redelivered update): the second commit writes nothing.
                if key != nil, try await access.commit(record) != nil { throw DriverFailure.committedTwice(key!) }
                return outcome
            }
            guard let outcome, let userID = outcome.userID else { continue }
            for delivery in outcome.deliveries {
                guard case .forwardToGroup = delivery.effect else { continue }
                try await recordForward(nextGroupMessageID, userID, event.at)
                nextGroupMessageID += 1
            }
        }
    }

    enum DriverFailure: Error {
        case committedTwice(IdempotencyKey)
    }
}

/// A stored value, read the same from SQLite and PostgreSQL.
enum StoredValue: Equatable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    var description: String {
        switch self {
        case .null: "NULL"
        case .integer(let value): "\(value)"
        case .real(let value): "\(value)"
        case .text(let value): "'\(value)'"
        }
    }
}

/// The tables a run writes, read from SQLite in key order.
enum SQLiteTables {
    /// Each table with its order and the columns not compared: identities PostgreSQL hands
    /// out differently (an upsert there uses up a sequence value even when it updates), and
    /// times taken from the clock at commit.
    static let compared: [(name: String, orderBy: String, skipped: Set<String>)] = [
        ("users", "id", []), ("chats", "source, user_id", []), ("markers", "user_id, key, period", []), ("messages", "id", []),
        ("group_forwards", "group_message_id", []), ("experiment_assignments", "experiment, user_id", []),
        ("experiment_exposures", "experiment, user_id", []), ("experiment_conversions", "experiment, user_id", []), ("run_traces", "id", []),
        ("conversations", "source, platform_chat_id", ["id"]), ("conversation_counts", "source", []), ("outbox", "id", []),
        ("assistant_memory", "source, platform_chat_id", []), ("telegram_updates", "update_id", ["received_at"]),
        ("brevo_messages", "message_id", ["at"]),
    ]

    /// The columns compared, per table, in SQLite's order.
    static func columns(_ database: ReplyflowDatabase) throws -> [String: [String]] {
        try database.writer.read { db in
            var columns: [String: [String]] = [:]
            for table in compared {
                columns[table.name] = try db.columns(in: table.name).map(\.name).filter { !table.skipped.contains($0) }
            }
            return columns
        }
    }

    static func rows(_ database: ReplyflowDatabase) throws -> [String: [[StoredValue]]] {
        let columns = try columns(database)
        return try database.writer.read { db in
            var rows: [String: [[StoredValue]]] = [:]
            for table in compared {
                let list = columns[table.name]!.joined(separator: ", ")
                rows[table.name] = try Row.fetchAll(db, sql: "SELECT \(list) FROM \(table.name) ORDER BY \(table.orderBy)").map { row in
                    row.databaseValues.map { value in
                        switch value.storage {
                        case .null: .null
                        case .int64(let integer): .integer(integer)
                        case .double(let real): .real(real)
                        case .string(let text): .text(text)
                        case .blob(let data): .text("blob \(data.count) bytes")
                        }
                    }
                }
            }
            return rows
        }
    }
}

/// The same tables read from PostgreSQL, with SQLite's column lists.
enum PostgresTables {
    static func rows(_ postgres: ReplyflowPostgres, columns: [String: [String]]) async throws -> [String: [[StoredValue]]] {
        var rows: [String: [[StoredValue]]] = [:]
        for table in SQLiteTables.compared {
            let list = columns[table.name]!.joined(separator: ", ")
            var tableRows: [[StoredValue]] = []
            for try await row in try await postgres.client.query(PostgresQuery(unsafeSQL: "SELECT \(list) FROM \(table.name) ORDER BY \(table.orderBy)")) {
                tableRows.append(try row.map(value))
            }
            rows[table.name] = tableRows
        }
        return rows
    }

    private static func value(_ cell: PostgresCell) throws -> StoredValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .float4, .float8: return .real(try cell.decode(Double.self))
        default: return .text(try cell.decode(String.self))
        }
    }
}

/// The same seeded events driven through a new SQLite file and a new PostgreSQL database
/// (`RunDriver`, forwards recorded on each), for the tests that compare the two.
enum DrivenPair {
    /// Drives `count` events of `seed` through both, then runs `body` with both.
    static func drive(
        seed: UInt64, count: Int, _ body: (_ sqlite: ReplyflowDatabase, _ postgres: ReplyflowPostgres) async throws -> Void
    ) async throws {
        let runtime = FlowRuntime(flowSet: try RunFixtures.flows(), timeZone: TimeZone(identifier: "Europe/Moscow")!)
        let events = RunFixtures.events(seed: seed, count: count)
        let sqlite = try ReplyflowDatabase()
        try await RunDriver(runtime: runtime, store: sqlite).drive(events) { id, user, at in
            try await sqlite.writer.write { db in
                try db.execute(sql: StateSQL.insertForward, arguments: [id, user, at.timeIntervalSince1970])
            }
        }
        let database = try await PostgresTestDatabase.make()
        let logger = PostgresTestDatabase.logger
        try await ReplyflowPostgres.withDatabase(database.url, logger: logger) { postgres in
            try await postgres.migrate()
            try await RunDriver(runtime: runtime, store: PostgresRunStore(postgres)).drive(events) { id, user, at in
                _ = try await postgres.client.query(
                    "INSERT INTO group_forwards (group_message_id, user_id, created_at) VALUES (\(id), \(user), \(at.timeIntervalSince1970))",
                    logger: logger)
            }
            try await body(sqlite, postgres)
        }
    }

    /// "table: rows" for every Replyflow table, by name.
    static func tableCounts(_ sqlite: ReplyflowDatabase) async throws -> [String] {
        try await sqlite.writer.read { db in
            try ReplyflowTable.all.map(\.name).sorted().map { table in "\(table): \(try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0)" }
        }
    }

    /// "table: rows" for every Replyflow table, by name.
    static func tableCounts(_ postgres: ReplyflowPostgres) async throws -> [String] {
        var lines: [String] = []
        for table in ReplyflowTable.all.map(\.name).sorted() {
            let count = try await postgres.client.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), logger: PostgresTestDatabase.logger)
                .decode(Int64.self).first { _ in true } ?? 0
            lines.append("\(table): \(count)")
        }
        return lines
    }
}
