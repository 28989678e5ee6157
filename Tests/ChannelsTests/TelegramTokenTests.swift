import AsyncHTTPClient
import Channels
import Foundation
import TestServers
import Testing
import TestSupport

/// The bot token is in every request's URL; it must not be in what the client says about
/// itself or its failures (those go to the log, the outbox and the inbox).
@Suite("Telegram client: the token stays out of errors", .machineShare)
struct TelegramTokenTests {
    static let token = "7000000002:AAHtokenThatMustNotLeak_abcdefghijklmn"

    @Test("an error page quoting the request's path, and a transport failure, give errors without the token")
    func errorsLeaveTheTokenOut() async throws {
        let server = EchoingFailureServer()
        let base = try await server.start()
        defer { Task { await server.stop() } }
        let client = TelegramClient(token: Self.token, baseURL: base, httpClient: .shared, logger: testLogger(), requestTimeout: .seconds(5))
        let quoted = await expectDeliveryError { _ = try await client.getMe() }
        #expect(quoted?.description.contains("/bot<token>/getMe") == true, "\(quoted?.description ?? "")")
        #expect(quoted?.description.contains(Self.token) == false)
        let download = await expectDeliveryError { _ = try await client.downloadFile(path: "photos/1.jpg") }
        #expect(download?.description.contains(Self.token) == false, "\(download?.description ?? "")")

        let nobody = TelegramClient(token: Self.token, baseURL: "http://127.0.0.1:1", httpClient: .shared, logger: testLogger(), requestTimeout: .seconds(5))
        let refused = await expectDeliveryError { _ = try await nobody.getMe() }
        #expect(refused?.description.contains(Self.token) == false, "\(refused?.description ?? "")")
    }

    @Test("printing the client, or a value holding it, shows its base URL and not its token")
    func descriptionLeavesTheTokenOut() {
        let client = TelegramClient(token: Self.token, baseURL: "https://api.telegram.org", httpClient: .shared, logger: testLogger())
        struct Holder { var telegram: TelegramClient }
        for text in ["\(client)", String(reflecting: client), "\(Holder(telegram: client))"] {
            #expect(!text.contains(Self.token), "\(text)")
            #expect(text.contains("https://api.telegram.org"))
        }
    }
}
