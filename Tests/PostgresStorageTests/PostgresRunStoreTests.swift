import Flows
import Foundation
import GRDB
import Logging
import PostgresNIO
import TestSupport
import Testing

@testable import PostgresStorage
@testable import Storage

/// The server's run path on PostgreSQL: the same events leave the same rows as on SQLite,
/// an input's key is committed once, and a chat's runs go one at a time across instances.
@Suite(
    "Runs on PostgreSQL", .timeLimit(.minutes(5)), .disabled(if: postgresMissing, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"), .machineShare)
struct PostgresRunStoreTests {
    private let logger = PostgresTestDatabase.logger

    // MARK: Same rows as SQLite

    @Test("seeded events through SQLite and PostgreSQL leave the same rows in every table a run writes", arguments: [11, 13] as [UInt64])
    func sameRowsAsSQLite(seed: UInt64) async throws {
        var want: [String: [[StoredValue]]] = [:]
        try await DrivenPair.drive(seed: seed, count: 300) { sqlite, postgres in
            want = try SQLiteTables.rows(sqlite)
            let got = try await PostgresTables.rows(postgres, columns: SQLiteTables.columns(sqlite))
            for table in SQLiteTables.compared.map(\.name) {
                let wanted = want[table] ?? [], rows = got[table] ?? []
                #expect(rows.count == wanted.count, "\(table): PostgreSQL \(rows.count) rows, SQLite \(wanted.count)")
                for (index, (row, expected)) in zip(rows, wanted).enumerated() where row != expected {
                    Issue.record("\(table) row \(index): PostgreSQL \(row), SQLite \(expected)")
                    break
                }
            }
        }
        // The events reach every table compared, so an empty one cannot pass unnoticed.
        for table in SQLiteTables.compared.map(\.name) {
            #expect(!(want[table] ?? []).isEmpty, "the events write rows to \(table)")
        }
    }

    // MARK: Keys

    @Test("a record whose key is committed is not written again, on any instance")
    func keyCommittedOnce() async throws {
        let database = try await PostgresTestDatabase.make()
        try await ReplyflowPostgres.withDatabase(database.url, logger: logger) { postgres in
            try await postgres.migrate()
            let store = PostgresRunStore(postgres)
            var record = RunRecord(idempotencyKey: .telegramUpdate(77))
            record.messages = [StoredMessage(userID: "42", source: .telegram, direction: .user, text: "hi", at: RunFixtures.start)]
            let first = try await store.withChat("42") { try await $0.commit(record) }
            #expect(first?.messageIDs.count == 1)
            #expect(try await store.withChat("42") { try await $0.isHandled(.telegramUpdate(77)) })
            #expect(try await store.withChat("42") { try await $0.commit(record) } == nil)
            var brevo = RunRecord(idempotencyKey: .brevoMessage("m-1"))
            brevo.messages = record.messages
            #expect(try await store.withChat("42") { try await $0.commit(brevo) } != nil)
            #expect(try await store.withChat("42") { try await $0.commit(brevo) } == nil)
            let stored = try await postgres.client.query("SELECT count(*) FROM messages", logger: logger).decode(Int64.self).first { _ in true }
            #expect(stored == 2)
        }
    }

    // MARK: One chat, one run at a time, across instances

    @Test("30 first history fetches of one user at once, spread over three instances: one greeting")
    func oneGreetingAcrossInstances() async throws {
        let runtime = FlowRuntime(flowSet: try RunFixtures.flows(), timeZone: TimeZone(identifier: "UTC")!)
        let database = try await PostgresTestDatabase.make()
        let url = database.url, logger = self.logger
        try await ReplyflowPostgres.withDatabase(url, logger: logger) { first in
            try await first.migrate()
            try await ReplyflowPostgres.withDatabase(url, logger: logger) { second in
                try await ReplyflowPostgres.withDatabase(url, logger: logger) { third in
                    let stores = [first, second, third].map(PostgresRunStore.init)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for index in 0..<30 {
                            let store = stores[index % 3]
                            group.addTask {
                                let event = InboundEvent(kind: .historyFetch, at: RunFixtures.start + Double(index), userID: "anna", userName: "Анна")
                                try await RunDriver(runtime: runtime, store: store).drive([event]) { _, _, _ in }
                            }
                        }
                        try await group.waitForAll()
                    }
                }
            }
            let greetings = try await first.client.query(
                "SELECT text FROM messages WHERE user_id = 'anna' AND flow = 'Daily greeting'", logger: logger
            ).decode(String.self).reduce(into: [String]()) { $0.append($1) }
            #expect(greetings == ["Здравствуйте, Анна!"])
            let fetchMarkers = try await first.client.query(
                "SELECT count(*) FROM markers WHERE user_id = 'anna' AND key = 'history_fetch'", logger: logger
            ).decode(Int64.self).first { _ in true }
            #expect(fetchMarkers == 1)
        }
    }

    @Test("a run whose connection dies before it holds its chat, or whose reads fail, is the database's failure (RunStoreUnavailable), not the run's")
    func unavailable() async throws {
        let logger = self.logger
        try await PostgresTestDatabase.make().withTwoInstances { first, second in
            let (a, b) = (PostgresRunStore(first), PostgresRunStore(second))
            let held = AsyncStream<Void>.makeStream()
            let release = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await a.withChat("c") { _ in
                    held.continuation.yield()
                    for await _ in release.stream { break }
                }
            }
            var heldIterator = held.stream.makeAsyncIterator()
            await heldIterator.next()
            // B waits for the chat; its backend is ended while it waits.
            let waiter = Task { try await b.withChat("c") { _ in } }
            try await Task.sleep(for: .milliseconds(300))
            try await endAdvisoryLockSessions(first.client, waiting: true, logger: logger)
            let result = await waiter.result
            guard case .failure(let error) = result else {
                Issue.record("the run went on without its chat")
                return
            }
            #expect(error is RunStoreUnavailable, "\(error)")
            release.continuation.finish()
            try await holder.value

            // Reads that fail on a held chat are the database's too.
            let failedRead: (any Error)? = try await a.withChat("d") { chat in
                try await endAdvisoryLockSessions(second.client, logger: logger)
                try await Task.sleep(for: .milliseconds(300))
                do {
                    _ = try await chat.snapshot(for: StateReads(userID: "anna", source: .app, markers: [], experiments: []), latestAppMessage: true)
                    return nil
                } catch {
                    return error
                }
            }
            #expect(failedRead is RunStoreUnavailable, "\(String(describing: failedRead))")
        }
    }

    @Test("a run that fails gives its chat up; so does an instance whose connection dies")
    func chatReleased() async throws {
        let logger = self.logger
        try await PostgresTestDatabase.make().withTwoInstances { first, second in
            let (a, b) = (PostgresRunStore(first), PostgresRunStore(second))
            struct Refused: Error {}
            await #expect(throws: Refused.self) { try await a.withChat("c") { _ in throw Refused() } }
            try await withTimeLimit(seconds: 10, "a failed run left its chat held") {
                try await b.withChat("c") { _ in }
            }

            // An instance holding the chat dies (its backend is terminated, as when
            // its process is killed): the other takes the chat at once.
            let held = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await a.withChat("c") { _ in
                    held.continuation.yield()
                    // Waiting for the AI, say; the commit after it finds the connection gone.
                    try await Task.sleep(for: .seconds(2))
                }
            }
            var iterator = held.stream.makeAsyncIterator()
            await iterator.next()
            try await endAdvisoryLockSessions(second.client, logger: logger)
            let started = ContinuousClock.now
            try await withTimeLimit(seconds: 10, "the dead connection's chat was not released") {
                try await b.withChat("c") { _ in }
            }
            #expect(ContinuousClock.now - started < .seconds(5))
            // The dead instance's run, done when its connection died, ends rather than
            // waiting forever to unlock on it; and it is not reported failed (what it
            // did would be done again).
            try await withTimeLimit(seconds: 10, "the run on the dead connection never ended") {
                _ = await holder.result
            }
            await #expect(throws: Never.self) { try await holder.value }

            // A run that was still to commit when its connection died fails at once.
            let late: (any Error)? = try await a.withChat("d") { chat in
                try await endAdvisoryLockSessions(second.client, logger: logger)
                try await Task.sleep(for: .milliseconds(300))
                do {
                    _ = try await chat.commit(RunRecord(idempotencyKey: .telegramUpdate(5)))
                    return nil
                } catch {
                    return error
                }
            }
            #expect(late is PostgresConnectionLost, "\(String(describing: late))")
        }
    }
}
