import Foundation
import Logging
import PostgresNIO
import PostgresStorage
import Storage
import TestSupport
import Testing

/// The outbox on PostgreSQL, lane by lane: each lane held by one instance at a time, a
/// dead instance's lanes free at once, a lane's head read from the table, results recorded
/// only while the item is still pending.
@Suite(
    "Outbox lanes on PostgreSQL", .timeLimit(.minutes(5)),
    .disabled(if: postgresMissing, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"), .machineShare)
struct PostgresOutboxLanesTests {
    private let logger = PostgresTestDatabase.logger

    private func locks(_ url: DatabaseURL, lost: LostLanes = LostLanes()) throws -> PostgresLaneLocks {
        try PostgresLaneLocks(url: url, logger: logger, checkInterval: .milliseconds(200), checkTimeout: .seconds(2)) { lost.add($0) }
    }

    @Test("a lane is held by one instance at a time; a released lane, or a dead instance's, is claimed by another at once")
    func oneHolderPerLane() async throws {
        let database = try await PostgresTestDatabase.make()
        let lostByA = LostLanes()
        let a = try locks(database.url, lost: lostByA), b = try locks(database.url)
        #expect(try await a.tryClaim("telegram:group"))
        #expect(try await a.tryClaim("telegram:group"), "a lane already held is held")
        #expect(try await !b.tryClaim("telegram:group"))
        #expect(try await b.tryClaim("fcm:anna"))
        #expect(try await !a.tryClaim("fcm:anna"))
        await b.release("fcm:anna")
        #expect(try await a.tryClaim("fcm:anna"))
        #expect(await a.claimed == ["telegram:group", "fcm:anna"])
        await a.release("fcm:anna")
        await b.close()

        // A's session ends, as when its process is killed: its lanes are free for B at once,
        // and A hears that it lost them.
        try await ReplyflowPostgres.withDatabase(database.url, logger: logger) { admin in
            try await endAdvisoryLockSessions(admin.client, logger: logger)
        }
        let cut = ContinuousClock.now
        let b2 = try locks(database.url)
        while try await !b2.tryClaim("telegram:group") {
            #expect(ContinuousClock.now - cut < .seconds(4), "the dead instance's lane stayed held")
            try await Task.sleep(for: .milliseconds(20))
        }
        while lostByA.lanes.isEmpty && ContinuousClock.now - cut < .seconds(3) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(lostByA.lanes == [["telegram:group"]])
        #expect(await a.claimed.isEmpty)
        // A connects again for its next claim.
        #expect(try await a.tryClaim("brevo:visitor-1"))
        #expect(try await !a.tryClaim("telegram:group"))
        await a.close()
        await b2.close()
    }

    @Test("a lane's head is its oldest pending item; a result is recorded once, only while pending; an unknown kind does not block its lane")
    func headsAndResults() async throws {
        let database = try await PostgresTestDatabase.make()
        try await ReplyflowPostgres.withDatabase(database.url, logger: logger) { postgres in
            try await postgres.migrate()
            let outbox = PostgresOutbox(postgres)
            func add(_ kind: String, _ lane: String, status: String = "pending", due: Double = 100) async throws -> Int64 {
                try await postgres.client.query(
                    """
                    INSERT INTO outbox (kind, lane, payload, status, next_attempt_at, created_at, updated_at)
                    VALUES (\(kind), \(lane), '{}', \(status), \(due), 0, 0) RETURNING id
                    """, logger: logger
                ).decode(Int64.self).first { _ in true }!
            }
            _ = try await add("telegram.forward", "telegram:group", status: "delivered")
            let g1 = try await add("telegram.forward", "telegram:group", due: 50)
            let p1 = try await add("fcm.push", "fcm:anna", due: 70)
            let g2 = try await add("telegram.copy", "telegram:group", due: 60)
            let unknown = try await add("pigeon.post", "brevo:v1")
            let b1 = try await add("brevo.message", "brevo:v1", due: 80)

            #expect(
                try await outbox.pendingLanes() == [
                    .init(lane: "telegram:group", due: Date(timeIntervalSince1970: 50)), .init(lane: "fcm:anna", due: Date(timeIntervalSince1970: 70)),
                    .init(lane: "brevo:v1", due: Date(timeIntervalSince1970: 80)),
                ])
            #expect(try await outbox.head(of: "telegram:group")?.id == g1)

            // Delivered: recorded once; a second record (a lane taken over) changes nothing.
            #expect(try await outbox.record(.delivered, id: g1, attempts: 1, next: Date(timeIntervalSince1970: 200), error: nil, at: Date()))
            #expect(try await !outbox.record(.failed, id: g1, attempts: 2, next: Date(), error: "late", at: Date()))
            let status = try await postgres.client.query("SELECT status, attempts FROM outbox WHERE id = \(g1)", logger: logger)
                .decode((String, Int64).self).first { _ in true }
            #expect(status?.0 == "delivered" && status?.1 == 1)

            // A retry stays the head, with its progress.
            let head = try #require(try await outbox.head(of: "telegram:group"))
            #expect(head.id == g2 && head.kind == .telegramCopy)
            try await outbox.recordPartsSent(id: g2, count: 2, plan: "plan-a")
            #expect(try await outbox.record(.pending, id: g2, attempts: 1, next: Date(timeIntervalSince1970: 300), error: "429", at: Date()))
            let retried = try #require(try await outbox.head(of: "telegram:group"))
            #expect(retried.id == g2 && retried.attempts == 1 && retried.partsSent == 2 && retried.partsPlan == "plan-a")
            #expect(retried.lastError == "429" && retried.nextAttemptAt == Date(timeIntervalSince1970: 300))

            // A kind this version does not know is failed with the reason, and the lane goes on.
            #expect(try await outbox.head(of: "brevo:v1")?.id == b1)
            let unknownRow = try await postgres.client.query("SELECT status, last_error FROM outbox WHERE id = \(unknown)", logger: logger)
                .decode((String, String?).self).first { _ in true }
            #expect(unknownRow?.0 == "failed" && unknownRow?.1 == "unknown kind: pigeon.post")

            // Erased meanwhile: not pending, nothing recorded.
            _ = try await postgres.client.query("DELETE FROM outbox WHERE id = \(p1)", logger: logger)
            #expect(try await !outbox.stillPending(id: p1))
            #expect(try await !outbox.record(.delivered, id: p1, attempts: 1, next: Date(), error: nil, at: Date()))
            #expect(try await outbox.head(of: "fcm:anna") == nil)
            #expect(try await outbox.pendingLanes().map(\.lane) == ["telegram:group", "brevo:v1"])

            // A forward's group messages lead staff replies back, on any instance.
            try await outbox.recordGroupForwards([9001, 9002], userID: "anna", source: .telegram, at: Date(timeIntervalSince1970: 10))
            let runs = PostgresRunStore(postgres)
            #expect(try await runs.userForGroupMessage(9002) == "anna")
            try await outbox.recordGroupForwards([9002], userID: "boris", source: .app, at: Date(timeIntervalSince1970: 20))
            #expect(try await runs.userForGroupMessage(9002) == "boris")
        }
    }
}

extension PostgresOutboxLanesTests {
    @Test("retry puts a failed item back as SQLite's does, and refuses what it must; the notes a delivery makes are written")
    func retryAndNotes() async throws {
        let database = try await PostgresTestDatabase.make()
        try await ReplyflowPostgres.withDatabase(database.url, logger: logger) { postgres in
            try await postgres.migrate()
            let lanes = try PostgresOutboxLanes(postgres, checkInterval: .milliseconds(200), checkTimeout: .seconds(2))
            func add(_ kind: String, status: String) async throws -> Int64 {
                try await postgres.client.query(
                    """
                    INSERT INTO outbox (kind, lane, payload, status, attempts, next_attempt_at, last_error, parts_sent, created_at, updated_at)
                    VALUES (\(kind), 'telegram:group', '{}', \(status), 7, 5, 'Bad Request', 2, 0, 0) RETURNING id
                    """, logger: logger
                ).decode(Int64.self).first { _ in true }!
            }
            let failed = try await add("telegram.forward", status: "failed")
            let pending = try await add("telegram.forward", status: "pending")
            let strange = try await add("pigeon.post", status: "failed")

            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let item = try await lanes.retry(itemID: failed, at: now)
            #expect(item.status == .pending && item.attempts == 0 && item.nextAttemptAt == now)
            #expect(item.lastError == "Bad Request" && item.partsSent == 2, "the error stays until it is delivered; parts sent stay counted")
            #expect(try await lanes.head(of: "telegram:group")?.id == failed)
            await #expect(throws: OutboxRetryError.notFailed(pending, status: .pending)) { try await lanes.retry(itemID: pending, at: now) }
            await #expect(throws: OutboxRetryError.notFound(999_999)) { try await lanes.retry(itemID: 999_999, at: now) }
            await #expect(throws: OutboxRetryError.unknownKind(strange, kind: "pigeon.post")) { try await lanes.retry(itemID: strange, at: now) }

            // The notes a delivery makes on its way.
            let message = try await postgres.client.query(
                """
                INSERT INTO messages (user_id, source, direction, text, media, created_at, author) VALUES ('anna', 'telegram', 'out', 'hi', 'none', 0, 'flow') RETURNING id
                """, logger: logger
            ).decode(Int64.self).first { _ in true }!
            await lanes.recordChannelID("tg-77", ofMessage: message)
            await lanes.recordBrevoMessageSent("brevo-1", at: now)
            await lanes.recordBrevoMessageSent("brevo-1", at: now)
            await lanes.recordPartsSent(id: pending, count: 3, plan: "p")
            let platformID = try await postgres.client.query("SELECT platform_message_id FROM messages WHERE id = \(message)", logger: logger)
                .decode(String?.self).first { _ in true }
            #expect(platformID == "tg-77")
            let brevo = try await postgres.client.query("SELECT direction FROM brevo_messages WHERE message_id = 'brevo-1'", logger: logger)
                .decode(String.self).reduce(into: [String]()) { $0.append($1) }
            #expect(brevo == ["sent"])
            let parts = try await postgres.client.query("SELECT parts_sent, parts_plan FROM outbox WHERE id = \(pending)", logger: logger)
                .decode((Int64, String?).self).first { _ in true }
            #expect(parts?.0 == 3 && parts?.1 == "p")
            await lanes.close()
        }
    }
}

/// The lanes an instance heard it lost, each loss apart.
private final class LostLanes: @unchecked Sendable {
    private let lock = NSLock()
    private var losses: [Set<String>] = []
    func add(_ lanes: Set<String>) { lock.withLock { losses.append(lanes) } }
    var lanes: [Set<String>] { lock.withLock { losses } }
}
