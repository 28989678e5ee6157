import Flows
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Storage
import Testing

@testable import Server
import TestSupport

/// The traces page ("why didn't it fire?") at the router: who may see it, its filters on
/// known traces, the links to each row's chat and flow, paging, refusals of bad filter
/// values (400, never 500), and customer text escaped.
@Suite("Admin: the traces page", .machineShare)
struct TracesPageTests {
    static let forward = "Forward app messages to staff"
    static let autoReply = "Assistant auto-reply"
    static let script = "<script>alert(1)</script>"

    /// Five runs over three days before the clock's now (2026-01-01 10:00 UTC), committed as
    /// the server commits them: rows 1 to 5, and the app chat of user u-1.
    static func seed(_ database: ReplyflowDatabase, now: Date) async throws -> Int64 {
        func run(_ kind: EventKind, user: String?, trigger: Trigger?, note: String? = nil, flows: [FlowOutcome], actions: [PerformedAction] = [], ago: Double)
            async throws
        {
            var result = RunResult(trigger: trigger, note: note, userID: user)
            result.flows = flows
            result.actions = actions
            var record = RunRecord()
            record.trace = RunRecord.Trace(result: result, kind: kind, at: now.addingTimeInterval(-ago))
            _ = try await database.commit(record)
        }
        try await run(.appMessage, user: "u-1", trigger: .appMessage, flows: [FlowOutcome(name: forward, result: .ran)], ago: 3 * 86_400)
        try await run(
            .instagramDM, user: "ig-9", trigger: .instagramDM,
            flows: [FlowOutcome(name: autoReply, result: .skipped, reason: "text_contains: 'refund' is not in '\(script)'")], ago: 2 * 3600)
        try await run(.telegramReply, user: nil, trigger: nil, note: "a staff message that is not a reply to a forwarded user message", flows: [], ago: 1800)
        try await run(
            .appMessage, user: "u-1", trigger: .appMessage,
            flows: [
                FlowOutcome(name: forward, result: .ran), FlowOutcome(name: "Old flow", result: .skipped, reason: "the flow is disabled (enabled: false)"),
            ],
            actions: [PerformedAction(flow: forward, type: "reply", text: "Hi \(script)")], ago: 600)
        var message = RunRecord()
        message.messages = [StoredMessage(userID: "u-1", source: .app, direction: .user, text: "hi", at: now.addingTimeInterval(-600), author: .customer)]
        _ = try await database.commit(message)
        return try await database.writer.read { db in
            try #require(try Int64.fetchOne(db, sql: "SELECT id FROM conversations WHERE source = 'app' AND platform_chat_id = 'u-1'"))
        }
    }

    static func run(_ body: @escaping @Sendable (PanelBrowser, _ chatID: Int64) async throws -> Void) async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let clock = TestClock()
        let app = try admin.build(clock: clock)
        try await AdminHarness.addAccounts(["erin": .editor, "sam": .agent, "ada": .admin], to: app.database)
        let chatID = try await seed(app.database, now: clock.now)
        try await app.application.test(.router) { client in
            let erin = PanelBrowser(client)
            try await erin.logIn("erin")
            try await body(erin, chatID)
        }
    }

    /// The table's rows, newest first, each as its HTML.
    static func rows(_ html: String) -> [String] {
        html.components(separatedBy: #"<tr class="trace-"#).dropFirst().map { $0.components(separatedBy: "</tr>")[0] }
    }

    @Test("signed out is sent to log in; agents are refused; editors and admins see the page and its nav link")
    func roles() async throws {
        try await Self.run { erin, _ in
            let anonymous = try await erin.client.execute(uri: "/admin/traces?flow=x", method: .get)
            #expect(anonymous.status == .seeOther)
            #expect(anonymous.headers[.location] == "/admin/login?next=/admin/traces%3Fflow%3Dx")

            let sam = PanelBrowser(erin.client)
            try await sam.logIn("sam")
            #expect(try await sam.get("/admin/traces").status == .forbidden)
            #expect(!(try await sam.get("/admin")).text.contains(#"href="/admin/traces""#), "no Traces link for an agent")

            let page = try await erin.get("/admin/traces")
            #expect(page.status == .ok)
            #expect(page.text.contains("why did (or didn't) it fire?"))
            #expect(page.text.contains(#"href="/admin/traces""#), "the nav links the traces for an editor")
            #expect(Self.rows(page.text).count == 5)

            let ada = PanelBrowser(erin.client)
            try await ada.logIn("ada")
            #expect(try await ada.get("/admin/traces").status == .ok)
        }
    }

    @Test("each filter narrows the rows: flow, user, result, trigger, a recent period, since and until")
    func filters() async throws {
        try await Self.run { erin, _ in
            func rows(_ query: String) async throws -> [String] {
                let page = try await erin.get("/admin/traces?" + query)
                #expect(page.status == .ok, "\(query): \(page.text.prefix(500))")
                return Self.rows(page.text)
            }
            let flow = try await rows("flow=Forward+app+messages+to+staff")
            #expect(flow.count == 2 && flow.allSatisfy { $0.contains(Self.forward) })
            #expect(try await rows("user=u-1").count == 3)
            let noFlow = try await rows("result=no_flow")
            #expect(noFlow.count == 1 && noFlow[0].contains("a staff message that is not a reply to a forwarded user message"))
            #expect(noFlow[0].contains("no flow") && noFlow[0].contains("telegram_reply"))
            let skipped = try await rows("result=skipped")
            #expect(skipped.count == 2 && skipped[0].contains("Old flow") && skipped[0].contains("the flow is disabled (enabled: false)"))
            let instagram = try await rows("trigger=instagram_dm")
            #expect(instagram.count == 1 && instagram[0].contains(Self.autoReply))
            #expect(try await rows("last=1h").count == 3, "the runs of 30 and 10 minutes ago")
            #expect(try await rows("last=1d").count == 4)
            #expect(try await rows("since=2025-12-29T00:00&until=2026-01-01T09:00").count == 2, "local times in the server's zone (UTC)")
            #expect(try await rows("user=u-1&result=ran&last=1d").count == 1)
            let none = try await erin.get("/admin/traces?flow=Nobody")
            #expect(Self.rows(none.text).isEmpty && none.text.contains("No traces match these filters."))
            #expect(none.text.contains(#"<option value="Nobody" selected>"#), "a flow that no longer runs stays chosen")
        }
    }

    @Test("a row links to its chat and to its flow's editor when the flow's file is there")
    func links() async throws {
        try await Self.run { erin, chatID in
            let page = try await erin.get("/admin/traces?user=u-1")
            let rows = Self.rows(page.text)
            #expect(rows.count == 3)
            #expect(rows.allSatisfy { $0.contains(#"<a href="/admin/chats/\#(chatID)" title="open the chat">u-1</a>"#) })
            #expect(rows[0].contains("Old flow") && !rows[0].contains("/admin/flows/"), "a flow the server does not run has no editor link")
            #expect(rows[1].contains(#"<a href="/admin/flows/app-message-to-staff.yaml" title="open the flow">\#(Self.forward)</a>"#))
            let instagram = Self.rows(try await erin.get("/admin/traces?trigger=instagram_dm").text)
            #expect(instagram.count == 1 && !instagram[0].contains("/admin/chats/"), "a user without a chat has no chat link")
            #expect(instagram[0].contains(#"href="/admin/flows/auto-reply.yaml""#))
        }
    }

    @Test("pages go back with the older link, keeping the filters, and come back with the newest link")
    func paging() async throws {
        try await Self.run { erin, _ in
            let first = try await erin.get("/admin/traces?limit=2")
            #expect(Self.rows(first.text).count == 2)
            #expect(first.text.contains(#"<a href="/admin/traces?limit=2&amp;before=4">Older →</a>"#), "\(first.text.suffix(600))")
            #expect(!first.text.contains("← Newest"))
            let second = try await erin.get("/admin/traces?limit=2&before=4")
            #expect(Self.rows(second.text).count == 2 && Self.rows(second.text)[0].contains("a staff message"))
            #expect(second.text.contains(#"<a href="/admin/traces?limit=2">← Newest</a>"#))
            let last = try await erin.get("/admin/traces?limit=2&before=2")
            #expect(Self.rows(last.text).count == 1 && !last.text.contains("Older →"))
            let filtered = try await erin.get("/admin/traces?user=u-1&limit=1")
            #expect(filtered.text.contains(#"href="/admin/traces?user=u-1&amp;limit=1&amp;before=5""#))
        }
    }

    @Test("bad filter values are a 400 page that says what would do, never a 500")
    func badInput() async throws {
        try await Self.run { erin, _ in
            let cases: [(String, String)] = [
                ("result=failed", "result must be ran, skipped or no_flow"),
                ("trigger=sms", "trigger must be one of app_message"),
                ("since=tomorrow", "since must be a duration back from now"),
                ("until=2026-02-30", "until must be"),
                ("since=2026-01-01T10:00&until=2025-01-01", "until must be later than since"),
                ("user=" + String(repeating: "7", count: 5000), "a user id is at most 128 characters"),
                ("flow=" + String(repeating: "f", count: 300), "a flow name is at most 200 characters"),
                ("before=abc", "before must be a trace id"),
                ("before=-4", "before must be a trace id"),
                ("before=99999999999999999999999", "before must be a trace id"),
                ("limit=5000", "limit must be a whole number from 1 to 1000"),
                ("last=2d", "last must be 1h, 1d, 7d or 30d"),
                ("last=1d&since=2026-01-01T00:00", "not both"),
            ]
            for (query, message) in cases {
                let response = try await erin.get("/admin/traces?" + query)
                #expect(response.status == .badRequest, "\(query.prefix(60)): \(response.status)")
                #expect(
                    response.text.contains("<h1>400 Bad Request</h1>") && response.text.contains(message), "\(query.prefix(60)): \(response.text.prefix(800))")
            }
            // Odd but harmless values are filters like any other.
            for query in ["user=%FF%FE", "flow=%00", "user=%3Cscript%3E", "since=&until=&result=&last=", "unknown=1"] {
                #expect(try await erin.get("/admin/traces?" + query).status == .ok, "\(query)")
            }
        }
    }

    @Test("customer text in reasons, actions and filters is escaped")
    func escaping() async throws {
        try await Self.run { erin, _ in
            let page = try await erin.get("/admin/traces?user=%3Cscript%3Ealert(2)%3C%2Fscript%3E")
            #expect(page.status == .ok)
            #expect(!page.text.contains("<script>alert(2)"))
            #expect(page.text.contains("&lt;script&gt;alert(2)&lt;/script&gt;"), "the user filter is shown back, escaped")
            let all = try await erin.get("/admin/traces")
            #expect(!all.text.contains(Self.script))
            #expect(all.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(all.text.contains("reply: Hi &lt;script&gt;"), "what the flow did, escaped")
        }
    }

    @Test("the flows list and the editor link to the flow's traces")
    func studioLinks() async throws {
        try await Self.run { erin, _ in
            let href = #"href="/admin/traces?flow=Forward%20app%20messages%20to%20staff&amp;last=7d""#
            #expect(try await erin.get("/admin/flows").text.contains(href))
            #expect(try await erin.get("/admin/flows/app-message-to-staff.yaml").text.contains(href))
            let linked = try await erin.get("/admin/traces?flow=Forward%20app%20messages%20to%20staff&last=7d")
            #expect(Self.rows(linked.text).count == 2)
        }
    }
}
