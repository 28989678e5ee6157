import Flows
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresStorage
import SocketIO
import Storage
import TestSupport
import Testing

@testable import Server

/// Live events on PostgreSQL: what one instance commits reaches the `/api/stream` clients
/// and socket.io rooms of every instance, under ids from the database, so a stream that
/// moves to another instance resumes there without a gap.
@Suite(
    "Live events across instances", .serialized, .timeLimit(.minutes(5)),
    .disabled(if: PostgresCluster.skipReason != nil, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"),
    .machineShare)
struct LiveAcrossInstancesTests {
    private static let apiKey = "live-key"
    private let jsonHeaders: HTTPFields = [.contentType: "application/json"]

    private func send(_ client: some TestClientProtocol, _ user: String, _ text: String) async throws {
        let body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: ["user_id": user, "message": text]))
        let response = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: body)
        #expect(response.status == .ok, "\(String(buffer: response.body))")
    }

    private static func content(_ event: [String: Any]) -> String? {
        ((event["data"] as? [String: Any])?["record"] as? [String: Any])?["content"] as? String
    }

    @Test("a message sent on A reaches B's stream and socket.io room; B's stream resumes on A after the last id it gave")
    func streamsAndRoomsAcrossInstances() async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        harness.configuration.apiKey = Self.apiKey
        try await harness.withTwoServers(testing: .live) { a, b, database in
            try await exercise(a, b, database: database)
        }
    }

    private func exercise(_ a: some TestClientProtocol, _ b: some TestClientProtocol, database: ReplyflowPostgres) async throws {
        let streamOnB = "http://127.0.0.1:\(b.port!)/api/stream?source=app"
        let streamOnA = "http://127.0.0.1:\(a.port!)/api/stream?source=app"
        // The app's chat screen, connected to B.
        let room = try ChatClientProcess(url: "http://127.0.0.1:\(b.port!)", userID: "live-u", transport: "websocket")
        defer { room.stop() }
        _ = try await room.line(startingWith: "READY")
        let watcher = try ChatClientProcess(script: "sse_client.py", arguments: [streamOnB, Self.apiKey, "4"])
        defer { watcher.stop() }
        _ = try await watcher.line(startingWith: "READY text/event-stream")

        // The day's first history fetch, on A, greets: the greeting reaches the app's room
        // on B. Then a message sent through A: B's stream shows both, each with its chat,
        // under the database's ids.
        #expect(try await a.execute(uri: "/message_history/live-u", method: .get).status == .ok)
        let greeting = try await room.newMessage()
        #expect(greeting["direction"] as? String == "support" && greeting["user_id"] as? String == "live-u", "\(greeting)")
        try await send(a, "live-u", "first, through A")
        let seen = try await watcher.jsonLines(4)
        #expect(seen.count == 4)
        #expect(seen.first.flatMap(Self.content) == greeting["message"] as? String)
        #expect(seen.dropFirst(2).first.flatMap(Self.content) == "first, through A")
        #expect(seen.map { ($0["data"] as? [String: Any])?["type"] as? String } == ["message", "chat", "message", "chat"])
        let ids = seen.compactMap { ($0["id"] as? String).flatMap { Int64($0) } }
        var stored: [Int64] = []
        for try await id in try await database.client.query("SELECT position FROM live_events WHERE kind <> 'room' ORDER BY position", logger: ServerHarness.quietLogger)
            .decode(Int64.self)
        { stored.append(id) }
        #expect(ids == stored, "the stream's ids are the feed's")
        watcher.stop()

        // Two more while the client is away, one through each instance; it comes back on
        // A with B's last id and misses nothing.
        try await send(b, "live-u", "second, through B")
        try await send(a, "live-u", "third, through A")
        let resumed = try ChatClientProcess(script: "sse_client.py", arguments: [streamOnA, Self.apiKey, "4", String(ids.last!)])
        defer { resumed.stop() }
        let missed = try await resumed.jsonLines(4)
        #expect(missed.compactMap(Self.content) == ["second, through B", "third, through A"])
        let resumedIDs = missed.compactMap { ($0["id"] as? String).flatMap { Int64($0) } }
        #expect(resumedIDs == resumedIDs.sorted() && resumedIDs.count == 4 && resumedIDs.allSatisfy { $0 > ids.last! })
    }

    @Test("an id from another instance that this one has not read yet resumes instead of resetting; an id beyond the feed resets")
    func catchUpBeforeResuming() async throws {
        let cluster = try await PostgresCluster.shared()
        let url = try DatabaseURL.parse(cluster.url(database: try await cluster.makeDatabase()))
        let logger = ServerHarness.quietLogger
        try await ReplyflowPostgres.withDatabase(url, logger: logger) { database in
            try await database.migrate()
            let feed = try PostgresLiveFeed(database)
            // Never woken by a doorbell or a tick within the test: only a catch-up reads.
            let publisher = SharedLivePublisher(
                log: LiveEventLog(firstID: 1), feed: feed, sockets: AppChatSockets(server: SocketIOServer(configuration: SocketIOConfiguration(), logger: logger), logger: logger),
                autoModeDefault: false, logger: logger, pollInterval: .seconds(3600))
            await publisher.catchUp(after: 1)
            let store = PostgresRunStore(database)
            var record = RunRecord()
            record.messages = [StoredMessage(userID: "c1", source: .app, direction: .user, text: "hello", at: Date())]
            record.live = [.message(index: 0)]
            _ = try await store.withChat("c1") { try await $0.commit(record) }
            // Numbered by another instance; this one has not read it yet.
            try await feed.number()
            let newest = try await feed.newestID()
            #expect(publisher.log.newestID < newest)
            await publisher.catchUp(after: newest - 1)
            let resumed = publisher.log.subscribe(filter: StreamFilter(), after: newest - 1)
            defer { resumed.cancel() }
            #expect(resumed.resetID == nil)
            #expect(resumed.missed.map(\.id) == [newest])
            #expect(resumed.missed.first?.data.contains("\"chat\"") == true)
            await publisher.catchUp(after: newest + 1_000)
            let unknown = publisher.log.subscribe(filter: StreamFilter(), after: newest + 1_000)
            defer { unknown.cancel() }
            #expect(unknown.resetID == newest)
        }
    }
}
