import Foundation
import Logging
import PostgresStorage
import Synchronization
import TestServers
import TestSupport
import Testing

/// The scale-out story, as an operator runs it: three `replyflow serve` processes on one
/// PostgreSQL database, with fake Telegram, FCM, Brevo and OpenAI on loopback. App
/// messages, history fetches, Telegram customers, staff replies and Instagram webhooks are
/// spread over the instances; the instance polling Telegram is killed with SIGKILL in the
/// middle; an SSE client and a socket.io client move to the survivors. Nothing accepted is
/// lost, nothing is sent twice beyond one repeat per lane the killed instance held, and
/// every client sees what every instance committed.
@Suite(
    "Three replyflow serve processes on one PostgreSQL database", .timeLimit(.minutes(8)),
    .disabled(if: PostgresCluster.skipReason != nil, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"),
    .machineAlone)
struct ScaleOutStoryTests {
    static let group: Int64 = -100_777
    static let apiKey = "scale-out-api-key"
    static let brevoSecret = "scale-out-brevo-secret-0123456789"
    static let customer: Int64 = 700_001
    static let visitor = "ig-visitor-1"

    /// The fakes, the instances and the database.
    final class Scene: Sendable {
        let telegram = FakeTelegramServer()
        let brevo = FakeBrevoServer()
        let openAI = FakeOpenAIServer()
        let fcm = FakeFCMServer()
        let harness: ServerHarness
        let databaseURL: String
        let servers: [ServerProcess]

        init(binary: String, databaseURL: String) async throws {
            harness = try ServerHarness()
            self.databaseURL = databaseURL
            let accountPath = harness.directory + "/fcm-account.json"
            let fcmURL = try await fcm.start()
            try await fcm.serviceAccountJSON().write(toFile: accountPath, atomically: true, encoding: .utf8)
            let services = [
                "DATABASE_URL": databaseURL, "API_KEY": ScaleOutStoryTests.apiKey,
                "BOT_TOKEN": telegram.token, "GROUP_CHAT_ID": String(ScaleOutStoryTests.group),
                "TELEGRAM_API_URL": try await telegram.start().absoluteString, "TELEGRAM_POLL_TIMEOUT": "1",
                "OPENAI_BASE_URL": try await openAI.start().absoluteString, "OPENAI_API_KEY": openAI.apiKey, "OPENAI_MODEL": "gpt-test",
                "BREVO_API_URL": try await brevo.start().absoluteString, "BREVO_API_KEY": brevo.apiKey, "BREVO_AGENT_ID": "agent-7",
                "BREVO_WEBHOOK_SECRET": ScaleOutStoryTests.brevoSecret,
                "FCM_SERVICE_ACCOUNT_PATH": accountPath, "FCM_API_URL": fcmURL.absoluteString,
            ]
            let binary = binary, harness = harness
            servers = try ["a", "b", "c"].map { name in
                var environment = ServerProcess.environment(harness, port: try ServerProcess.freePort())
                environment["DATABASE_PATH"] = nil
                environment.merge(services) { $1 }
                return try ServerProcess(binary: binary, environment: environment, logPath: harness.directory + "/\(name).log")
            }
        }

        func tearDown() async {
            for server in servers { server.kill() }
            await telegram.stop()
            await brevo.stop()
            await openAI.stop()
            await fcm.stop()
            harness.remove()
        }

        /// The instance polling Telegram, once exactly one says it leads the poller.
        func pollerLeader() async throws -> ServerProcess {
            try await waitFor(timeout: .seconds(20)) {
                let leaders = servers.filter { server in
                    server.logTail(lines: 100_000).split(separator: "\n").contains { $0.contains("leading") && $0.contains("telegram.poller") }
                }
                return leaders.count == 1 ? leaders[0] : nil
            }
        }
    }

    @Test("three instances, every channel, the poller killed: nothing lost, at most one repeat per lane, one greeting, clients moved miss nothing")
    func story() async throws {
        let binary = try #require(ServerProcess.binary, "build replyflow first (swift build)")
        let cluster = try await PostgresCluster.shared()
        let databaseURL = cluster.url(database: try await cluster.makeDatabase())
        let scene = try await Scene(binary: binary, databaseURL: databaseURL)
        do {
            for server in scene.servers { try await server.waitForHealth() }
            var logger = Logger(label: "scale-out-story")
            logger.logLevel = .critical
            try await ReplyflowPostgres.withDatabase(try DatabaseURL.parse(databaseURL), logger: logger) { database in
                try await play(scene, database: database)
            }
        } catch {
            await scene.tearDown()
            throw error
        }
        await scene.tearDown()
    }

    /// What the clients sent and what the instances accepted.
    final class Ledger: Sendable {
        private let state = Mutex<(accepted: [String: [String]], ambiguous: Set<String>)>(([:], []))

        func accepted(_ text: String, lane: String) { state.withLock { $0.accepted[lane, default: []].append(text) } }
        func ambiguous(_ text: String) { _ = state.withLock { $0.ambiguous.insert(text) } }
        var acceptedByLane: [String: [String]] { state.withLock { $0.accepted } }
        var ambiguousTexts: Set<String> { state.withLock { $0.ambiguous } }
    }

    private func play(_ scene: Scene, database: ReplyflowPostgres) async throws {
        let servers = scene.servers
        let ledger = Ledger()
        let appUsers = ["app-1", "app-2"]
        // The app's phone for app-1.
        let device = try await servers[0].postJSON("/register_device", #"{"user_id": "app-1", "fcm_token": "token-app-1"}"#)
        #expect(device.status == 200)
        // The day's greeting for app-1 before its chat screens open, so they count replies.
        #expect(try await servers[1].request("GET", "/message_history/app-1").status == 200)

        let leader = try await scene.pollerLeader()
        let survivors = servers.filter { $0 !== leader }

        // An app chat screen on every instance, and a stream client on the one about to die.
        var rooms: [ChatClientProcess] = []
        defer { for room in rooms { room.stop() } }
        for server in servers {
            let room = try ChatClientProcess(
                script: "app_chat_client.py", arguments: [server.url(""), "app-1", "websocket", "120", server === leader ? "1" : "2"])
            rooms.append(room)
            _ = try await room.line(startingWith: "READY", timeout: .seconds(30))
        }
        let firstStream = try ChatClientProcess(script: "sse_client.py", arguments: [leader.url("/api/stream"), Self.apiKey, "100000", "-", "300"])
        defer { firstStream.stop() }
        _ = try await firstStream.line(startingWith: "READY text/event-stream")

        // Phase one, on all three: app messages, a Telegram customer, an Instagram visitor.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for user in appUsers {
                group.addTask { try await self.sendAppMessages(user, range: 0..<6, over: servers, ledger: ledger) }
            }
            group.addTask {
                for n in 0..<3 { try await scene.telegram.enqueueUpdate(Self.customerMessage("tg question \(n)")) }
            }
            group.addTask { try await self.sendInstagram(range: 0..<3, over: servers, ledger: ledger) }
            try await group.waitForAll()
        }
        // Staff answer app-1's first message; the reply is pushed and shown in its chats.
        let firstForward = try await waitFor(timeout: .seconds(30)) { () -> Int64? in
            await scene.telegram.sentMessages(chatID: Self.group).first { $0["text"]?.stringValue?.contains("[app-1 00]") == true }?["message_id"]?
                .intValue
        }
        try await scene.telegram.staffReply(to: firstForward, text: "first answer")
        _ = try await scene.fcm.waitForMessages(1, timeout: .seconds(30))

        // Phase two: messages keep coming to all three while the poller is killed.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for user in appUsers {
                group.addTask { try await self.sendAppMessages(user, range: 6..<14, over: servers, ledger: ledger, dying: leader) }
            }
            group.addTask {
                try await waitFor(timeout: .seconds(30)) { ledger.acceptedByLane.values.joined().count >= 16 ? true : nil }
                leader.kill()
            }
            try await group.waitForAll()
        }
        rooms[servers.firstIndex { $0 === leader }!].stop()
        // The clients of the dead instance come back on a survivor: the stream with the
        // last id it got, the chat screen joining its room again.
        // Everything the stream printed before its server died.
        let firstIDs = try await firstStream.jsonLines(1).compactMap { ($0["id"] as? String).flatMap { Int64($0) } }
        #expect(!firstIDs.isEmpty)
        let lastSeen = firstIDs.last ?? 0
        var storedBefore: [Int64] = []
        for try await id in try await database.client.query(
            "SELECT position FROM live_events WHERE position >= \(firstIDs.first ?? 0) AND position <= \(lastSeen) AND kind <> 'room' ORDER BY position", logger: Logger(label: "q")
        ).decode(Int64.self) {
            storedBefore.append(id)
        }
        #expect(firstIDs == storedBefore, "the first stream skipped events")
        let movedStream = try ChatClientProcess(
            script: "sse_client.py", arguments: [survivors[0].url("/api/stream"), Self.apiKey, "100000", String(lastSeen), "300"])
        defer { movedStream.stop() }
        _ = try await movedStream.line(startingWith: "READY text/event-stream")
        let movedRoom = try ChatClientProcess(script: "app_chat_client.py", arguments: [survivors[1].url(""), "app-1", "polling", "120", "1"])
        rooms.append(movedRoom)
        _ = try await movedRoom.line(startingWith: "READY", timeout: .seconds(30))

        // After the kill: a staff reply (taken by the new poller), more customers, the
        // day's first fetches of a new user spread over the survivors at once.
        try await scene.telegram.staffReply(to: firstForward, text: "second answer")
        for n in 3..<6 { try await scene.telegram.enqueueUpdate(Self.customerMessage("tg question \(n)")) }
        try await sendInstagram(range: 3..<6, over: survivors, ledger: ledger)
        try await withThrowingTaskGroup(of: Int.self) { group in
            for n in 0..<30 {
                group.addTask { try await survivors[n % 2].request("GET", "/message_history/greet-1", timeout: .seconds(60)).status }
            }
            for try await status in group { #expect(status == 200) }
        }

        // Everything settles: the outbox and the Telegram inbox empty, every answer out.
        try await waitFor(timeout: .seconds(90)) { () -> Bool? in
            let pending = try await database.client.query(
                "SELECT (SELECT count(*) FROM outbox WHERE status = 'pending') + (SELECT count(*) FROM telegram_inbox)", logger: Logger(label: "q")
            ).decode(Int64.self).first { _ in true }
            let answered = await scene.telegram.sentMessages(chatID: Self.customer).count >= 6
            let pushed = await scene.fcm.deliveredMessages().count >= 2
            return pending == 0 && answered && pushed ? true : nil
        }
        try await checkDeliveries(scene, ledger: ledger)
        try await checkHistory(survivors[0])
        try await checkClients(rooms: rooms, leaderIndex: servers.firstIndex { $0 === leader }!, stream: movedStream, after: lastSeen, database: database)
        // No instance was told another one polls. The killed poller's last long poll may
        // still be open at Telegram when the new leader polls: Telegram ends it with 409,
        // and nobody is there to read it.
        for server in survivors {
            #expect(!server.logTail(lines: 100_000).contains("Conflict: terminated"), "\(server.logPath) polled beside another instance")
        }
        #expect(await scene.telegram.getUpdatesConflicts() <= 1, "two instances polled Telegram at once")
        #expect(await scene.telegram.violations().isEmpty)
        #expect(await scene.fcm.violations().isEmpty)
    }

    /// Every accepted message reached its destination, in order per lane; beyond that, at
    /// most one repeat per lane (the one the killed instance was sending).
    private func checkDeliveries(_ scene: Scene, ledger: Ledger) async throws {
        let forwarded = await scene.telegram.sentMessages(chatID: Self.group).compactMap { $0["text"]?.stringValue }
        var repeats: [String: Int] = [:]
        for (lane, texts) in ledger.acceptedByLane where lane.hasPrefix("app-") {
            var order: [String] = []
            for text in texts {
                let copies = forwarded.filter { $0.contains(text) }.count
                #expect(copies >= 1, "\(text), accepted, was never forwarded")
                repeats["telegram:group", default: 0] += max(0, copies - 1)
                if let first = forwarded.firstIndex(where: { $0.contains(text) }) { order.append(forwarded[first]) }
            }
            let positions = texts.compactMap { text in forwarded.firstIndex { $0.contains(text) } }
            #expect(positions == positions.sorted(), "\(lane)'s messages reached the staff group out of order")
        }
        for text in ledger.ambiguousTexts {
            #expect(forwarded.filter { $0.contains(text) }.count <= 2, "\(text), cut off by the kill, was forwarded more than twice")
        }
        let answers = await scene.telegram.sentMessages(chatID: Self.customer).compactMap { $0["text"]?.stringValue }
        for n in 0..<6 {
            let copies = answers.filter { $0.contains("tg question \(n)\"") }.count
            #expect(copies >= 1, "the Telegram customer's question \(n) was not answered")
            repeats["telegram:\(Self.customer)", default: 0] += max(0, copies - 1)
        }
        let instagram = await scene.brevo.messages().filter { $0.visitorID == Self.visitor && $0.status < 300 }.compactMap { $0.body?["text"]?.stringValue }
        for text in ledger.acceptedByLane["instagram", default: []] {
            let copies = instagram.filter { $0.contains(text) }.count
            #expect(copies >= 1, "the Instagram message \(text) was not answered")
            repeats["brevo", default: 0] += max(0, copies - 1)
        }
        let pushes = await scene.fcm.deliveredMessages().filter { $0.token == "token-app-1" }.compactMap(\.text)
        #expect(pushes.contains("first answer") && pushes.contains("second answer"), "\(pushes)")
        repeats["fcm", default: 0] += max(0, pushes.count - 2)
        for (lane, count) in repeats { #expect(count <= 1, "\(count) repeats on \(lane)") }
    }

    /// Staff replies are in the app's history once each; 30 fetches over two instances
    /// greeted once.
    private func checkHistory(_ server: ServerProcess) async throws {
        let history = try await server.request("GET", "/message_history/app-1").json["messages"] as? [[String: Any]] ?? []
        let texts = history.compactMap { $0["message"] as? String }
        #expect(texts.filter { $0 == "first answer" }.count == 1 && texts.filter { $0 == "second answer" }.count == 1, "\(texts)")
        let greeted = try await server.request("GET", "/message_history/greet-1").json["messages"] as? [[String: Any]] ?? []
        #expect(greeted.filter { $0["direction"] as? String == "support" }.count == 1, "\(greeted)")
    }

    /// The chat screens on the survivors saw both replies, the one that moved the second;
    /// the stream that moved got every event after its last id, as the feed holds them.
    private func checkClients(rooms: [ChatClientProcess], leaderIndex: Int, stream: ChatClientProcess, after lastSeen: Int64, database: ReplyflowPostgres)
        async throws
    {
        for (index, room) in rooms.enumerated() where index != leaderIndex {
            let expected = index < 3 ? ["first answer", "second answer"] : ["second answer"]
            let seen = try await room.jsonLines(expected.count, timeout: .seconds(30)).compactMap { $0["message"] as? String }
            #expect(seen == expected, "chat screen \(index)")
        }
        var stored: [Int64] = []
        for try await id in try await database.client.query(
            "SELECT position FROM live_events WHERE position > \(lastSeen) AND kind <> 'room' ORDER BY position", logger: Logger(label: "q")
        ).decode(Int64.self) {
            stored.append(id)
        }
        let resumed = try await stream.jsonLines(stored.count, timeout: .seconds(30)).compactMap { ($0["id"] as? String).flatMap { Int64($0) } }
        #expect(resumed == stored, "the moved stream missed \(Set(stored).subtracting(resumed).count) events")
    }

    // MARK: Traffic

    /// A user's app messages, one after another (each accepted before the next is sent),
    /// round-robin over `servers`. A request the killed instance cut off is ambiguous.
    private func sendAppMessages(
        _ user: String, range: Range<Int>, over servers: [ServerProcess], ledger: Ledger, dying: ServerProcess? = nil
    ) async throws {
        for n in range {
            let text = "[\(user) \(n < 10 ? "0" : "")\(n)]"
            let server = servers[n % servers.count]
            do {
                let response = try await server.postJSON("/send_message", #"{"user_id": "\#(user)", "message": "\#(text)"}"#)
                if response.status == 200 { ledger.accepted(text, lane: user) } else if response.status >= 500 { ledger.ambiguous(text) }
            } catch {
                guard server === dying else { throw error }
                ledger.ambiguous(text)
            }
        }
    }

    private func sendInstagram(range: Range<Int>, over servers: [ServerProcess], ledger: Ledger) async throws {
        for n in range {
            let text = "ig question \(n)"
            let event = FakeBrevoServer.webhookEvent(
                visitorID: Self.visitor, visitorName: "Olga", messages: [FakeBrevoServer.visitorMessage(id: "ig-\(n)", visitorID: Self.visitor, text: text)])
            let response = try await servers[n % servers.count].postJSON("/webhooks/brevo/\(Self.brevoSecret)", event.jsonString)
            #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
            if response.status == 200 { ledger.accepted(text, lane: "instagram") }
        }
    }

    private static func customerMessage(_ text: String) -> FakeJSON {
        [
            "message": [
                "message_id": .int(Int64.random(in: 1...1_000_000)), "date": .int(Int64(Date().timeIntervalSince1970)), "text": .string(text),
                "chat": ["id": .int(customer), "type": "private", "first_name": "Ivan"],
                "from": ["id": .int(customer), "is_bot": false, "first_name": "Ivan"],
            ]
        ]
    }
}
