import Foundation
import Logging
import PostgresNIO
import PostgresStorage
import Storage
import TestSupport
import Testing

/// Leader election through the database: one instance polls Telegram at a time, and
/// another takes over within seconds when it goes away.
@Suite(
    "Leadership on PostgreSQL", .timeLimit(.minutes(5)),
    .disabled(if: postgresMissing, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"), .machineShare)
struct PostgresLeadershipTests {
    private let logger = PostgresTestDatabase.logger

    private func contender(_ url: DatabaseURL) throws -> PostgresLeadership {
        try PostgresLeadership(url: url, logger: logger, retryInterval: .milliseconds(200), checkInterval: .milliseconds(200), checkTimeout: .seconds(2))
    }

    /// Each contender leads until its job is cancelled, recording when.
    private func contend(_ leadership: PostgresLeadership, as name: String, _ terms: Terms) -> Task<Void, Never> {
        Task {
            await leadership.whileLeading(.telegramPoller) {
                terms.began(name)
                while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(20)) }
                terms.ended(name)
            }
        }
    }

    @Test("of three contenders one leads; when its session ends another takes over within seconds, and the first stops at once")
    func oneLeaderAndATakeOver() async throws {
        let database = try await PostgresTestDatabase.make()
        let terms = Terms()
        let tasks = try ["a", "b", "c"].map { contend(try contender(database.url), as: $0, terms) }
        defer { for task in tasks { task.cancel() } }

        let first = try await waitFor("a leader") { terms.current.count == 1 ? terms.current.first : nil }
        // The others try five times a second: still one leader two seconds on.
        try await Task.sleep(for: .seconds(2))
        #expect(terms.current == [first])
        #expect(terms.history.count == 1)

        // The leader's session ends, as when its process is killed.
        try await ReplyflowPostgres.withDatabase(database.url, logger: logger) { admin in
            let cut = Date()
            try await endAdvisoryLockSessions(admin.client, logger: logger)
            let next = try await waitFor("a new leader") { terms.current.count == 1 && terms.current != [first] ? terms.current.first : nil }
            let ended = try #require(terms.history.first { $0.name == first }?.ended)
            let began = try #require(terms.history.last { $0.name == next }?.began)
            #expect(ended.timeIntervalSince(cut) < 2, "the old leader went on working \(ended.timeIntervalSince(cut)) s after its session ended")
            #expect(began.timeIntervalSince(cut) < 3, "the new leader began \(began.timeIntervalSince(cut)) s after the old one's session ended")
            #expect(terms.overlap < 0.3, "two leaders worked side by side for \(terms.overlap) s")
        }
    }

    @Test("a leader that stops (its task cancelled) hands over at once; a job that returns gives up the lead")
    func handOver() async throws {
        let database = try await PostgresTestDatabase.make()
        let terms = Terms()
        let a = contend(try contender(database.url), as: "a", terms)
        _ = try await waitFor("a to lead") { terms.current == ["a"] ? true : nil }
        let b = contend(try contender(database.url), as: "b", terms)
        defer { b.cancel() }
        a.cancel()
        await a.value
        let stopped = Date()
        _ = try await waitFor("b to lead") { terms.current == ["b"] ? true : nil }
        let began = try #require(terms.history.last?.began)
        // Within a few of the 200 ms retries, even on a loaded machine.
        #expect(began.timeIntervalSince(stopped) < 3)

        // A job that ends by itself: `whileLeading` returns, and the lead is free.
        b.cancel()
        await b.value
        let short = try contender(database.url)
        let done = Task { await short.whileLeading(.telegramPoller) { terms.began("short"); terms.ended("short") } }
        try await withTimeLimit(seconds: 10, "whileLeading did not return after its job did") { await done.value }
        let next = contend(try contender(database.url), as: "next", terms)
        defer { next.cancel() }
        _ = try await waitFor("the next to lead") { terms.current == ["next"] ? true : nil }
    }

    @Test("without a database the contender keeps trying, and stops when cancelled")
    func unreachable() async throws {
        let url = try DatabaseURL.parse("postgres://nobody@127.0.0.1:\(try PostgresCluster.freePort())/none?sslmode=disable")
        let terms = Terms()
        let task = contend(try contender(url), as: "lonely", terms)
        try await Task.sleep(for: .seconds(1))
        task.cancel()
        try await withTimeLimit(seconds: 10, "whileLeading did not return when cancelled") { await task.value }
        #expect(terms.history.isEmpty)
    }

    private func waitFor<T: Sendable>(_ what: String, _ body: @escaping @Sendable () -> T?) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let value = body() { return value }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw Timeout(what: what)
    }

    struct Timeout: Error, CustomStringConvertible {
        var what: String
        var description: String { "timed out waiting for \(what)" }
    }
}

/// Who led when.
private final class Terms: @unchecked Sendable {
    struct Term {
        var name: String
        var began: Date
        var ended: Date?
    }

    private let lock = NSLock()
    private var terms: [Term] = []

    func began(_ name: String) { lock.withLock { terms.append(Term(name: name, began: Date())) } }

    func ended(_ name: String) {
        lock.withLock {
            if let index = terms.lastIndex(where: { $0.name == name && $0.ended == nil }) { terms[index].ended = Date() }
        }
    }

    var history: [Term] { lock.withLock { terms } }
    var current: [String] { history.filter { $0.ended == nil }.map(\.name) }

    /// The longest time two terms ran side by side, in seconds.
    var overlap: TimeInterval {
        let all = history
        var longest: TimeInterval = 0
        for (i, one) in all.enumerated() {
            for other in all[(i + 1)...] {
                let end = min(one.ended ?? Date(), other.ended ?? Date())
                longest = max(longest, end.timeIntervalSince(max(one.began, other.began)))
            }
        }
        return longest
    }
}
