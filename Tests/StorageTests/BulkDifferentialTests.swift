import Flows
import Foundation
import GRDB
import TestSupport
import Testing

@testable import Storage

// The bulk writer (replay's) is a speed trick: it must leave exactly the rows the
// server's path leaves, where each event's state is read into a snapshot before it runs
// and its outcome is committed in a transaction of its own. Seeded random events through
// the default flows and flows with experiments and once-per-user periods, both ways.

/// The server's path, without the server: snapshot, run, commit, one event at a time.
/// Forwards get the made-up group ids `SequentialRunner` hands out (the server's outbox
/// records the real ones as messages reach the group).
private func runCommittingEach(_ events: [InboundEvent], runtime: FlowRuntime, database: ReplyflowDatabase) async throws {
    var nextGroupMessageID: Int64 = 1000
    for event in events {
        let snapshot = try await database.snapshot(for: runtime.reads(for: event))
        let outcome = await runtime.run(event, view: snapshot, services: RecordingServices())
        _ = try #require(try await database.commit(RunRecord(outcome, idempotencyKey: nil)))
        guard let userID = outcome.userID else { continue }
        for delivery in outcome.deliveries {
            guard case .forwardToGroup = delivery.effect else { continue }
            let id = nextGroupMessageID
            nextGroupMessageID += 1
            try await database.writer.write { db in
                try db.execute(sql: StateSQL.insertForward, arguments: [id, userID, event.at.timeIntervalSince1970])
            }
        }
    }
}

private func tableRows(_ database: ReplyflowDatabase) throws -> [String: [[DatabaseValue]]] {
    let order = [
        "users": "id", "chats": "source, user_id", "markers": "user_id, key, period", "messages": "id",
        "group_forwards": "group_message_id", "experiment_assignments": "experiment, user_id",
        "experiment_exposures": "experiment, user_id", "experiment_conversions": "experiment, user_id",
        "run_traces": "id", "conversations": "source, platform_chat_id",
    ]
    return try database.writer.read { db in
        try order.mapValues { orderBy in
            try Row.fetchAll(db, sql: "SELECT * FROM \(order.first { $0.value == orderBy }!.key) ORDER BY \(orderBy)").map { Array($0.databaseValues) }
        }
    }
}

@Suite("Bulk writer against per-run commits", .machineShare)
struct BulkDifferentialTests {
    @Test("the same events leave the same rows in every state table, whatever the bulk writer's tuning", arguments: [11, 12, 13] as [UInt64], BufferTuning.all)
    func sameRows(seed: UInt64, tuning: BufferTuning) async throws {
        let flows = try RunFixtures.flows()
        let runtime = FlowRuntime(flowSet: flows, timeZone: TimeZone(identifier: "Europe/Moscow")!)
        let events = RunFixtures.events(seed: seed, count: 300)

        let perRun = try ReplyflowDatabase()
        try await runCommittingEach(events, runtime: runtime, database: perRun)

        let bulkDatabase = try ReplyflowDatabase()
        let runner = SequentialRunner(runtime: runtime, store: try tuning.open(bulkDatabase))
        for event in events { _ = await runner.run(event) }
        try runner.store.finish()

        let want = try tableRows(perRun)
        let got = try tableRows(bulkDatabase)
        for table in want.keys.sorted() {
            let wanted = want[table] ?? [], rows = got[table] ?? []
            #expect(rows.count == wanted.count, "\(table): bulk \(rows.count) rows, per-run commits \(wanted.count)")
            for (index, (row, expected)) in zip(rows, wanted).enumerated() where row != expected {
                Issue.record("\(table) row \(index): bulk \(row), per-run commits \(expected)")
                break
            }
        }
        // The events reach every kind of state, so an empty table cannot pass unnoticed.
        for table in [
            "users", "chats", "markers", "messages", "group_forwards", "experiment_assignments", "experiment_exposures", "experiment_conversions", "run_traces",
        ] {
            #expect(!(want[table] ?? []).isEmpty, "the events write rows to \(table)")
        }
    }
}
