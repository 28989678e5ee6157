import Foundation
import TestServers
import TestSupport
import Testing

/// `replyflow serve` with DATABASE_URL, as an operator runs it: two processes on one
/// PostgreSQL database and one (fake) Telegram bot. What one accepts the other shows, the
/// staff group gets each message once, one instance polls, and when an instance is killed
/// with SIGKILL the other goes on polling.
@Suite(
    "replyflow serve on PostgreSQL, two processes", .timeLimit(.minutes(5)),
    .disabled(if: PostgresCluster.skipReason != nil, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"),
    .machineShare)
struct ServePostgresProcessTests {
    private static let group: Int64 = -100_777

    @Test("two instances: shared history, one forward per message, staff replies reach the app before and after one is killed")
    func twoInstances() async throws {
        let binary = try #require(ServerProcess.binary, "build replyflow first (swift build)")
        let cluster = try await PostgresCluster.shared()
        let databaseURL = cluster.url(database: try await cluster.makeDatabase())
        let telegram = FakeTelegramServer()
        let telegramURL = try await telegram.start().absoluteString
        let harness = try ServerHarness()
        defer { harness.remove() }
        func environment() throws -> [String: String] {
            var environment = ServerProcess.environment(harness, port: try ServerProcess.freePort())
            environment["DATABASE_PATH"] = nil
            environment.merge([
                "DATABASE_URL": databaseURL, "BOT_TOKEN": telegram.token, "GROUP_CHAT_ID": String(Self.group), "TELEGRAM_API_URL": telegramURL,
                "TELEGRAM_POLL_TIMEOUT": "1",
            ]) { $1 }
            return environment
        }
        let a = try ServerProcess(binary: binary, environment: try environment(), logPath: harness.directory + "/a.log")
        defer { a.kill() }
        try await a.waitForHealth()
        let b = try ServerProcess(binary: binary, environment: try environment(), logPath: harness.directory + "/b.log")
        defer { b.kill() }
        try await b.waitForHealth()
        #expect(a.logTail(lines: 200).contains("PostgreSQL migrated"), "the first instance migrates:\n\(a.logTail())")

        // In on A: in B's history, and in the staff group once.
        let sent = try await a.postJSON("/send_message", #"{"user_id": "u1", "user_name": "Ulla", "message": "hello over postgres"}"#)
        #expect(sent.status == 200, "\(String(decoding: sent.body, as: UTF8.self))")
        #expect(try await texts(b, user: "u1").contains("hello over postgres"))
        let forward = try await waitFor(timeout: .seconds(20)) { () -> FakeJSON? in
            await telegram.sentMessages(chatID: Self.group).first { $0["text"]?.stringValue?.contains("hello over postgres") == true }
        }
        let forwardID = try #require(forward["message_id"]?.intValue)

        // A staff reply, taken by whichever instance polls, reaches the app's history.
        try await telegram.staffReply(to: forwardID, text: "first answer")
        _ = try await waitFor(timeout: .seconds(20)) { try await texts(b, user: "u1").contains("first answer") ? true : nil }

        // The instance that polls dies without a word; the other takes the lead within
        // seconds, and the next reply reaches the app through it.
        let leaders = [a, b].filter { $0.logTail(lines: 10_000).contains("leading") }
        #expect(leaders.count == 1, "one instance leads: \(leaders.map(\.logPath))")
        let (leader, other) = leaders.first === a ? (a, b) : (b, a)
        leader.kill()
        try await telegram.staffReply(to: forwardID, text: "second answer")
        _ = try await waitFor(timeout: .seconds(30)) { try await texts(other, user: "u1").contains("second answer") ? true : nil }
        #expect(other.logTail(lines: 10_000).contains("leading"), "the survivor took the lead")

        let forwards = await telegram.sentMessages(chatID: Self.group).filter { $0["text"]?.stringValue?.contains("hello over postgres") == true }
        #expect(forwards.count == 1, "the message was forwarded \(forwards.count) times")
        #expect(await telegram.getUpdatesConflicts() == 0, "two instances polled at once")
        #expect(try await texts(other, user: "u1").filter { $0 == "first answer" }.count == 1)
        #expect(await telegram.violations().isEmpty)
        await telegram.stop()
    }

    /// The texts of a user's app history, as the instance shows them.
    private func texts(_ server: ServerProcess, user: String) async throws -> [String] {
        let history = try await server.request("GET", "/message_history/\(user)")
        return (history.json["messages"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
    }
}
