import Foundation
import Hummingbird
import HummingbirdTesting
import Server
import Storage
import TestServers
import TestSupport
import Testing

/// Among the servers of one database only the leader polls Telegram (`LeaderRole`); a
/// server that becomes leader resumes from the offset stored in the database.
@Suite("Telegram polling follows the lead", .machineShare)
struct TelegramPollerLeadershipTests {
    static let customer: Int64 = 555_000_444

    func privateMessage(_ text: String) -> FakeJSON {
        [
            "message": [
                "message_id": .int(Int64.random(in: 1...1_000_000)), "date": .int(Int64(Date().timeIntervalSince1970)),
                "chat": ["id": .int(Self.customer), "type": "private", "first_name": "Ivan"],
                "from": ["id": .int(Self.customer), "is_bot": false, "first_name": "Ivan"], "text": .string(text),
            ]
        ]
    }

    @Test func onlyTheLeaderPollsAndANewTermResumesFromTheStoredOffset() async throws {
        var harness = try ServerHarness()
        defer { harness.remove() }
        let fakes = ChannelFakes()
        try await fakes.start(into: &harness)
        let leadership = SwitchedLeadership()
        let app = try ReplyflowServer.buildApplication(configuration: harness.configuration, logger: ServerHarness.quietLogger, leadership: leadership)
        do {
            try await app.application.test(.live) { _ in
                let telegram = fakes.telegram
                // Not the leader: Telegram is not asked.
                try await Task.sleep(for: .seconds(1))
                #expect(await telegram.requests(method: "getUpdates").isEmpty)
                #expect(await telegram.requests(method: "deleteWebhook").isEmpty)

                leadership.grant()
                let first = try await telegram.enqueueUpdate(privateMessage("first"))
                _ = try await waitFor { await replies(fakes).contains("Answer to \"first\" [turn 1]") ? true : nil }

                // The lead goes elsewhere: polling stops, the long poll under way included.
                leadership.revoke()
                try await Task.sleep(for: .milliseconds(300))
                let pollsBefore = await telegram.requests(method: "getUpdates").count
                let second = try await telegram.enqueueUpdate(privateMessage("second"))
                try await Task.sleep(for: .seconds(2))  // two poll timeouts
                #expect(await telegram.requests(method: "getUpdates").count == pollsBefore)
                #expect(await !replies(fakes).contains { $0.contains("second") })

                // Leading again: from the offset after what is stored, not from Telegram's memory.
                leadership.grant()
                _ = try await waitFor { await replies(fakes).contains("Answer to \"second\" [turn 2]") ? true : nil }
                let resumed = await telegram.requests(method: "getUpdates").dropFirst(pollsBefore).first
                #expect(resumed?.int("offset") == first + 1)
                #expect(second == first + 1)
                #expect(await telegram.getUpdatesConflicts() == 0)
            }
        } catch {
            await fakes.stop()
            throw error
        }
        await fakes.stop()
    }

    private func replies(_ fakes: ChannelFakes) async -> [String] {
        await fakes.telegram.requests(method: "sendMessage").filter { $0.int("chat_id") == Self.customer }.compactMap(\.plainText)
    }
}

/// A lead the test hands out and takes back, as another server would take it.
final class SwitchedLeadership: Leadership, @unchecked Sendable {
    private let lock = NSLock()
    private var leading = false

    func grant() { lock.withLock { leading = true } }
    func revoke() { lock.withLock { leading = false } }
    private var isLeading: Bool { lock.withLock { leading } }

    func whileLeading(_ role: LeaderRole, _ body: @escaping @Sendable () async -> Void) async {
        while !Task.isCancelled {
            while !isLeading {
                do { try await Task.sleep(for: .milliseconds(20)) } catch { return }
            }
            let term = Task { await body() }
            while isLeading && !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(20))
            }
            term.cancel()
            await term.value
        }
    }
}
