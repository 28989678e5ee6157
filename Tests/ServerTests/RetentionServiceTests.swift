import Foundation
import GRDB
import Logging
import Storage
import Testing

@testable import Server
import TestSupport

/// `RETENTION_DAYS_*`: the background service that deletes old rows, on a test clock.
@Suite("Retention service", .machineShare)
struct RetentionServiceTests {
    static let day = 86_400.0

    /// A message and a trace of user `user` at `at`.
    static func seed(_ database: ReplyflowDatabase, user: String, at: Date) async throws {
        try await database.writer.write { db in
            try db.execute(
                sql:
                    "INSERT INTO messages (user_id, source, direction, text, media, created_at, author) VALUES (?, 'app', 'user', 'hi', 'none', ?, 'customer')",
                arguments: [user, at.timeIntervalSince1970])
            try db.execute(sql: "INSERT INTO run_traces (at, event_kind, user_id) VALUES (?, 'message', ?)", arguments: [at.timeIntervalSince1970, user])
        }
    }

    static func users(_ database: ReplyflowDatabase, _ table: String) async throws -> [String] {
        try await database.writer.read { db in try String.fetchAll(db, sql: "SELECT user_id FROM \(table) ORDER BY id") }
    }

    @Test("a sweep deletes what is older than each setting by the clock, and the next sweep what has aged since")
    func sweepFollowsTheClock() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let database = try ReplyflowDatabase(path: harness.configuration.databasePath)
        let clock = TestClock()
        try await Self.seed(database, user: "old", at: clock.now.addingTimeInterval(-40 * Self.day))
        try await Self.seed(database, user: "middle", at: clock.now.addingTimeInterval(-20 * Self.day))
        try await Self.seed(database, user: "new", at: clock.now.addingTimeInterval(-1 * Self.day))
        let service = RetentionService(
            policy: RetentionPolicy(traceDays: 10, messageDays: 30), database: database, uploadsDirectory: harness.configuration.uploadsDirectory,
            clock: clock.function, logger: ServerHarness.quietLogger, batchSize: 1, pause: .zero)

        let first = try await service.sweep()
        #expect(first.traces == 2 && first.messages == 1)
        #expect(try await Self.users(database, "messages") == ["middle", "new"])
        #expect(try await Self.users(database, "run_traces") == ["new"])

        clock.advance(15 * Self.day)
        let second = try await service.sweep()
        #expect(second.messages == 1 && second.traces == 1)
        #expect(try await Self.users(database, "messages") == ["new"])
        #expect(try await Self.users(database, "run_traces").isEmpty)
    }

    @Test("with the settings, the server sweeps by itself at start; without them it deletes nothing")
    func theServerSweepsWhenConfigured() async throws {
        for configured in [true, false] {
            var harness = try ServerHarness()
            defer { harness.remove() }
            let clock = TestClock()
            do {
                let database = try ReplyflowDatabase(path: harness.configuration.databasePath)
                try await Self.seed(database, user: "old", at: clock.now.addingTimeInterval(-10 * Self.day))
                try await Self.seed(database, user: "new", at: clock.now)
            }
            if configured { harness.configuration.retention = RetentionPolicy(traceDays: 5, messageDays: 5) }
            let app = try harness.build(clock: clock.function)
            try await app.application.test(.live) { _ in
                if configured {
                    _ = try await waitFor { try await Self.users(app.database, "messages") == ["new"] ? true : nil }
                    _ = try await waitFor { try await Self.users(app.database, "run_traces") == ["new"] ? true : nil }
                } else {
                    try await Task.sleep(for: .milliseconds(300))
                    #expect(try await Self.users(app.database, "messages") == ["old", "new"])
                    #expect(try await Self.users(app.database, "run_traces") == ["old", "new"])
                }
            }
        }
    }

    @Test("running, the service sweeps at start and again every interval until it is cancelled")
    func runsAtStartAndEveryInterval() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let database = try ReplyflowDatabase(path: harness.configuration.databasePath)
        let clock = TestClock()
        try await Self.seed(database, user: "old", at: clock.now.addingTimeInterval(-3 * Self.day))
        try await Self.seed(database, user: "later", at: clock.now)
        let service = RetentionService(
            policy: RetentionPolicy(messageDays: 2), database: database, uploadsDirectory: harness.configuration.uploadsDirectory, clock: clock.function,
            logger: ServerHarness.quietLogger, interval: .milliseconds(50))
        let running = Task { try await service.run() }
        defer { running.cancel() }
        _ = try await waitFor { try await Self.users(database, "messages") == ["later"] ? true : nil }
        clock.advance(3 * Self.day)
        _ = try await waitFor { try await Self.users(database, "messages").isEmpty ? true : nil }
        running.cancel()
        try await running.value
    }
}
