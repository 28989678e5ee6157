import Channels
import Flows
import Foundation
import Hummingbird
import HummingbirdTesting
import Server
import Storage
import Testing
import TestSupport

/// "Retry" on a failed delivery really sends it again (Chatwoot #12333: a retry that only
/// clears the red mark is worse than the failure).
@Suite("Retrying a failed delivery", .machineShare)
struct DeliveryRetryTests {
    @Test func aFailedTelegramReplyIsSentAgainAfterRetry() async throws {
        let ports = TestPorts()
        try await ports.withServer(configure: { $0.autoModeDefault = false }) { app, _ in
            // Telegram refuses for good (not retried by the worker).
            ports.telegramChats.failNext(1, with: badRequest("chat not found"))
            let sent = try await app.engine.sendFromAPI(source: .telegram, platformChatID: "555000444", text: "Your order left today", senderName: "Anna", at: Date())
            await app.waitForDeliveries()
            #expect(ports.telegramChats.sent.isEmpty)

            let inbox = InboxQueries(database: app.database)
            let chat = try #require(try await inbox.chats(InboxQuery(autoModeDefault: false)).items.first)
            let failed = try #require(try await inbox.messages(of: chat.id, before: nil, limit: 10).last)
            #expect(failed.id == sent.id)
            #expect(failed.author == .staff && failed.senderName == "Anna")
            let delivery = try #require(failed.delivery)
            #expect(delivery.status == .failed)
            #expect(delivery.lastError?.contains("chat not found") == true)

            // Fixed on Telegram's side: retry sends it.
            let item = try await app.retryDelivery(itemID: delivery.itemID)
            #expect(item.status == .pending)
            await app.waitForDeliveries()
            #expect(ports.telegramChats.sent.map(\.text) == ["Your order left today"])
            let delivered = try #require(try await inbox.messages(of: chat.id, before: nil, limit: 10).last?.delivery)
            #expect(delivered.status == .delivered && delivered.lastError == nil)
            await #expect(throws: OutboxRetryError.notFailed(delivery.itemID, status: .delivered)) {
                try await app.retryDelivery(itemID: delivery.itemID)
            }
        }
        #expect(ports.violations.isEmpty)
    }
}
