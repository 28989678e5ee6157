import Channels
import Foundation
import Server
import Synchronization
import TestServers

/// Customers' chats on one channel as a recording fake: Telegram private chats (HTML
/// texts, photos by Telegram's file id) or Instagram through Brevo (plain text only).
/// Every call is kept in order (failed ones too); sent messages get increasing ids. What
/// is given is checked the way the service checks it: for Telegram a numeric chat id, a
/// text of 1 to 4096 characters and a caption of at most 1024 after entity parsing, HTML
/// with only Telegram's tags; for Brevo a visitor id and a non-empty text, and no photos.
/// A call that breaks a rule is refused (`DeliveryError` `.fail`, as a 400) and its reason
/// kept in `violations`, which tests expect to be empty.
final class RecordingCustomerChannel: CustomerChannel {
    enum Service: Sendable { case telegram, brevo }
    enum Kind: Sendable, Equatable { case text, photo }

    /// One call, as the service would have received it.
    struct Call: Sendable {
        var kind: Kind
        var chatID: String
        /// The text or caption as sent (HTML for Telegram).
        var text: String?
        /// As the customer sees it (for Telegram: tags removed, entities decoded).
        var plainText: String?
        var photoFileID: String?
        var replyTo: Int64?
        /// The id the service gave the message; nil when the call failed.
        var id: String?
        var failure: DeliveryError?
        var injectedFailure = false

        var succeeded: Bool { failure == nil }
    }

    private struct State {
        var calls: [Call] = []
        var violations: [String] = []
        var failures = InjectedFailures<Kind, DeliveryError>()
        var nextID = 1
    }

    let service: Service
    private let state = Mutex(State())

    init(_ service: Service) {
        self.service = service
    }

    // MARK: What was sent

    /// Every call, in order, failed ones included.
    var calls: [Call] { state.withLock { $0.calls } }
    /// The calls that went through, in order.
    var sent: [Call] { calls.filter(\.succeeded) }
    /// What the real service would have refused, one line each.
    var violations: [String] { state.withLock { $0.violations } }

    /// The next `count` calls of `kind` (any when nil), after `skip` that go through, throw `error`.
    func failNext(_ count: Int, _ kind: Kind? = nil, after skip: Int = 0, with error: DeliveryError) {
        state.withLock { $0.failures.add(count, of: kind, after: skip, with: error) }
    }

    // MARK: CustomerChannel

    func sendText(_ text: String, to chatID: String, replyTo: Int64?) async throws -> String? {
        try record(Call(kind: .text, chatID: chatID, text: text, replyTo: replyTo)) { call in
            switch service {
            case .telegram:
                try Self.checkTelegram(chatID: chatID, replyTo: replyTo)
                call.plainText = try Self.plainText(text, limit: TelegramText.messageLimit, what: "message text")
                if call.plainText?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty == true { throw Refusal("message text is empty") }
            case .brevo:
                guard !chatID.isEmpty else { throw Refusal("visitorId is required") }
                guard !text.isEmpty else { throw Refusal("text is required") }
                call.plainText = text
            }
        }
    }

    func sendPhoto(fileID: String, caption: String?, to chatID: String, replyTo: Int64?) async throws -> String? {
        try record(Call(kind: .photo, chatID: chatID, text: caption, photoFileID: fileID, replyTo: replyTo)) { call in
            switch service {
            case .telegram:
                try Self.checkTelegram(chatID: chatID, replyTo: replyTo)
                guard !fileID.isEmpty else { throw Refusal("there is no photo in the request") }
                call.plainText = try caption.map { try Self.plainText($0, limit: TelegramText.captionLimit, what: "message caption") }
            case .brevo:
                throw Refusal("Brevo Conversations takes text only, not a photo by a Telegram file id")
            }
        }
    }

    // MARK: Checking and recording

    private struct Refusal: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    private func record(_ call: Call, check: (inout Call) throws -> Void) throws -> String? {
        try state.withLock { state in
            var call = call
            defer { state.calls.append(call) }
            if let error = state.failures.take(call.kind) {
                call.failure = error
                call.injectedFailure = true
                throw error
            }
            do {
                try check(&call)
            } catch let refusal as Refusal {
                let error = badRequest(refusal.reason)
                call.failure = error
                state.violations.append("\(call.kind) to \(call.chatID): \(refusal.reason)")
                throw error
            }
            call.id = service == .brevo ? "brevo-msg-\(state.nextID)" : String(state.nextID)
            state.nextID += 1
            return call.id
        }
    }

    private static func checkTelegram(chatID: String, replyTo: Int64?) throws {
        guard Int64(chatID) != nil else { throw Refusal("chat_id \(chatID) is not a number") }
        if let replyTo, replyTo <= 0 { throw Refusal("message to be replied not found") }
    }

    private static func plainText(_ html: String, limit: Int, what: String) throws -> String {
        let plain: String
        do {
            plain = try TelegramHTML.plainText(html)
        } catch {
            throw Refusal("can't parse entities: \(error)")
        }
        guard plain.utf16.count <= limit else { throw Refusal("\(what) is too long (\(plain.utf16.count) > \(limit))") }
        return plain
    }
}
