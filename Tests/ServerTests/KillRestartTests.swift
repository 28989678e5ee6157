import Foundation
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestServers

/// The real `replyflow serve` binary, killed with SIGKILL while a delivery is pending and
/// started again on the same database: the accepted message still reaches Telegram.
@Suite("Kill and restart", .serialized) struct KillRestartTests {
    /// `replyflow`, built next to the test bundle by `swift build` / `swift test`.
    static var binary: String? {
        var directory = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("replyflow").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        let fallback = ServerHarness.repositoryRoot + "/.build/debug/replyflow"
        return FileManager.default.isExecutableFile(atPath: fallback) ? fallback : nil
    }

    /// A port nobody listens on right now.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw ChatClientProcess.Failure(description: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func startServer(_ binary: String, port: Int, harness: ServerHarness, telegramURL: String, token: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--env-file", harness.directory + "/none.env"]
        process.environment = [
            "SERVER_HOST": "127.0.0.1", "SERVER_PORT": String(port),
            "DATABASE_PATH": harness.configuration.databasePath, "UPLOADS_DIR": harness.configuration.uploadsDirectory,
            "FLOWS_DIR": harness.configuration.flowsDirectory, "BOT_TOKEN": token, "GROUP_CHAT_ID": "-100555",
            "TELEGRAM_API_URL": telegramURL, "TELEGRAM_POLL_TIMEOUT": "1", "LOG_LEVEL": "error",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func waitForHealth(port: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let (_, response) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/health")!),
               (response as? HTTPURLResponse)?.statusCode == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ChatClientProcess.Failure(description: "replyflow serve did not answer /health")
    }

    @Test func aKilledServerDeliversAfterRestart() async throws {
        let binary = try #require(Self.binary, "build replyflow first (swift build)")
        let harness = try ServerHarness()
        defer { harness.remove() }
        let telegram = FakeTelegramServer()
        let telegramURL = try await telegram.start().absoluteString
        await telegram.failNext(1_000, method: "sendMessage", with: .serverError)
        let port = try Self.freePort()

        let first = try startServer(binary, port: port, harness: harness, telegramURL: telegramURL, token: telegram.token)
        try await waitForHealth(port: port)
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/send_message")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(#"{"user_id": "k1", "message": "Пережить kill -9"}"#.utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        _ = try await telegram.waitForRequests(1, method: "sendMessage", timeout: .seconds(10))
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()

        let telegram2 = FakeTelegramServer()
        let telegram2URL = try await telegram2.start().absoluteString
        let second = try startServer(binary, port: port, harness: harness, telegramURL: telegram2URL, token: telegram2.token)
        defer {
            second.terminate()
            second.waitUntilExit()
        }
        let delivered = try await telegram2.waitForRequests(1, method: "sendMessage", timeout: .seconds(15))
        #expect(delivered.first?.plainText?.contains("Пережить kill -9") == true)
        #expect(delivered.first?.int("chat_id") == -100555)
        await telegram.stop()
        await telegram2.stop()
    }

    @Test func sigtermStopsTheServerCleanly() async throws {
        let binary = try #require(Self.binary, "build replyflow first (swift build)")
        let harness = try ServerHarness()
        defer { harness.remove() }
        let telegram = FakeTelegramServer()
        let telegramURL = try await telegram.start().absoluteString
        let port = try Self.freePort()
        let server = try startServer(binary, port: port, harness: harness, telegramURL: telegramURL, token: telegram.token)
        try await waitForHealth(port: port)
        kill(server.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(15)
        while server.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!server.isRunning, "replyflow serve still running 15 s after SIGTERM")
        if server.isRunning { server.terminate() }
        server.waitUntilExit()
        #expect(server.terminationReason == .exit)
        #expect(server.terminationStatus == 0)
        await telegram.stop()
    }
}
