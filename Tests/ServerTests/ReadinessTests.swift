import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Server
import TestSupport

@Suite("GET /ready: 200 only when the database takes writes and flows are loaded", .machineShare)
struct ReadinessTests {
    @Test("a server with its database and flows is ready; /health stays as the seed has it")
    func ready() async throws {
        try await TestPorts().withServer { _, client in
            let ready = try await client.execute(uri: "/ready", method: .get)
            #expect(ready.status == .ok)
            #expect(ready.json["status"] as? String == "ready")
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.json["status"] as? String == "ok")
        }
    }

    @Test("a database another process holds the write lock of is not ready, said within the probe's time, and ready again once released")
    func lockedDatabase() async throws {
        try await TestPorts().withServer { app, client in
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            // Another process holding the lock across calls, as a long migration or a backup tool might.
            configuration.allowsUnsafeTransactions = true
            let other = try DatabaseQueue(path: app.database.writer.path, configuration: configuration)
            try await other.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
            let started = ContinuousClock.now
            let locked = try await client.execute(uri: "/ready", method: .get)
            #expect(locked.status == .serviceUnavailable)
            // Short of the 10 s busy timeout a probe without its own limit would wait.
            #expect(ContinuousClock.now - started < .seconds(8))
            let reasons = locked.json["reasons"] as? [String] ?? []
            #expect(reasons.first?.hasPrefix("the database did not take a write within") == true, "\(reasons)")
            try await other.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
            try other.close()
            let released = try await waitFor { () async throws -> Bool? in
                try await client.execute(uri: "/ready", method: .get).status == .ok ? true : nil
            }
            #expect(released)
        }
    }

    @Test("a server whose flows folder holds no flow is not ready, and says why")
    func noFlows() async throws {
        var harness = try ServerHarness(flows: [:])
        defer { harness.remove() }
        harness.configuration.groupChatID = TestPorts.group
        let app = try harness.build(ports: TestPorts())
        try await app.application.test(.router) { client in
            let response = try await client.execute(uri: "/ready", method: .get)
            #expect(response.status == .serviceUnavailable)
            #expect(response.json["status"] as? String == "not ready")
            #expect(response.json["reasons"] as? [String] == ["no flows are loaded: FLOWS_DIR holds no flow files"])
        }
    }
}
