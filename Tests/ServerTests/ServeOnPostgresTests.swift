import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresStorage
import Storage
import TestServers
import TestSupport
import Testing

@testable import Server

/// `replyflow serve` on PostgreSQL: two instances on one database, driven through their
/// routers, answer as one server would.
@Suite(
    "Serving on PostgreSQL", .timeLimit(.minutes(5)),
    .disabled(if: PostgresCluster.skipReason != nil, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"),
    .machineShare)
struct ServeOnPostgresTests {
    private static let apiKey = "pg-api-key"
    private let jsonHeaders: HTTPFields = [.contentType: "application/json"]
    private var authorized: HTTPFields { [.contentType: "application/json", .init("X-API-Key")!: Self.apiKey] }

    private func json(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
    }

    @Test("two instances on one database: what one accepts the other shows; one greeting for fetches spread over both; each message forwarded once")
    func twoInstances() async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        harness.configuration.apiKey = Self.apiKey
        let (portsA, portsB) = (TestPorts(), TestPorts())
        try await harness.withTwoServers(ports: (portsA, portsB)) { a, b, _ in
            try await exercise(a, b, portsA, portsB)
        }
        #expect(portsA.violations.isEmpty && portsB.violations.isEmpty)
    }

    private func exercise(_ a: some TestClientProtocol, _ b: some TestClientProtocol, _ portsA: TestPorts, _ portsB: TestPorts) async throws {
        // A device registered on one instance is seen on the other.
        let registered = try await a.execute(
            uri: "/register_device", method: .post, headers: jsonHeaders, body: json(["user_id": "u2", "fcm_token": "token-1", "device_id": "phone"]))
        #expect(registered.status == .ok)
        #expect(try await b.execute(uri: "/check_device/u2", method: .get).json["device_count"] as? Int == 1)

        // First history fetches of one user, spread over both at once: one greeting.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<10 {
                group.addTask {
                    let response = try await (index % 2 == 0 ? a : b as any TestClientProtocol).execute(uri: "/message_history/g1", method: .get)
                    #expect(response.status == .ok)
                }
            }
            try await group.waitForAll()
        }
        let greetings = try await b.execute(uri: "/message_history/g1", method: .get).json["messages"] as? [[String: Any]] ?? []
        #expect(greetings.filter { $0["direction"] as? String == "support" }.count == 1, "\(greetings)")

        // A message accepted by A: in the history B shows, in B's /api, and forwarded to the
        // staff group once, by whichever instance claimed its lane.
        let sent = try await a.execute(
            uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "u2", "user_name": "Ulla", "message": "hello from A"]))
        #expect(sent.status == .ok)
        let history = try await b.execute(uri: "/message_history/u2", method: .get).json["messages"] as? [[String: Any]] ?? []
        #expect(history.contains { $0["message"] as? String == "hello from A" && $0["direction"] as? String == "user" }, "\(history)")
        let chats = try await b.execute(uri: "/api/chats", method: .get, headers: authorized)
        #expect(chats.status == .ok)
        #expect((chats.json["chats"] as? [[String: Any]])?.contains { $0["platformChatId"] as? String == "u2" } == true, "\(chats.json)")
        let forwards = try await waitFor(timeout: .seconds(20)) { () -> Int? in
            let count = (portsA.staffGroup.sent + portsB.staffGroup.sent).filter { ($0.plainText ?? "").contains("hello from A") }.count
            return count > 0 ? count : nil
        }
        try await Task.sleep(for: .seconds(2))
        #expect((portsA.staffGroup.sent + portsB.staffGroup.sent).filter { ($0.plainText ?? "").contains("hello from A") }.count == forwards)
        #expect(forwards == 1)

        // A NUL in a user id, which PostgreSQL cannot store, is the caller's mistake: 400,
        // not a 503 to be retried for ever.
        let nul = try await a.execute(
            uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "u\u{0}2", "message": "hi"]))
        #expect(nul.status == .badRequest, "\(String(buffer: nul.body))")
        for fields in [["user_id": "u2", "message": "a\u{0}b"], ["user_id": "u2", "user_name": "U\u{0}", "message": "hi"]] {
            let refused = try await b.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(fields))
            #expect(refused.status == .badRequest, "\(fields): \(String(buffer: refused.body))")
        }
        let badDevice = try await a.execute(
            uri: "/register_device", method: .post, headers: jsonHeaders, body: json(["user_id": "u2", "fcm_token": "t\u{0}"]))
        #expect(badDevice.status == .badRequest, "\(String(buffer: badDevice.body))")

        // Ready: the database answers, flows are loaded.
        for client in [a, b] as [any TestClientProtocol] {
            let ready = try await client.execute(uri: "/ready", method: .get)
            #expect(ready.status == .ok, "\(String(buffer: ready.body))")
        }
    }

    @Test("the admin panel on two instances: a session from one works on the other; inbox, studio, traces, experiments, users, audit and erasure share one database")
    func adminPanelOnTwoInstances() async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        harness.configuration.apiKey = Self.apiKey
        harness.configuration.staffBcryptCost = 4
        try await harness.withTwoServers { database in
            let hash = try await PasswordHasher(cost: 4).hash(AdminHarness.password)
            let staff = PostgresStaffStore(database)
            _ = try await staff.addAccount(username: "anna", role: .admin, passwordHash: hash)
            _ = try await staff.addAccount(username: "sam", role: .agent, passwordHash: hash)
        } _: { a, b, database in
            try await exercisePanel(a, b, database: database)
        }
    }

    private func exercisePanel(_ a: some TestClientProtocol, _ b: some TestClientProtocol, database: ReplyflowPostgres) async throws {
        // Signed in on A; the same cookie and token work on B (sessions are in the database).
        let onA = PanelBrowser(a)
        #expect(try await onA.logIn("anna").status == .seeOther)
        let onB = PanelBrowser(b)
        onB.cookie = onA.cookie
        onB.csrf = onA.csrf
        #expect(try await onB.get("/admin/users").text.contains("sam"))

        // A customer writes through A; B's inbox lists the chat, opens it, and replies.
        let sent = try await a.execute(
            uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "pc1", "user_name": "Pia", "message": "where is my order"]))
        #expect(sent.status == .ok)
        let list = try await onB.get("/admin")
        #expect(list.status == .ok && list.text.contains("Pia"), "\(list.text.prefix(300))")
        let chatID = try #require(
            try await database.client.query("SELECT id FROM conversations WHERE platform_chat_id = 'pc1'", logger: ServerHarness.quietLogger)
                .decode(Int64.self).first { _ in true })
        let open = try await onB.get("/admin/chats/\(chatID)")
        #expect(open.status == .ok && open.text.contains("where is my order"))
        #expect(try await onB.post("/admin/chats/\(chatID)/reply", [("text", "on its way")]).status == .seeOther)
        let history = try await a.execute(uri: "/message_history/pc1", method: .get).json["messages"] as? [[String: Any]] ?? []
        #expect(history.contains { $0["message"] as? String == "on its way" }, "\(history)")

        // A flow saved on A is in B's history of the file and in the file both read.
        let flow = "name: Panel test\non: app_message\ndo:\n  - reply: \"thanks\"\n"
        let saved = try await onA.post("/admin/flows/panel-test.yaml", [("content", flow), ("comment", "from A")])
        #expect(saved.status == .seeOther, "\(saved.text.prefix(500))")
        let versions = try await onB.get("/admin/flows/panel-test.yaml/history")
        #expect(versions.status == .ok && versions.text.contains("from A"), "\(versions.text.prefix(500))")
        for page in ["/admin/flows", "/admin/traces", "/admin/experiments", "/admin/audit"] {
            let response = try await onB.get(page)
            #expect(response.status == .ok, "\(page): \(response.status)")
        }
        #expect(try await onB.get("/admin/traces").text.contains("pc1"))
        #expect(try await onA.get("/admin/audit").text.contains("login"))

        // Erased through B: gone from A's inbox and history, and from the live events (their
        // socket.io messages hold the texts).
        func liveEvents() async throws -> Int64 {
            try await database.client.query("SELECT count(*) FROM live_events WHERE chat_id = 'pc1'", logger: ServerHarness.quietLogger)
                .decode(Int64.self).first { _ in true } ?? 0
        }
        #expect(try await liveEvents() > 0)
        let erased = try await onB.post("/admin/chats/\(chatID)/erase", [("confirm", "erase")])
        #expect(erased.status == .ok && erased.text.contains("messages"), "\(erased.text.prefix(300))")
        #expect(try await liveEvents() == 0)
        #expect(try await onA.get("/admin/chats/\(chatID)").status == .notFound)
        let after = try await a.execute(uri: "/message_history/pc1", method: .get).json["messages"] as? [[String: Any]] ?? []
        #expect(!after.contains { $0["message"] as? String == "where is my order" })

        // An agent may not reach the admin's pages on either instance.
        let agent = PanelBrowser(b)
        #expect(try await agent.logIn("sam").status == .seeOther)
        #expect(try await agent.get("/admin/users").status == .forbidden)
        #expect(try await onA.post("/admin/logout").status == .seeOther)
        #expect(try await onB.get("/admin/users").status != .ok, "a session ended on A is over on B")
    }

    @Test("a database that cannot be reached: /health says so (200), /ready and the app's requests answer 503 with JSON, nothing crashes")
    func databaseAway() async throws {
        let logger = ServerHarness.quietLogger
        // Nothing listens on this port: every connection is refused at once.
        let url = try DatabaseURL.parse("postgres://rf@127.0.0.1:\(try PostgresCluster.freePort())/replyflow?sslmode=disable")
        let postgres = ReplyflowPostgres(url: url, logger: logger)
        let pool = Task { await postgres.run() }
        defer { pool.cancel() }
        var harness = try ServerHarness()
        defer { harness.remove() }
        harness.configuration.apiKey = Self.apiKey
        let app = try harness.build(ports: TestPorts(), storage: try .postgres(postgres, logger: logger))
        try await app.application.test(.router) { client in
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .ok)
            #expect(health.json["database"] as? String == "down")
            #expect(try await client.execute(uri: "/ready", method: .get).status == .serviceUnavailable)
            let requests: [(String, HTTPRequest.Method, ByteBuffer?)] = [
                ("/message_history/u1", .get, nil), ("/check_device/u1", .get, nil),
                ("/send_message", .post, json(["user_id": "u1", "message": "hello"])),
                ("/register_device", .post, json(["user_id": "u1", "fcm_token": "t"])),
            ]
            for (uri, method, body) in requests {
                // At once: the database's own watch says it is away; the pool would make a
                // request wait about a minute before giving up.
                let started = ContinuousClock.now
                let response = try await client.execute(uri: uri, method: method, headers: jsonHeaders, body: body)
                #expect(started.duration(to: .now) < .seconds(5), "\(uri) took \(started.duration(to: .now))")
                #expect(response.status == .serviceUnavailable, "\(method) \(uri): \(response.status)")
                #expect(response.headers[.retryAfter] == "1", "\(uri)")
                #expect(!String(buffer: response.body).isEmpty && response.json.isEmpty == false, "\(uri): \(String(buffer: response.body))")
            }
            let chats = try await client.execute(uri: "/api/chats", method: .get, headers: authorized)
            #expect(chats.status == .serviceUnavailable)
            // The panel says so on a page; what needs no database still answers.
            let panel = try await client.execute(uri: "/admin/login", method: .get)
            #expect(panel.status == .serviceUnavailable && String(buffer: panel.body).contains("database"), "\(String(buffer: panel.body).prefix(200))")
            #expect(try await client.execute(uri: "/openapi.json", method: .get).status == .ok)
        }
    }

    @Test(
        "webhook or polling, two instances: an update kept and left with nobody to handle it (its instance died) is handled by the leader's sweep",
        arguments: [true, false])
    func staleUpdate(webhook: Bool) async throws {
        let logger = ServerHarness.quietLogger
        let telegram = FakeTelegramServer()
        var harness = try ServerHarness()
        defer { harness.remove() }
        harness.configuration.botToken = telegram.token
        harness.configuration.groupChatID = -100_555
        harness.configuration.telegramAPIURL = try await telegram.start().absoluteString
        if webhook {
            harness.configuration.telegramWebhookURL = "https://replyflow.example/webhooks/telegram"
            harness.configuration.telegramWebhookSecret = "shared-webhook-secret-0123456789"
        }
        try await harness.withTwoServers { _, _, database in
            // After both started (each handles the inbox's leftovers at start): an update
            // kept a minute ago, with its chat, by an instance that died before handling
            // it. Telegram had its 200 (or its offset moved on) and will not send it again.
            // (Driven through the routers, the servers never listen, so no poller starts:
            // only the sweep can find the update.)
            try await Task.sleep(for: .seconds(1))
            let update =
                #"{"update_id": 900, "message": {"message_id": 5, "date": 1767261600, "chat": {"id": 4242, "type": "private", "first_name": "Olga"}, "from": {"id": 4242, "is_bot": false, "first_name": "Olga"}, "text": "left behind"}}"#
            _ = try await database.client.query(
                "INSERT INTO telegram_inbox (update_id, body, received_at, chat_id) VALUES (900, \(update), \(Date().timeIntervalSince1970 - 60), 4242)", logger: logger
            ).collect()
            _ = try await waitFor(timeout: .seconds(40)) { () -> Bool? in
                let stored = try await database.client.query("SELECT count(*) FROM messages WHERE text = 'left behind'", logger: logger)
                    .decode(Int64.self).first { _ in true } ?? 0
                let waiting = try await database.client.query("SELECT count(*) FROM telegram_inbox", logger: logger)
                    .decode(Int64.self).first { _ in true } ?? 0
                return stored == 1 && waiting == 0 ? true : nil
            }
        }
        await telegram.stop()
    }

    @Test("a webhook without a shared secret cannot work across instances: refused in one line at start-up")
    func unsupportedSettings() throws {
        let postgres = ReplyflowPostgres(url: try DatabaseURL.parse("postgres://rf@127.0.0.1:1/replyflow?sslmode=disable"), logger: ServerHarness.quietLogger)
        let harness = try ServerHarness()
        defer { harness.remove() }
        var webhook = harness.configuration
        webhook.telegramWebhookURL = "https://example.org/webhooks/telegram"
        let refusedWebhook = #expect(throws: StartupError.self) {
            _ = try ReplyflowServer.buildApplication(configuration: webhook, logger: ServerHarness.quietLogger, storage: try .postgres(postgres, logger: ServerHarness.quietLogger))
        }
        #expect(refusedWebhook?.description.hasPrefix("TELEGRAM_WEBHOOK_SECRET is required with DATABASE_URL") == true)
    }
}
