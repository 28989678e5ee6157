import Channels
import Flows
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Server
import Storage
import Testing
import TestSupport

/// A delivery waiting to be retried when its customer is erased is not sent afterwards.
@Suite("Erased deliveries", .machineShare)
struct ErasedDeliveryTests {
    @Test(.timeLimit(.minutes(5)))
    func aRetryAfterErasureIsDropped() async throws {
        let ports = TestPorts()
        try await ports.withServer { app, client in
            // The staff group is down for a moment: the forward waits for its retry.
            // The retry is 5 s away: the erasure below comes first even when the suite
            // stalls this process for a second or two.
            ports.staffGroup.failNext(1, with: DeliveryError(.retry(after: .seconds(5)), "Too Many Requests: retry after 5"))
            let sent = try await client.execute(
                uri: "/send_message", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"user_id": "forget-me-3", "message": "my address is 1 Main St"}"#))
            #expect(sent.status == .ok)
            _ = try await waitFor {
                try await app.database.writer.read { db in
                    try Int.fetchOne(db, sql: "SELECT attempts FROM outbox WHERE kind = 'telegram.forward'")
                }.flatMap { $0 >= 1 ? true : nil }
            }
            _ = try await app.database.eraseCustomer(source: .app, id: "forget-me-3", actor: "command line", address: nil, uploadsDirectory: nil)
            await app.waitForDeliveries()
            #expect(ports.staffGroup.calls.count == 1, "only the failed first attempt reached the group")
            #expect(ports.staffGroup.sent.isEmpty)
        }
    }
}
