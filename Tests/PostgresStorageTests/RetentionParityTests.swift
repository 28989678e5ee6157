import Flows
import Foundation
import GRDB
import Logging
import PostgresNIO
import TestSupport
import Testing

@testable import PostgresStorage
@testable import Storage

/// Retention deletes the same rows, batch by batch, on both databases.
@Suite(
    "Retention on both databases", .timeLimit(.minutes(5)),
    .disabled(if: postgresMissing, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"), .machineShare)
struct RetentionParityTests {
    private let logger = PostgresTestDatabase.logger

    @Test("old traces, messages, emptied chats and finished deliveries: the same batches and the same rows left on SQLite and PostgreSQL")
    func sameDeletions() async throws {
        let runtime = FlowRuntime(flowSet: try RunFixtures.flows(), timeZone: TimeZone(identifier: "Europe/Moscow")!)
        let events = RunFixtures.events(seed: 17, count: 200)
        let times = events.map(\.at).sorted()
        let cutoff = times[times.count / 2]
        let tables = ReplyflowTable.all.map(\.name).sorted()

        let sqlite = try ReplyflowDatabase()
        try await RunDriver(runtime: runtime, store: sqlite).drive(events) { _, _, _ in }
        // Finished deliveries are deleted, pending ones kept.
        try await sqlite.writer.write { db in try db.execute(sql: "UPDATE outbox SET status = 'sent' WHERE id % 2 = 0") }
        var want = try await Self.sweep(sqlite, cutoff: cutoff)
        for table in tables {
            want.append("\(table): \(try await sqlite.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 })")
        }

        let database = try await PostgresTestDatabase.make()
        try await ReplyflowPostgres.withDatabase(database.url, logger: logger) { postgres in
            try await postgres.migrate()
            try await RunDriver(runtime: runtime, store: PostgresRunStore(postgres)).drive(events) { _, _, _ in }
            _ = try await postgres.client.query("UPDATE outbox SET status = 'sent' WHERE id % 2 = 0", logger: logger).collect()
            var got = try await Self.sweep(PostgresRetention(postgres), cutoff: cutoff)
            for table in tables {
                let count = try await postgres.client.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), logger: logger).decode(Int64.self)
                    .first { _ in true } ?? 0
                got.append("\(table): \(count)")
            }
            #expect(got == want)
        }
        #expect(want.contains { $0.hasPrefix("messages batch") && !$0.hasSuffix("0 0 0") })
    }

    private static func sweep(_ store: any RetentionStore, cutoff: Date) async throws -> [String] {
        var lines: [String] = []
        while true {
            let batch = try await store.deleteTraces(olderThan: cutoff, limit: 7)
            lines.append("traces batch: \(batch.traces)")
            if batch.isEmpty { break }
        }
        while true {
            let batch = try await store.deleteMessages(olderThan: cutoff, limit: 7, uploadsDirectory: nil)
            lines.append("messages batch: \(batch.messages) \(batch.conversations) \(batch.outboxItems)")
            if batch.isEmpty { break }
        }
        return lines
    }
}
