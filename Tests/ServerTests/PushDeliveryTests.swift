import Channels
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Server
import Testing
import TestSupport

/// Pushes through the push port, on the router with a recording push sender. The default
/// flows push a staff reply from the Telegram group (`WholeStoryTests`, on loopback); here
/// a flow pushes every app message, so no Telegram update is needed.
@Suite("Pushes to the user's devices", .machineShare)
struct PushDeliveryTests {
    let jsonHeaders: HTTPFields = [.contentType: "application/json"]

    func json(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
    }

    static let flows = [
        "push.yaml": """
        name: Push each app message back
        on: app_message
        do:
          - push:
              title: "Служба поддержки"
              text: "{{message.text}}"
        """
    ]

    @Test func everyDeviceGetsThePushATokenNoLongerAcceptedIsRemovedAndABusyServiceIsRetried() async throws {
        let harness = try ServerHarness(flows: Self.flows)
        defer { harness.remove() }
        let ports = TestPorts()
        // As the FCM client classifies FCM's 404 UNREGISTERED and 429 with Retry-After.
        ports.push.failNext(1, token: "old-token", with: DeliveryError(.dropRecipient, "FCM: UNREGISTERED", httpStatus: 404, serviceCode: "UNREGISTERED"))
        ports.push.failNext(
            1, token: "new-token", with: DeliveryError(.retry(after: .seconds(1)), "FCM: QUOTA_EXCEEDED", httpStatus: 429, serviceCode: "QUOTA_EXCEEDED"))
        let app = try harness.build(ports: ports)
        try await app.application.test(.router) { client in
            _ = try await client.execute(
                uri: "/register_device", method: .post, headers: jsonHeaders, body: json(["user_id": "u2", "fcm_token": "old-token", "device_id": "a"]))
            _ = try await client.execute(
                uri: "/register_device", method: .post, headers: jsonHeaders, body: json(["user_id": "u2", "fcm_token": "new-token", "device_id": "b"]))
            _ = try await client.execute(
                uri: "/register_device", method: .post, headers: jsonHeaders, body: json(["user_id": "u3", "fcm_token": "other-token", "device_id": "c"]))
            let started = ContinuousClock.now
            _ = try await client.execute(uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "u2", "message": "!"]))
            await app.waitForDeliveries()
            #expect(ContinuousClock.now - started >= .seconds(1), "the busy service's Retry-After is waited out")

            // The old token is tried once and removed; the new one is tried again and reached.
            #expect(ports.push.calls.map(\.token) == ["old-token", "new-token", "new-token"])
            let delivered = try #require(ports.push.sent.first)
            #expect(ports.push.sent.count == 1)
            #expect(delivered.token == "new-token")
            #expect(delivered.title == "Служба поддержки")
            #expect(delivered.body == "!")
            #expect(delivered.data == ["user_id": "u2", "type": "support_message"])
            let devices = try await client.execute(uri: "/check_device/u2", method: .get)
            #expect(devices.json["device_count"] as? Int == 1)
        }
        #expect(ports.violations.isEmpty)
    }

    @Test func aUserWithoutDevicesGetsNoPush() async throws {
        let harness = try ServerHarness(flows: Self.flows)
        defer { harness.remove() }
        let ports = TestPorts()
        let app = try harness.build(ports: ports)
        try await app.application.test(.router) { client in
            let sent = try await client.execute(
                uri: "/send_message", method: .post, headers: jsonHeaders, body: json(["user_id": "nobody", "message": "hello"]))
            #expect(sent.status == .ok)
            await app.waitForDeliveries()
        }
        #expect(ports.push.calls.isEmpty)
        let row = try await app.database.writer.read { db in try String.fetchOne(db, sql: "SELECT status FROM outbox WHERE kind = 'fcm.push'") }
        #expect(row == "delivered")
    }
}
