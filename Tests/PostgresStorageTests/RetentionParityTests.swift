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
        let times = RunFixtures.events(seed: 17, count: 200).map(\.at).sorted()
        let cutoff = times[times.count / 2]
        var want: [String] = []
        try await DrivenPair.drive(seed: 17, count: 200) { sqlite, postgres in
            // Finished deliveries are deleted, pending ones kept.
            try await sqlite.writer.write { db in try db.execute(sql: "UPDATE outbox SET status = 'sent' WHERE id % 2 = 0") }
            _ = try await postgres.client.query("UPDATE outbox SET status = 'sent' WHERE id % 2 = 0", logger: logger).collect()
            want = try await Self.sweep(sqlite, cutoff: cutoff) + DrivenPair.tableCounts(sqlite)
            let got = try await Self.sweep(PostgresRetention(postgres), cutoff: cutoff) + DrivenPair.tableCounts(postgres)
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
