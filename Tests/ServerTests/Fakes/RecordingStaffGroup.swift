import Channels
import Foundation
import Server
import Synchronization
import TestServers

/// The staff group as a recording fake. Every call is kept in order (failed ones too);
/// sent messages get increasing ids, as Telegram's do in one chat. What is given is checked
/// the way the Bot API checks it: HTML with only Telegram's tags, well formed; a text of
/// 1 to 4096 characters and a caption of at most 1024 after entity parsing; real image
/// bytes; an album of 2 to 10 photos; a thread that is one of the group's topics. A call
/// that breaks a rule is refused (`DeliveryError` `.fail`, as a 400) and its reason kept
/// in `violations`, which tests expect to be empty.
final class RecordingStaffGroup: StaffGroup {
    enum Kind: Sendable, Equatable { case text, photo, album, copy, topic }

    /// One call, as the group would have received it.
    struct Call: Sendable {
        var kind: Kind
        /// The group messages it made (a topic: its thread id); empty when it failed.
        var ids: [Int64] = []
        /// The text or caption as sent (HTML).
        var html: String?
        /// The text or caption as staff see it (tags removed, entities decoded).
        var plainText: String?
        var photos: [TelegramUpload] = []
        var thread: Int64?
        var replyTo: Int64?
        /// A copy's source.
        var fromChat: Int64?
        var copiedMessage: Int64?
        var topicName: String?
        /// Why it failed: an injected failure or a refusal.
        var failure: DeliveryError?
        var injectedFailure = false

        var succeeded: Bool { failure == nil }
    }

    private struct State {
        var calls: [Call] = []
        var violations: [String] = []
        var failures = InjectedFailures<Kind, DeliveryError>()
        var nextID: Int64 = 1
        var topics: Set<Int64> = []
    }

    private let state = Mutex(State())

    // MARK: What was sent

    /// Every call, in order, failed ones included.
    var calls: [Call] { state.withLock { $0.calls } }
    /// The calls that went through, in order.
    var sent: [Call] { calls.filter(\.succeeded) }
    /// The texts, photos and albums staff got (no copies or topics), in order.
    var messages: [Call] { sent.filter { [.text, .photo, .album].contains($0.kind) } }
    /// What the real service would have refused, one line each.
    var violations: [String] { state.withLock { $0.violations } }

    /// The next `count` calls of `kind` (any kind when nil), after `skip` of them that go
    /// through, throw `error`.
    func failNext(_ count: Int, _ kind: Kind? = nil, after skip: Int = 0, with error: DeliveryError) {
        state.withLock { $0.failures.add(count, of: kind, after: skip, with: error) }
    }

    // MARK: StaffGroup

    func sendText(_ html: String, thread: Int64?, replyTo: Int64?) async throws -> Int64 {
        try record(Call(kind: .text, html: html, thread: thread, replyTo: replyTo)) { call, topics in
            call.plainText = try Self.plainText(html, limit: TelegramText.messageLimit, what: "message text")
            if call.plainText?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty == true { throw Refusal("message text is empty") }
            try Self.check(thread: thread, replyTo: replyTo, topics: topics)
        }[0]
    }

    func sendPhoto(_ photo: TelegramUpload, caption html: String?, thread: Int64?) async throws -> Int64 {
        try record(Call(kind: .photo, html: html, photos: [photo], thread: thread)) { call, topics in
            try Self.checkImage(photo, what: "photo")
            call.plainText = try html.map { try Self.plainText($0, limit: TelegramText.captionLimit, what: "message caption") }
            try Self.check(thread: thread, replyTo: nil, topics: topics)
        }[0]
    }

    func sendAlbum(_ photos: [TelegramUpload], caption html: String?, thread: Int64?) async throws -> [Int64] {
        try record(Call(kind: .album, html: html, photos: photos, thread: thread)) { call, topics in
            guard (2...10).contains(photos.count) else { throw Refusal("media must include 2-10 items, got \(photos.count)") }
            for (index, photo) in photos.enumerated() { try Self.checkImage(photo, what: "media #\(index + 1)") }
            call.plainText = try html.map { try Self.plainText($0, limit: TelegramText.captionLimit, what: "message caption") }
            try Self.check(thread: thread, replyTo: nil, topics: topics)
        }
    }

    func copy(messageID: Int64, fromChat chatID: Int64) async throws -> Int64 {
        try record(Call(kind: .copy, fromChat: chatID, copiedMessage: messageID)) { _, _ in
            guard messageID > 0 else { throw Refusal("message_id is required") }
            guard chatID != 0 else { throw Refusal("from_chat_id is required") }
        }[0]
    }

    func createTopic(name: String) async throws -> Int64 {
        try record(Call(kind: .topic, topicName: name)) { _, _ in
            guard (1...TelegramText.topicNameLimit).contains(name.utf16.count) else { throw Refusal("the topic name must be 1-128 characters") }
        }[0]
    }

    // MARK: Checking and recording

    private struct Refusal: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// Records `call`: it fails as told, or is refused by `check`, or gets its ids.
    private func record(_ call: Call, check: (inout Call, Set<Int64>) throws -> Void) throws -> [Int64] {
        try state.withLock { state in
            var call = call
            defer { state.calls.append(call) }
            if let error = state.failures.take(call.kind) {
                call.failure = error
                call.injectedFailure = true
                throw error
            }
            do {
                try check(&call, state.topics)
            } catch let refusal as Refusal {
                let error = badRequest(refusal.reason)
                call.failure = error
                state.violations.append("\(call.kind): \(refusal.reason)")
                throw error
            }
            let count = call.kind == .album ? call.photos.count : 1
            call.ids = (0..<count).map { state.nextID + Int64($0) }
            state.nextID += Int64(count)
            if call.kind == .topic { state.topics.insert(call.ids[0]) }
            return call.ids
        }
    }

    /// The text Telegram would show for `html`, refused when it does not parse or is too long.
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

    private static func check(thread: Int64?, replyTo: Int64?, topics: Set<Int64>) throws {
        if let thread, !topics.contains(thread) { throw Refusal("message thread \(thread) not found") }
        if let replyTo, replyTo <= 0 { throw Refusal("message to be replied not found") }
    }

    private static func checkImage(_ photo: TelegramUpload, what: String) throws {
        let bytes = [UInt8](photo.data.prefix(12))
        guard !bytes.isEmpty else { throw Refusal("\(what): file must be non-empty") }
        guard photo.data.count <= 10 * 1024 * 1024 else { throw Refusal("\(what): photo is larger than 10 MB") }
        let isJPEG = bytes.starts(with: [0xFF, 0xD8, 0xFF])
        let isPNG = bytes.starts(with: [0x89, 0x50, 0x4E, 0x47])
        let isGIF = bytes.starts(with: Array("GIF8".utf8))
        let isWebP = bytes.count >= 12 && bytes.starts(with: Array("RIFF".utf8)) && Array(bytes[8..<12]) == Array("WEBP".utf8)
        guard isJPEG || isPNG || isGIF || isWebP else { throw Refusal("IMAGE_PROCESS_FAILED (\(what) is not JPEG, PNG, GIF or WebP data)") }
    }
}
