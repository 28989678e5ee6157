import Channels
import Foundation
import Server
import Synchronization

/// Push notifications as a recording fake. Every call is kept in order (failed ones too);
/// delivered pushes get increasing ids. As FCM does, it refuses a push with no device
/// token or no body, and data whose keys FCM reserves; refusals are kept in `violations`,
/// which tests expect to be empty. A token can be told to fail like one FCM no longer
/// accepts (`.dropRecipient`) or a busy service (`.retry`).
final class RecordingPushSender: PushSender {
    /// One push, as FCM would have received it.
    struct Push: Sendable {
        var token: String
        var title: String?
        var body: String
        var data: [String: String]
        /// FCM's name for the message; nil when the call failed.
        var id: String?
        var failure: DeliveryError?
        var injectedFailure = false

        var succeeded: Bool { failure == nil }
    }

    private struct State {
        var calls: [Push] = []
        var violations: [String] = []
        var failures = InjectedFailures<String, DeliveryError>()
        var nextID = 1
    }

    private let state = Mutex(State())

    /// Every call, in order, failed ones included.
    var calls: [Push] { state.withLock { $0.calls } }
    /// The pushes that went through, in order.
    var sent: [Push] { calls.filter(\.succeeded) }
    /// What FCM would have refused, one line each.
    var violations: [String] { state.withLock { $0.violations } }

    /// The next `count` pushes (to `token` only, when given), after `skip` that go
    /// through, throw `error`.
    func failNext(_ count: Int, token: String? = nil, after skip: Int = 0, with error: DeliveryError) {
        state.withLock { $0.failures.add(count, after: skip, token: token, with: error) }
    }

    /// Whether FCM refuses `key` in a message's data.
    static func isReserved(_ key: String) -> Bool {
        let lower = key.lowercased()
        return ["from", "message_type"].contains(lower) || lower.hasPrefix("google.") || lower.hasPrefix("gcm.")
    }

    func send(token: String, title: String?, body: String, data: [String: String]) async throws {
        try state.withLock { state in
            var push = Push(token: token, title: title, body: body, data: data)
            defer { state.calls.append(push) }
            if let error = state.failures.take("send", token: token) {
                push.failure = error
                push.injectedFailure = true
                throw error
            }
            var problem: String?
            if token.isEmpty {
                problem = "the message has no token"
            } else if body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                problem = "the notification has no body"
            } else if let key = data.keys.sorted().first(where: Self.isReserved) {
                problem = "data key \(key) is reserved"
            }
            if let problem {
                let error = DeliveryError(.fail, "FCM: INVALID_ARGUMENT: \(problem)", httpStatus: 400, serviceCode: "INVALID_ARGUMENT")
                push.failure = error
                state.violations.append("\(token): \(problem)")
                throw error
            }
            push.id = "projects/fake/messages/\(state.nextID)"
            state.nextID += 1
        }
    }
}
