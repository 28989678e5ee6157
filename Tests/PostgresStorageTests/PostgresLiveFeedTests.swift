import Flows
import Foundation
import Logging
import PostgresNIO
import PostgresStorage
import Storage
import Synchronization
import Testing

/// `live_events`: what runs show live, committed with them and read back by every
/// instance in commit order.
@Suite("PostgreSQL live feed", .serialized, .disabled(if: postgresMissing, "PostgreSQL's binaries are not installed"))
struct PostgresLiveFeedTests {
    private let logger = PostgresTestDatabase.logger

    private static func record(_ user: String, _ text: String, room: Bool = false) -> RunRecord {
        var record = RunRecord()
        record.messages = [StoredMessage(userID: user, source: .app, direction: .user, text: text, at: Date())]
        record.live = [.message(index: 0)]
        if room { record.live.append(.room(userID: user, item: #"{"message":"hi"}"#)) }
        return record
    }

    @Test("a run's entries come back in order: its message with the chat, the chat, the room's payload; an erased message is gone")
    func entriesReadBack() async throws {
        let database = try await PostgresTestDatabase.make()
        try await database.withTwoInstances { first, _ in
            let store = PostgresRunStore(first), feed = try PostgresLiveFeed(first)
            #expect(try await feed.newestID() == 0)
            #expect(try await feed.oldestID() == nil)
            var run = Self.record("u1", "hello", room: true)
            run.live.append(.chat(source: .app, chatID: "u1"))
            let receipt = try #require(try await store.withChat("u1") { try await $0.commit(run) })
            #expect(try await feed.events(after: 0, limit: 10).isEmpty, "not numbered yet")
            try await feed.number()
            let events = try await feed.events(after: 0, limit: 10)
            #expect(events.map(\.id) == [1, 2, 3, 4])
            guard case let .message(message, conversation) = events[0].body else { Issue.record("\(events[0])"); return }
            #expect(message.id == receipt.messageIDs[0] && message.text == "hello" && message.userID == "u1")
            #expect(conversation.platformChatID == "u1" && conversation.source == .app && message.conversationID == conversation.id)
            #expect(events[1].body == .chat(conversation))
            #expect(events[2].body == .room(userID: "u1", item: #"{"message":"hi"}"#))
            #expect(events[3].body == .chat(conversation))
            #expect(try await feed.events(after: 2, limit: 1).map(\.id) == [3])
            _ = try await first.client.query("DELETE FROM messages WHERE id = \(receipt.messageIDs[0])", logger: logger).collect()
            #expect(try await feed.events(after: 0, limit: 1).first?.body == .gone)
            #expect(try await feed.newestID() == 4)
            #expect(try await feed.oldestID() == 1)
        }
    }

    @Test("commits of two instances at once, numbered by both: each reader following its cursor meets every entry once, none appearing behind it")
    func commitOrder() async throws {
        let database = try await PostgresTestDatabase.make()
        try await database.withTwoInstances { first, second in
            let writing = Shared(true)
            let read = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for (index, instance) in [first, second, first, second, first, second].enumerated() {
                    group.addTask {
                        let store = PostgresRunStore(instance)
                        for n in 0..<40 {
                            let user = "w\(index)-\(n % 4)"
                            _ = try await store.withChat(user) { try await $0.commit(Self.record(user, "m\(n)")) }
                        }
                        return []
                    }
                }
                // Two readers, one per instance, each numbering what is committed and
                // reading after its cursor again and again while the writers run. An entry
                // that got its id only after a newer one was read would be skipped for good,
                // and two numbering passes at once would give ids twice.
                let readers = [first, second].map { instance in
                    Task {
                        let feed = try PostgresLiveFeed(instance)
                        var seen: [Int64] = [], cursor: Int64 = 0
                        while true {
                            // Done once the writers are, and a pass of its own (no other
                            // under way) left nothing more to read.
                            let done = !writing.value
                            let numbered = try await feed.number()
                            let events = try await feed.events(after: cursor, limit: 50)
                            seen += events.map(\.id)
                            cursor = events.last?.id ?? cursor
                            if done && numbered && events.isEmpty { break }
                        }
                        return seen
                    }
                }
                try await group.waitForAll()
                writing.value = false
                var seen: [[Int64]] = []
                for reader in readers { seen.append(try await reader.value) }
                return seen
            }
            var all: [Int64] = []
            for try await id in try await first.client.query("SELECT position FROM live_events ORDER BY position", logger: logger).decode(Int64.self) {
                all.append(id)
            }
            #expect(all.count == 6 * 40 * 2 && Set(all).count == all.count)
            for (index, seen) in read.enumerated() {
                #expect(seen == all, "reader \(index) missed \(Set(all).subtracting(seen).count) entries")
            }
        }
    }

    @Test("numbering on one instance rings the other's doorbell, a commit alone does not; trimming deletes what is older than asked")
    func doorbellAndTrim() async throws {
        let database = try await PostgresTestDatabase.make()
        try await database.withTwoInstances { first, second in
            let feed = try PostgresLiveFeed(second, reconnectDelay: .milliseconds(100))
            let rings = Shared(0)
            let listening = Task { await feed.listen { rings.value += 1 } }
            defer { listening.cancel() }
            // One ring on connecting (passes in between rang nobody), one per numbering pass
            // that numbered anything.
            func waitForRings(_ count: Int) async throws -> Bool {
                let deadline = ContinuousClock.now + .seconds(10)
                while rings.value < count && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
                return rings.value >= count
            }
            #expect(try await waitForRings(1), "no ring on connecting")
            _ = try await PostgresRunStore(first).withChat("u1") { try await $0.commit(Self.record("u1", "ding")) }
            try await Task.sleep(for: .milliseconds(300))
            #expect(rings.value == 1, "a commit rang: its commit would wait for every other notifying commit")
            #expect(try await PostgresLiveFeed(first).number())
            #expect(try await waitForRings(2), "no ring after numbering on the other instance")
            #expect(try await PostgresLiveFeed(first).number(), "nothing to number: the pass ran")
            try await Task.sleep(for: .milliseconds(300))
            #expect(rings.value == 2, "a pass that numbered nothing rang")

            _ = try await first.client.query("UPDATE live_events SET created_at = created_at - 7200", logger: logger).collect()
            _ = try await PostgresRunStore(first).withChat("u2") { try await $0.commit(Self.record("u2", "new")) }
            try await feed.number()
            let trimmed = try await feed.trim(before: Date().addingTimeInterval(-3600))
            #expect(trimmed == 2)
            #expect(try await feed.oldestID() == 3)
            listening.cancel()
            await listening.value
        }
    }
}

/// A value the test's tasks share.
private final class Shared<Value: Sendable>: Sendable {
    private let state: Mutex<Value>

    init(_ value: Value) {
        state = Mutex(value)
    }

    var value: Value {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}
