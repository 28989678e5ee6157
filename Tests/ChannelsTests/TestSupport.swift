import AsyncHTTPClient
import Channels
import Foundation
import Logging
import TestServers
import Testing

/// A quiet logger for clients under test.
func testLogger() -> Logger {
    var logger = Logger(label: "ChannelsTests")
    logger.logLevel = .critical
    return logger
}

/// Runs `body` with a started fake Telegram server and a client pointed at it; stops the fake afterwards.
func withTelegram(
    token: String? = nil,
    _ body: (FakeTelegramServer, TelegramClient) async throws -> Void
) async throws {
    let fake = FakeTelegramServer()
    let base = try await fake.start()
    let client = TelegramClient(
        token: token ?? fake.token, baseURL: base.absoluteString, httpClient: .shared, logger: testLogger(),
        requestTimeout: .seconds(10), uploadTimeout: .seconds(10)
    )
    do {
        try await body(fake, client)
    } catch {
        await fake.stop()
        throw error
    }
    await fake.stop()
}

/// Calls `operation`, expecting a `DeliveryError`, and returns it.
func expectDeliveryError(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ operation: () async throws -> Void
) async -> DeliveryError? {
    do {
        try await operation()
        Issue.record("expected a DeliveryError, but the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let error as DeliveryError {
        return error
    } catch {
        Issue.record("expected a DeliveryError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// A temporary file that is removed when the test scope ends.
func writeTemporaryFile(_ contents: String, name: String = "service-account.json") throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("channels-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let url = directory.appendingPathComponent(name)
    try Data(contents.utf8).write(to: url)
    return url
}
