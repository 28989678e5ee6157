import Flows
import Foundation
import Logging
import Testing

@testable import Server
import TestSupport

/// Reloading flows: a good set replaces the running one, a set with an error is refused
/// and the last good set keeps serving.
@Suite("Flow reload", .machineShare)
struct FlowReloadTests {
    @Test func aBrokenSetIsRefusedAndTheGoodOneKeepsRunning() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let built = try harness.build()
        let reloader = FlowReloader(directory: harness.configuration.flowsDirectory, engine: built.engine, logger: ServerHarness.quietLogger)
        let before = await built.engine.flowSet.flows.map(\.name)
        #expect(before.contains("Forward app messages to staff"))

        let extra = harness.configuration.flowsDirectory + "/extra.yaml"
        try "name: Thank you\non: app_message\ndo:\n  - reply: \"Спасибо!\"\n".write(toFile: extra, atomically: true, encoding: .utf8)
        await reloader.reload()
        #expect(await built.engine.flowSet.flows.map(\.name).contains("Thank you"))

        try "name: Broken\non: app_mesage\ndo:\n  - stop\n".write(toFile: extra, atomically: true, encoding: .utf8)
        await reloader.reload()
        let after = await built.engine.flowSet.flows.map(\.name)
        #expect(after.contains("Thank you"), "the last good set keeps running")
        #expect(!after.contains("Broken"))
    }

    @Test func aSetThatBecameEmptyIsRefusedAndTheLastOneKeepsRunning() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let built = try harness.build()
        let recorder = LogRecorder()
        let reloader = FlowReloader(directory: harness.configuration.flowsDirectory, engine: built.engine, logger: recorder.logger)
        let before = await built.engine.flowSet.flows.map(\.name)
        #expect(!before.isEmpty)
        // Every file moved away, as a deploy or a checkout half done leaves the folder.
        let moved = harness.directory + "/moved-away"
        try FileManager.default.moveItem(atPath: harness.configuration.flowsDirectory, toPath: moved)
        try FileManager.default.createDirectory(atPath: harness.configuration.flowsDirectory, withIntermediateDirectories: false)
        await reloader.reload()
        #expect(await built.engine.flowSet.flows.map(\.name) == before, "the last good set keeps running")
        let errors = recorder.messages(atLeast: .error)
        #expect(errors.contains { $0.contains("flows not reloaded") && $0.contains("holds no flows") }, "\(errors)")

        // Back: picked up again.
        try FileManager.default.removeItem(atPath: harness.configuration.flowsDirectory)
        try FileManager.default.moveItem(atPath: moved, toPath: harness.configuration.flowsDirectory)
        try "name: Back\non: app_message\ndo:\n  - stop\n".write(toFile: harness.configuration.flowsDirectory + "/back.yaml", atomically: true, encoding: .utf8)
        await reloader.reload()
        #expect(await built.engine.flowSet.flows.map(\.name).contains("Back"))
    }

    @Test func startingWithNoFlowsWarns() throws {
        let harness = try ServerHarness(flows: [:])
        defer { harness.remove() }
        let recorder = LogRecorder()
        _ = try ReplyflowServer.buildApplication(configuration: harness.configuration, logger: recorder.logger)
        let warnings = recorder.messages(atLeast: .warning)
        #expect(warnings.contains { $0.contains("FLOWS_DIR=\(harness.configuration.flowsDirectory) holds no flows") }, "\(warnings)")
        // The default flows start without it.
        let defaults = try ServerHarness()
        defer { defaults.remove() }
        let quiet = LogRecorder()
        _ = try ReplyflowServer.buildApplication(configuration: defaults.configuration, logger: quiet.logger)
        #expect(!quiet.messages(atLeast: .warning).contains { $0.contains("holds no flows") })
    }

    @Test func theFingerprintChangesWhenAFileChanges() throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let first = FlowReloader.fingerprint(harness.configuration.flowsDirectory)
        try "name: New\non: app_message\ndo:\n  - stop\n".write(toFile: harness.configuration.flowsDirectory + "/new.yaml", atomically: true, encoding: .utf8)
        #expect(FlowReloader.fingerprint(harness.configuration.flowsDirectory) != first)
    }
}

/// The reloader as a service: a changed file in the flows folder is picked up by itself.
@Suite("Flow reload service", .machineShare)
struct FlowReloadServiceTests {
    @Test func aChangedFileIsPickedUpWithoutAsking() async throws {
        let harness = try ServerHarness()
        defer { harness.remove() }
        let built = try harness.build()
        var reloader = FlowReloader(directory: harness.configuration.flowsDirectory, engine: built.engine, logger: ServerHarness.quietLogger)
        reloader.pollInterval = .milliseconds(100)
        let service = reloader
        let running = Task { try await service.run() }
        defer { running.cancel() }
        try await Task.sleep(for: .milliseconds(300))
        try "name: Watched\non: app_message\ndo:\n  - stop\n".write(
            toFile: harness.configuration.flowsDirectory + "/watched.yaml", atomically: true, encoding: .utf8)
        let deadline = ContinuousClock.now + .seconds(15)
        var names: [String] = []
        while ContinuousClock.now < deadline {
            names = await built.engine.flowSet.flows.map(\.name)
            if names.contains("Watched") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(names.contains("Watched"))
    }

    /// `/health`'s `flows`: what an operator compares across instances behind one balancer.
    @Test func healthShowsTheRunningFlowsFingerprintAndItFollowsAReload() async throws {
        // Two instances, each with its copy of the same flow files.
        let one = try ServerHarness(), two = try ServerHarness()
        defer {
            one.remove()
            two.remove()
        }
        let first = try one.build(), second = try two.build()
        func fingerprint(_ app: ReplyflowServer.ServerApp) async throws -> String? {
            try await app.application.test(.router) { client in
                try await client.execute(uri: "/health", method: .get).json["flows"] as? String
            }
        }
        func editGreeting(_ harness: ServerHarness, engine: FlowEngine) async throws {
            let greeting = harness.configuration.flowsDirectory + "/daily-greeting.yaml"
            try (try String(contentsOfFile: greeting, encoding: .utf8)).replacingOccurrences(of: "Здравствуйте", with: "Добрый день")
                .write(toFile: greeting, atomically: true, encoding: .utf8)
            await FlowReloader(directory: harness.configuration.flowsDirectory, engine: engine, logger: ServerHarness.quietLogger).reload()
        }
        let before = try #require(try await fingerprint(first))
        #expect(before.count == 16 && before.allSatisfy(\.isHexDigit), "\(before)")
        #expect(try await fingerprint(second) == before, "the same files, the same fingerprint")

        // One instance has reloaded an edit, the other not yet: they differ until it has.
        try await editGreeting(one, engine: first.engine)
        let after = try #require(try await fingerprint(first))
        #expect(after != before)
        #expect(try await fingerprint(second) == before)
        try await editGreeting(two, engine: second.engine)
        #expect(try await fingerprint(second) == after)
    }
}
