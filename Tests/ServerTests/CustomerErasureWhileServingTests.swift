import Foundation
import TestSupport
import Testing

/// `replyflow customers erase` on the database of a `replyflow serve` that is running and
/// taking messages: both real processes, as an operator would do it.
@Suite("Erasing while the server runs", .serialized, .machineShare)
struct CustomerErasureWhileServingTests {
    @Test(.timeLimit(.minutes(5)))
    func eraseWhileServing() async throws {
        let binary = try #require(ServerProcess.binary, "build replyflow first (swift build)")
        let harness = try ServerHarness()
        defer { harness.remove() }
        let server = try ServerProcess(
            binary: binary, environment: ServerProcess.environment(harness, port: try ServerProcess.freePort()), logPath: harness.directory + "/serve.log")
        defer { server.kill() }
        try await server.waitForHealth()
        for (user, text) in [("gone-1", "forget me"), ("stays-2", "keep me")] {
            #expect(try await server.postJSON("/send_message", #"{"user_id": "\#(user)", "message": "\#(text)"}"#).status == 200)
        }

        // Messages keep coming in while the erasure runs.
        let traffic = Task {
            for index in 0..<40 {
                _ = try? await server.postJSON("/send_message", #"{"user_id": "busy-\#(index % 4)", "message": "busy \#(index)"}"#)
            }
        }
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "customers", "erase", "--source", "app", "--id", "gone-1", "--db", harness.configuration.databasePath, "--uploads-dir",
            harness.configuration.uploadsDirectory, "--env-file", harness.directory + "/none.env",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        await process.waitUntilExit()
        await traffic.value
        #expect(process.terminationStatus == 0, "\(printed)")
        #expect(printed.contains("Erased the app customer gone-1:"))

        let gone = try await server.request("GET", "/message_history/gone-1")
        #expect(gone.status == 200)
        #expect(!String(decoding: gone.body, as: UTF8.self).contains("forget me"))
        let stays = try await server.request("GET", "/message_history/stays-2")
        #expect(String(decoding: stays.body, as: UTF8.self).contains("keep me"))
        #expect(try await server.postJSON("/send_message", #"{"user_id": "stays-2", "message": "still taking messages"}"#).status == 200)
    }
}
