import Foundation
import Logging
import PostgresNIO
import PostgresStorage
import Storage
import TestSupport
import Testing

@testable import Server

/// The outbox worker of several servers on one PostgreSQL database: each lane worked by
/// one server at a time and in order; a server that dies in the middle of a send hands
/// its lanes over, repeating at most that one send per lane; a clean stop repeats nothing.
@Suite(
    "Outbox worker, several servers on PostgreSQL", .timeLimit(.minutes(5)),
    .disabled(if: PostgresCluster.skipReason != nil, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"),
    .machineShare)
struct OutboxWorkerPostgresTests {
    static let lanes = ["telegram:group", "fcm:anna", "fcm:boris", "brevo:v1"]
    static let perLane = 25

    static let logger: Logger = {
        var logger = Logger(label: "replyflow.outbox-worker-tests")
        logger.logLevel = .critical
        return logger
    }()

    /// A server: its lanes and worker, run as the server runs them.
    struct Instance {
        let lanes: PostgresOutboxLanes
        let worker: OutboxWorker
        let service: Task<Void, Error>

        init(_ name: String, _ database: ReplyflowPostgres, _ sends: Sends) throws {
            lanes = try PostgresOutboxLanes(database, checkInterval: .milliseconds(200), checkTimeout: .seconds(2))
            worker = OutboxWorker(
                outbox: lanes, deliverers: [.push: RecordingDeliverer(instance: name, sends: sends)], metrics: ServerMetrics(), logger: OutboxWorkerPostgresTests.logger,
                maxAttempts: 5)
            let worker = self.worker
            service = Task { try await OutboxService(worker: worker, incoming: DeliveryQueue(), scanInterval: .milliseconds(200)).run() }
        }
    }

    private func fill(_ database: ReplyflowPostgres) async throws {
        for index in 0..<Self.perLane {
            for lane in Self.lanes {
                _ = try await database.client.query(
                    """
                    INSERT INTO outbox (kind, lane, payload, status, next_attempt_at, created_at, updated_at)
                    VALUES ('fcm.push', \(lane), \("\(lane)#\(index)"), 'pending', 0, 0, 0)
                    """, logger: Self.logger)
            }
        }
    }

    /// A migrated database with the lanes filled, and two pools on it: two servers.
    private func withTwoServers(_ body: (ReplyflowPostgres, ReplyflowPostgres) async throws -> Void) async throws {
        let cluster = try await PostgresCluster.shared()
        let url = try DatabaseURL.parse(cluster.url(database: try await cluster.makeDatabase()))
        try await ReplyflowPostgres.withDatabase(url, logger: Self.logger) { first in
            try await first.migrate()
            try await fill(first)
            try await ReplyflowPostgres.withDatabase(url, logger: Self.logger) { second in try await body(first, second) }
        }
    }

    private func pendingCount(_ database: ReplyflowPostgres) async throws -> Int64 {
        try await database.client.query("SELECT count(*) FROM outbox WHERE status = 'pending'", logger: Self.logger)
            .decode(Int64.self).first { _ in true } ?? -1
    }

    private func waitUntilDelivered(_ database: ReplyflowPostgres) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while try await pendingCount(database) > 0 {
            guard ContinuousClock.now < deadline else {
                let rows = try await database.client.query(
                    "SELECT id, lane, status, attempts FROM outbox WHERE status <> 'delivered' ORDER BY id LIMIT 5", logger: Self.logger
                ).decode((Int64, String, String, Int64).self)
                var text = ""
                for try await row in rows { text += "\(row) " }
                let locks = try await database.client.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'", logger: Self.logger)
                    .decode(Int64.self).first { _ in true }
                throw Sends.Timeout(what: "every item delivered; still to go: \(text); advisory locks held: \(locks ?? -1)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Each lane's sends, first copies in order; the repeats beside.
    private func check(_ sends: [Sends.Send], repeatsAtMost: Int) {
        var seen: Set<String> = []
        var repeats: [Sends.Send] = []
        var order: [String: [Int]] = [:]
        for send in sends {
            if !seen.insert(send.payload).inserted {
                repeats.append(send)
                continue
            }
            let parts = send.payload.split(separator: "#")
            order[String(parts[0]), default: []].append(Int(parts[1])!)
        }
        #expect(seen.count == Self.lanes.count * Self.perLane, "every item was sent")
        for lane in Self.lanes {
            #expect(order[lane] == Array(0..<Self.perLane), "lane \(lane) in order: \(order[lane] ?? [])")
        }
        #expect(repeats.count <= repeatsAtMost, "repeated: \(repeats.map { "\($0.payload) by \($0.instance)" })")
    }

    @Test("two servers drain one outbox, each lane in order; a server whose session dies mid-send hands its lanes over with at most one repeat each")
    func aServerDiesMidSend() async throws {
        try await withTwoServers { first, second in
            let sends = Sends()
            // A's sends of this one item never finish: it dies in the middle of it.
            sends.hang(instance: "a", payload: "fcm:anna#10")
            let a = try Instance("a", first, sends)
            // B starts once A holds the lane A is to die in.
            try await sends.waitFor { $0.contains { $0.instance == "a" && $0.payload == "fcm:anna#0" } }
            let b = try Instance("b", second, sends)
            try await sends.waitFor { $0.contains { $0.instance == "a" && $0.payload == "fcm:anna#10" } }
            try await Task.sleep(for: .milliseconds(200))

            // A dies: its session ends (its locks with it), and it does no more.
            let held = sends.lanesSentBy("a")
            _ = try await second.client.query(
                """
                SELECT pg_terminate_backend(pid) FROM pg_locks
                WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND pid <> pg_backend_pid()
                    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                    AND (classid::bigint << 32 | objid::bigint) = hashtextextended('replyflow.lane:fcm:anna', 0)
                """, logger: Self.logger
            ).collect()
            a.service.cancel()
            try? await a.service.value

            try await waitUntilDelivered(second)
            b.service.cancel()
            try? await b.service.value
            await b.lanes.close()
            await a.lanes.close()

            let all = sends.all
            check(all, repeatsAtMost: held.count)
            #expect(all.filter { $0.payload == "fcm:anna#10" }.map(\.instance) == ["a", "b"], "B sent the item A was sending")
            #expect(Set(all.map(\.instance)) == ["a", "b"], "both servers worked")
        }
    }

    @Test("a server stopped cleanly finishes its sends under way and hands over: nothing is sent twice")
    func aCleanStopRepeatsNothing() async throws {
        try await withTwoServers { first, second in
            let sends = Sends()
            sends.slow(instance: "a", payload: "telegram:group#5", by: .milliseconds(500))
            let a = try Instance("a", first, sends)
            try await sends.waitFor { $0.contains { $0.instance == "a" && $0.payload == "telegram:group#5" } }
            // B starts while A is in the middle of lanes (and of a slow send): A stops.
            let b = try Instance("b", second, sends)
            try await Task.sleep(for: .milliseconds(100))
            a.service.cancel()
            try? await a.service.value
            await a.lanes.close()

            try await waitUntilDelivered(second)
            b.service.cancel()
            try? await b.service.value
            await b.lanes.close()
            check(sends.all, repeatsAtMost: 0)
        }
    }
}

/// Every send any server made, in the order the service received them.
final class Sends: @unchecked Sendable {
    struct Send: Sendable {
        var instance: String
        var payload: String
    }

    struct Timeout: Error, CustomStringConvertible {
        var what: String
        var description: String { "timed out waiting for \(what)" }
    }

    private let lock = NSLock()
    private var sends: [Send] = []
    private var hanging: Set<String> = []
    private var slowed: [String: Duration] = [:]

    var all: [Send] { lock.withLock { sends } }

    func hang(instance: String, payload: String) { lock.withLock { _ = hanging.insert(instance + "|" + payload) } }
    func slow(instance: String, payload: String, by delay: Duration) { lock.withLock { slowed[instance + "|" + payload] = delay } }

    func lanesSentBy(_ instance: String) -> Set<String> {
        Set(all.filter { $0.instance == instance }.map { String($0.payload.split(separator: "#")[0]) })
    }

    /// The service received it (a send under way counts: it may well have arrived).
    func send(_ instance: String, _ payload: String) async throws {
        let (hangs, delay) = lock.withLock {
            sends.append(Send(instance: instance, payload: payload))
            return (hanging.contains(instance + "|" + payload), slowed[instance + "|" + payload])
        }
        if hangs {
            while true { try await Task.sleep(for: .seconds(1)) }
        }
        if let delay { try await Task.sleep(for: delay) }
    }

    func waitFor(_ condition: @escaping ([Send]) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition(all) {
            guard ContinuousClock.now < deadline else { throw Timeout(what: "the sends expected") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Sends an item's payload to `Sends`, taking a few milliseconds as a service would.
struct RecordingDeliverer: Deliverer {
    let instance: String
    let sends: Sends

    func deliver(_ item: OutboxItem, progress: DeliveryProgress) async throws {
        try await sends.send(instance, item.payload)
        try await Task.sleep(for: .milliseconds(5))
    }
}
