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

private let t0 = Date(timeIntervalSince1970: 1_795_600_000)  // 2026-11-27 08:26:40 UTC

/// Flows that touch every kind of state: the shipped ones, an experiment with a goal, a
/// flow once per user and week, and one that turns auto mode off.
private func differentialFlows() throws -> FlowSet {
    let shipped = ServerRoot.path + "/flows"
    var files: [(path: String, data: Data)] = []
    for name in try FileManager.default.contentsOfDirectory(atPath: shipped).sorted() where name.hasSuffix(".yaml") {
        files.append((path: name, data: try Data(contentsOf: URL(fileURLWithPath: shipped + "/" + name))))
    }
    files.append(
        (
            path: "zz-experiment.yaml",
            data: Data(
                """
                name: Welcome test
                on: app_message
                priority: 50
                experiment:
                  key: welcome
                  goal: { on: history_first_fetch_today, within: 2d }
                  variants:
                    - name: short
                      weight: 1
                      do:
                        - push: { text: "Hi" }
                    - name: long
                      weight: 1
                      do:
                        - push: { text: "Hello, we are here" }
                do:
                  - broadcast: {}

                """.utf8)
        ))
    files.append(
        (
            path: "zz-weekly.yaml",
            data: Data(
                """
                name: Weekly note
                on: [instagram_dm, telegram_message]
                priority: 60
                once_per_user: week
                if: { text_contains: ["off"] }
                do:
                  - set_auto_mode: off
                  - reply: "Staff will answer."

                """.utf8)
        ))
    let loaded = FlowLoader.load(files: files)
    #expect(!loaded.hasErrors, "\(loaded.diagnostics.map(\.description))")
    return try #require(loaded.flowSet)
}

/// Events of a few users over several days: every kind, staff replies to forwarded
/// messages, assistant failures, names coming and going.
private func randomEvents(seed: UInt64, count: Int) -> [InboundEvent] {
    var random = SplitMix64(seed: seed)
    var at = t0
    var forwardsSoFar: Int64 = 0
    var events: [InboundEvent] = []
    let texts = ["hello", "turn it off", "where is my order?", "", "спасибо"]
    for _ in 0..<count {
        at += Double(random.next(upperBound: UInt64(40_000)))
        let user = "u\(random.next(upperBound: UInt64(6)))"
        let kind = EventKind.allCases[Int(random.next(upperBound: UInt64(EventKind.allCases.count)))]
        var event = InboundEvent(
            kind: kind, at: at, userID: user, userName: random.next(upperBound: UInt64(3)) == 0 ? nil : "Name \(user)",
            text: kind == .historyFetch ? nil : texts[Int(random.next(upperBound: UInt64(texts.count)))],
            media: random.next(upperBound: UInt64(5)) == 0 ? .sticker : .none,
            stubs: .init(answer: "answer", assistantFails: random.next(upperBound: UInt64(4)) == 0))
        if kind == .telegramReply && forwardsSoFar > 0 && random.next(upperBound: UInt64(2)) == 0 {
            event.userID = nil
            event.replyTo = 1000 + Int64(random.next(upperBound: UInt64(forwardsSoFar + 2)))
        }
        if kind == .appMessage || kind == .instagramDM || kind == .telegramMessage { forwardsSoFar += 1 }
        events.append(event)
    }
    return events
}

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

@Suite("Bulk writer against per-run commits")
struct BulkDifferentialTests {
    @Test("the same events leave the same rows in every state table, whatever the bulk writer's tuning", arguments: [11, 12, 13] as [UInt64], BufferTuning.all)
    func sameRows(seed: UInt64, tuning: BufferTuning) async throws {
        let flows = try differentialFlows()
        let runtime = FlowRuntime(flowSet: flows, timeZone: TimeZone(identifier: "Europe/Moscow")!)
        let events = randomEvents(seed: seed, count: 300)

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

/// The repository's root, for the shipped flows.
enum ServerRoot {
    static var path: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }
}
