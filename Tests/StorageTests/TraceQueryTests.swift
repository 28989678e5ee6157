import Flows
import Foundation
import GRDB
import Testing

@testable import Storage
import TestSupport

/// "Why didn't it fire?": the traces query the panel's traces page and `replyflow traces`
/// share, on rows written by the server's own commit path, and its filters as people type them.
@Suite("Trace queries", .machineShare)
struct TraceQueryTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_600_000)

    /// Commits one run's trace as the server does (one row per flow, or one without a flow).
    static func trace(
        _ database: ReplyflowDatabase, _ kind: EventKind, user: String?, trigger: Trigger?, note: String? = nil, flows: [FlowOutcome] = [],
        actions: [PerformedAction] = [], at seconds: Double
    ) async throws {
        var result = RunResult(trigger: trigger, note: note, userID: user)
        result.flows = flows
        result.actions = actions
        var record = RunRecord()
        record.trace = RunRecord.Trace(result: result, kind: kind, at: t0.addingTimeInterval(seconds))
        _ = try await database.commit(record)
    }

    /// Seven rows (ids 1 to 7) of five events, and the chats of users 1 (app) and 7 (Telegram).
    static func seeded() async throws -> ReplyflowDatabase {
        let database = try ReplyflowDatabase()
        try await trace(
            database, .appMessage, user: "1", trigger: .appMessage,
            flows: [FlowOutcome(name: "Forward", result: .ran), FlowOutcome(name: "Gate", result: .skipped, reason: "auto_mode is on, wants off")],
            actions: [PerformedAction(flow: "Forward", type: "forward_to_group")], at: 0)
        try await trace(database, .telegramMessage, user: "7", trigger: .telegramMessage, at: 60)
        try await trace(database, .telegramReply, user: nil, trigger: nil, note: "a staff message that is not a reply to a forwarded user message", at: 120)
        try await trace(
            database, .historyFetch, user: "1", trigger: .historyFirstFetchToday, flows: [FlowOutcome(name: "Greeting", result: .ran, variant: "warm")],
            actions: [PerformedAction(flow: "Greeting", type: "greet", text: "Hello <b>Ann</b>")], at: 3600)
        try await trace(
            database, .appMessage, user: "2", trigger: .appMessage,
            flows: [
                FlowOutcome(name: "Forward", result: .ran), FlowOutcome(name: "Gate", result: .ran, reason: "ran 'else': text_contains 'x' not in 'hi'"),
            ], at: 7200)
        for (user, source) in [("1", ChatSource.app), ("7", .telegram)] {
            var record = RunRecord()
            record.messages = [StoredMessage(userID: user, source: source, direction: .user, text: "hi", at: t0, author: .customer)]
            _ = try await database.commit(record)
        }
        return database
    }

    func ids(_ database: ReplyflowDatabase, _ query: TraceQuery) async throws -> [Int64] {
        try await database.traces(query).rows.map(\.id)
    }

    @Test("rows are stored one per flow, or one without a flow saying why; read newest first with what each did and its chat")
    func rowsAsStored() async throws {
        let database = try await Self.seeded()
        let page = try await database.traces(TraceQuery())
        #expect(page.rows.map(\.id) == [7, 6, 5, 4, 3, 2, 1])
        #expect(page.older == nil && !page.stoppedScanning)
        let byID = Dictionary(uniqueKeysWithValues: page.rows.map { ($0.id, $0) })
        let forward = try #require(byID[1])
        #expect(forward.flow == "Forward" && forward.result == .ran && forward.trigger == "app_message" && forward.eventKind == .appMessage)
        #expect(forward.actions == ["forward_to_group"])
        #expect(byID[2]?.result == .skipped && byID[2]?.reason == "auto_mode is on, wants off" && byID[2]?.actions == [])
        let noListener = try #require(byID[3])
        #expect(noListener.flow == nil && noListener.result == .noFlow && noListener.note == "no flow listens to this trigger")
        let noTrigger = try #require(byID[4])
        #expect(noTrigger.result == .noFlow && noTrigger.trigger == nil && noTrigger.userID == nil)
        #expect(noTrigger.note == "a staff message that is not a reply to a forwarded user message")
        #expect(byID[5]?.variant == "warm" && byID[5]?.actions == ["greet: Hello <b>Ann</b>"])
        // Chats: user 1's on the app (a history fetch is the app's too), user 7's on Telegram; user 2 never wrote.
        let chats = try await database.writer.read { db in
            try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT source, id FROM conversations").map { ($0[0] as String, $0[1] as Int64) })
        }
        #expect(forward.chatID == chats["app"] && byID[5]?.chatID == chats["app"])
        #expect(noListener.chatID == chats["telegram"])
        #expect(byID[7]?.chatID == nil && noTrigger.chatID == nil)
    }

    @Test("each filter narrows the rows, alone and together")
    func filters() async throws {
        let database = try await Self.seeded()
        #expect(try await ids(database, TraceQuery(flow: "Forward")) == [6, 1])
        #expect(try await ids(database, TraceQuery(flow: "Nobody")) == [])
        #expect(try await ids(database, TraceQuery(userID: "1")) == [5, 2, 1])
        #expect(try await ids(database, TraceQuery(result: .ran)) == [7, 6, 5, 1])
        #expect(try await ids(database, TraceQuery(result: .skipped)) == [2])
        #expect(try await ids(database, TraceQuery(result: .noFlow)) == [4, 3])
        #expect(try await ids(database, TraceQuery(trigger: .telegramMessage)) == [3])
        #expect(try await ids(database, TraceQuery(trigger: .appMessage)) == [7, 6, 2, 1])
        let at = { (seconds: Double) in Self.t0.addingTimeInterval(seconds) }
        #expect(try await ids(database, TraceQuery(since: at(60), until: at(3600))) == [4, 3], "since is inclusive, until is not")
        #expect(try await ids(database, TraceQuery(since: at(3600))) == [7, 6, 5])
        #expect(try await ids(database, TraceQuery(until: at(60))) == [2, 1])
        #expect(try await ids(database, TraceQuery(since: at(9000))) == [])
        #expect(try await ids(database, TraceQuery(flow: "Gate", result: .skipped)) == [2])
        #expect(try await ids(database, TraceQuery(flow: "Forward", userID: "1")) == [1])
        #expect(try await ids(database, TraceQuery(userID: "7", result: .noFlow)) == [3])
        #expect(try await ids(database, TraceQuery(userID: "1", trigger: .historyFirstFetchToday, since: at(1))) == [5])
    }

    @Test("pages go back by id with the older cursor until none is left")
    func paging() async throws {
        let database = try await Self.seeded()
        let first = try await database.traces(TraceQuery(limit: 3))
        #expect(first.rows.map(\.id) == [7, 6, 5] && first.older == 5)
        let second = try await database.traces(TraceQuery(before: first.older, limit: 3))
        #expect(second.rows.map(\.id) == [4, 3, 2] && second.older == 2)
        let third = try await database.traces(TraceQuery(before: second.older, limit: 3))
        #expect(third.rows.map(\.id) == [1] && third.older == nil)
        // Filters and pages together; a page exactly full has no older page.
        let ran = try await database.traces(TraceQuery(result: .ran, limit: 2))
        #expect(ran.rows.map(\.id) == [7, 6] && ran.older == 6)
        #expect(try await database.traces(TraceQuery(result: .ran, before: 6, limit: 2)).rows.map(\.id) == [5, 1])
        let exact = try await database.traces(TraceQuery(flow: "Forward", limit: 2))
        #expect(exact.rows.map(\.id) == [6, 1] && exact.older == nil)
        #expect(TraceQuery(limit: 5000).limit == TraceQuery.maxLimit && TraceQuery(limit: 0).limit == 1)
    }

    @Test("a trigger alone reads at most scanLimit rows a page and says where it stopped; a flow goes straight to its rows")
    func boundedScan() async throws {
        let database = try ReplyflowDatabase()
        try await Self.trace(database, .telegramMessage, user: "7", trigger: .telegramMessage, flows: [FlowOutcome(name: "Rare", result: .ran)], at: 0)
        let filler = TraceQuery.scanLimit + 10
        try await database.writer.write { db in
            let insert = try db.makeStatement(
                sql: "INSERT INTO run_traces (at, event_kind, trigger, user_id, flow, result) VALUES (?, 'app_message', 'app_message', 'u', 'Common', 'ran')")
            for index in 0..<filler { try insert.execute(arguments: [Self.t0.timeIntervalSince1970 + 1 + Double(index) / 1000]) }
        }
        let newest = filler + 1
        let first = try await database.traces(TraceQuery(trigger: .telegramMessage))
        #expect(first.rows.isEmpty && first.stoppedScanning)
        #expect(first.older == newest - TraceQuery.scanLimit + 1, "the next page starts where this one stopped")
        let second = try await database.traces(TraceQuery(trigger: .telegramMessage, before: first.older))
        #expect(second.rows.map(\.id) == [1] && !second.stoppedScanning && second.older == nil)
        let byFlow = try await database.traces(TraceQuery(flow: "Rare"))
        #expect(byFlow.rows.map(\.id) == [1] && !byFlow.stoppedScanning)
        // A period starting near the end reads only its rows, without stopping.
        let recent = try await database.traces(TraceQuery(trigger: .telegramMessage, since: Self.t0.addingTimeInterval(2)))
        #expect(recent.rows.isEmpty && !recent.stoppedScanning && recent.older == nil)
    }

    @Test("a flow filter and rows without a flow are read through run_traces_by_flow (v18), a user with a flow through the user's index")
    func indexes() async throws {
        let database = try ReplyflowDatabase()
        let plans = try await database.writer.read { db in
            try ["flow = 'x'", "flow IS NULL", "user_id = 'u' AND +flow = 'x'"].map { condition in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT * FROM run_traces WHERE id BETWEEN 1 AND 9 AND \(condition) ORDER BY id DESC LIMIT 5")
                    .map { String($0["detail"] as String? ?? "") }.joined(separator: "; ")
            }
        }
        #expect(plans[0].contains("run_traces_by_flow"), "\(plans[0])")
        #expect(plans[1].contains("run_traces_by_flow"), "\(plans[1])")
        #expect(plans[2].contains("run_traces_by_user"), "\(plans[2])")
        #expect(!plans.joined().contains("TEMP B-TREE"), "newest first straight from the index: \(plans)")
    }

    @Test("filters as people type them: durations, local and offset times, and a clear error for anything else")
    func filterText() throws {
        let now = Self.t0
        let moscow = try #require(TimeZone(identifier: "Europe/Moscow"))
        func query(_ text: TraceFilterText) throws -> TraceQuery { try TraceQuery(text, now: now, timeZone: moscow) }
        func refusal(_ text: TraceFilterText) -> String? {
            do {
                _ = try query(text)
                return nil
            } catch {
                return "\(error)"
            }
        }
        #expect(try query(TraceFilterText()) == TraceQuery())
        #expect(
            try query(TraceFilterText(flow: " Greeting ", user: "42", result: "no_flow", trigger: "app_message", limit: "50"))
                == TraceQuery(flow: "Greeting", userID: "42", result: .noFlow, trigger: .appMessage, limit: 50))
        #expect(try query(TraceFilterText(flow: "", user: " ", result: "")) == TraceQuery(), "blank is any")
        #expect(try query(TraceFilterText(since: "1d")).since == now.addingTimeInterval(-86_400))
        #expect(try query(TraceFilterText(since: "30m")).since == now.addingTimeInterval(-1800))
        #expect(try query(TraceFilterText(since: "2026-11-20T10:00")).since == Timestamp.parse("2026-11-20T07:00:00Z"), "local time in the zone")
        #expect(try query(TraceFilterText(since: "2026-11-20")).since == Timestamp.parse("2026-11-19T21:00:00Z"), "a day is its midnight")
        #expect(try query(TraceFilterText(until: "2026-11-20T10:00:00Z")).until == Timestamp.parse("2026-11-20T10:00:00Z"))
        #expect(try query(TraceFilterText(before: "12")).before == 12)

        #expect(refusal(TraceFilterText(result: "failed")) == #"result must be ran, skipped or no_flow (got "failed")"#)
        #expect(refusal(TraceFilterText(trigger: "sms"))?.hasPrefix("trigger must be one of app_message, ") == true)
        #expect(refusal(TraceFilterText(since: "yesterday"))?.hasPrefix("since must be a duration back from now (30m, 12h, 1d, 7d)") == true)
        #expect(refusal(TraceFilterText(until: "2026-02-30"))?.hasPrefix("until must be") == true)
        #expect(refusal(TraceFilterText(since: "infd")) != nil && refusal(TraceFilterText(since: "-1d")) != nil && refusal(TraceFilterText(since: "0d")) != nil)
        #expect(refusal(TraceFilterText(since: "1d", until: "2d")) == "until must be later than since")
        #expect(refusal(TraceFilterText(user: String(repeating: "9", count: 129))) == "a user id is at most 128 characters")
        #expect(refusal(TraceFilterText(flow: String(repeating: "f", count: 201))) == "a flow name is at most 200 characters")
        #expect(refusal(TraceFilterText(before: "0")) != nil && refusal(TraceFilterText(before: "99999999999999999999")) != nil)
        #expect(refusal(TraceFilterText(limit: "0")) != nil && refusal(TraceFilterText(limit: "1001")) != nil && refusal(TraceFilterText(limit: "ten")) != nil)
        let long = refusal(TraceFilterText(result: String(repeating: "x", count: 5000))) ?? ""
        #expect(long.count < 120, "a refused value is quoted short: \(long)")
    }
}
