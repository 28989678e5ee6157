import Channels

/// Pushes through Firebase Cloud Messaging (HTTP v1).
struct FCMPushSender: PushSender {
    let fcm: FCMClient

    func send(token: String, title: String?, body: String, data: [String: String]) async throws {
        _ = try await fcm.send(token: token, title: title, body: body, data: data)
    }
}
