import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore

/// One request the fake Telegram server received.
public struct TelegramRecordedRequest: Sendable {
    /// Position among all recorded requests, from 1.
    public var sequence: Int
    /// The Bot API method as named in the path (`sendMessage`), or `file` for a file download.
    public var method: String
    /// `GET` or `POST`.
    public var httpMethod: String
    /// The token from the path.
    public var token: String
    /// How the parameters were sent.
    public var encoding: RequestEncoding
    /// All parameters (JSON values from JSON bodies; strings from query, form and multipart fields).
    public var params: [String: FakeJSON]
    /// Files uploaded as multipart parts, by field name.
    public var files: [String: UploadedFile]
    /// For file downloads: the requested path.
    public var filePath: String?
    /// The HTTP status the fake answered with.
    public var responseStatus: Int
    /// The `result` the fake returned, when it succeeded.
    public var result: FakeJSON?
    /// Why the request was rejected or flagged (a violation of the Bot API), if it was.
    public var violation: String?
    /// Whether the answer was a failure programmed with `failNext`.
    public var injectedFailure: Bool
    /// For `parse_mode` HTML texts and captions: the text after entity parsing.
    public var plainText: String?

    /// A parameter as a string.
    public func string(_ name: String) -> String? {
        params[name]?.stringValue
    }

    /// A parameter as an integer (JSON number or digits).
    public func int(_ name: String) -> Int64? {
        params[name]?.intValue
    }

    /// A parameter holding JSON, whether sent as JSON or as a JSON string in a form field.
    public func json(_ name: String) -> FakeJSON? {
        guard let value = params[name] else { return nil }
        if case .string(let text) = value, let parsed = try? FakeJSON.parse(text) {
            return parsed
        }
        return value
    }
}

/// A failure the fake Telegram server can be told to answer with.
public enum TelegramFailure: Sendable, Equatable {
    /// HTTP 429 `Too Many Requests: retry after N` with `parameters.retry_after`.
    case tooManyRequests(retryAfter: Int)
    /// HTTP 500 `Internal Server Error`.
    case serverError
    /// HTTP 502 with a non-JSON body, like an overloaded front end.
    case badGateway
    /// HTTP 400 with the given description (`Bad Request: …`).
    case badRequest(String)
    /// HTTP 403 with the given description (`Forbidden: bot was blocked by the user`).
    case forbidden(String)
}

/// A file the fake serves through `getFile` and `/file/bot{token}/{path}`.
public struct TelegramFakeFile: Sendable, Equatable {
    /// The `file_id` to pass to `getFile` (or to re-send).
    public var fileID: String
    /// The `file_unique_id`.
    public var fileUniqueID: String
    /// The `file_path` served under `/file/bot{token}/`.
    public var filePath: String
    /// The file's bytes.
    public var data: Data
    /// Size in bytes.
    public var size: Int { data.count }
}

/// The webhook currently set on the fake.
public struct TelegramFakeWebhook: Sendable, Equatable {
    /// The URL Telegram would post updates to.
    public var url: String
    /// The `secret_token`, sent back in `X-Telegram-Bot-Api-Secret-Token`.
    public var secretToken: String?
    /// The `allowed_updates` given, if any.
    public var allowedUpdates: [String]?
}

/// A fake Telegram Bot API on 127.0.0.1 for tests and benchmarks.
///
/// It serves `/bot{token}/{method}` and `/file/bot{token}/{path}`, records every request,
/// checks each against the Bot API (known method, required parameters and types, text lengths
/// after HTML parsing, well-formed HTML, media groups with existing `attach://` parts, known
/// threads and reply targets) and answers like Telegram: a `Message` with increasing
/// `message_id`s, or the error envelope `{"ok":false,"error_code":400,"description":"Bad Request: …"}`.
/// Rejected or suspicious requests are also kept in ``violations()`` so a test can assert none happened.
/// Beside the Bot API, `POST /fake/staff-reply` and `POST /fake/private-message` let a person
/// (or a test) have it deliver what Telegram would: see `TelegramFakeControl`.
///
/// ```swift
/// let fake = FakeTelegramServer()
/// let base = try await fake.start()          // http://127.0.0.1:PORT
/// // … point TelegramClient(baseURL: base.absoluteString, token: fake.token, …) at it …
/// let sent = try await fake.waitForRequests(1, method: "sendMessage")
/// #expect(await fake.violations().isEmpty)
/// await fake.stop()
/// ```
public final class FakeTelegramServer: Sendable {
    /// The only token the fake accepts; other tokens get 401 Unauthorized.
    public let token: String
    /// The bot's user id (the part of the token before `:` when it is numeric).
    public let botID: Int64
    /// The bot's username.
    public let botUsername: String

    let state: TelegramFakeState
    private let server = LoopbackServer()
    private let portBox = PortBox()

    /// Creates a fake (not yet listening).
    /// - Parameters:
    ///   - token: the bot token to accept.
    ///   - botUsername: the username in `getMe` and in `from` of sent messages.
    ///   - firstMessageID: the first `message_id` the fake hands out.
    ///   - firstUpdateID: the first `update_id` of enqueued updates.
    public init(
        token: String = "123456789:TEST-fake-telegram-token",
        botUsername: String = "replyflow_test_bot",
        firstMessageID: Int64 = 1000,
        firstUpdateID: Int64 = 500_000
    ) {
        self.token = token
        self.botID = Int64(token.split(separator: ":").first ?? "") ?? 123_456_789
        self.botUsername = botUsername
        self.state = TelegramFakeState(
            token: token, botID: botID, botUsername: botUsername,
            firstMessageID: firstMessageID, firstUpdateID: firstUpdateID
        )
    }

    // MARK: Lifecycle

    /// Starts listening on 127.0.0.1 and returns the base URL to use instead of `https://api.telegram.org`.
    @discardableResult
    public func start() async throws -> URL {
        let state = self.state
        let port = try await server.start(name: "FakeTelegramServer") { request, _ in
            await TelegramRequestHandler.handle(request, state: state)
        }
        await portBox.set(port)
        return URL(string: "http://127.0.0.1:\(port)")!
    }

    /// The base URL once started.
    public var baseURL: URL? {
        get async { await portBox.port.map { URL(string: "http://127.0.0.1:\($0)")! } }
    }

    /// The port once started.
    public var port: Int? {
        get async { await portBox.port }
    }

    /// Answers pending long polls and stops listening.
    public func stop() async {
        await state.shutdown()
        await server.stop()
        await portBox.set(nil)
    }

    // MARK: Recording

    /// All recorded requests, optionally only those of one method (case-insensitive).
    public func requests(method: String? = nil) async -> [TelegramRecordedRequest] {
        await state.recorded(method: method)
    }

    /// How many requests (of `method`, if given) were recorded; cheaper than ``requests(method:)``.
    public func requestCount(method: String? = nil) async -> Int {
        await state.count(method: method)
    }

    /// Every Bot API violation seen so far, one line each (`sendMessage: Bad Request: …`).
    public func violations() async -> [String] {
        await state.violationLines()
    }

    /// How many long polls were ended with 409 `Conflict: terminated by other getUpdates request`
    /// because a newer poll arrived (two pollers at once, or a poll abandoned by its client).
    public func getUpdatesConflicts() async -> Int {
        await state.conflictCount()
    }

    /// Forgets recorded requests and violations (queued updates, files and messages are kept).
    public func resetRecords() async {
        await state.resetRecords()
    }

    /// Waits until at least `count` requests (of `method`, if given) were recorded and returns them.
    /// Throws ``FakeServerTimeout`` when `timeout` passes first.
    @discardableResult
    public func waitForRequests(
        _ count: Int,
        method: String? = nil,
        timeout: Duration = .seconds(5)
    ) async throws -> [TelegramRecordedRequest] {
        let deadline = ContinuousClock.now + timeout
        while true {
            if await state.count(method: method) >= count {
                return await state.recorded(method: method)
            }
            if ContinuousClock.now >= deadline {
                let matching = await state.recorded(method: method)
                let all = await state.recorded(method: nil).map(\.method)
                throw FakeServerTimeout(
                    "waited \(timeout) for \(count) \(method ?? "any") request(s), got \(matching.count); all recorded: \(all)"
                )
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    // MARK: Updates

    /// Queues an update for `getUpdates`. `json` is an Update object; `update_id` is added if missing.
    /// Returns the update's `update_id`.
    @discardableResult
    public func enqueueUpdate(_ json: String) async throws -> Int64 {
        try await enqueueUpdate(FakeJSON.parse(json))
    }

    /// Queues an update for `getUpdates`; `update_id` is added if missing. Returns the `update_id`.
    @discardableResult
    public func enqueueUpdate(_ update: FakeJSON) async throws -> Int64 {
        guard case .object = update else { throw FakeServerUsageError("an update must be a JSON object") }
        return await state.enqueue(update)
    }

    /// Queues a staff member's reply (in the support group) to a message the bot sent earlier,
    /// as Telegram would deliver it: same chat and topic, `reply_to_message` set to the bot's message.
    ///
    /// Give `text`, or `photo` / `voice` bytes (registered as downloadable files) with an optional `caption`.
    /// Returns the whole Update JSON that was queued.
    @discardableResult
    public func staffReply(
        to groupMessageID: Int64,
        text: String? = nil,
        photo: Data? = nil,
        voice: Data? = nil,
        caption: String? = nil,
        from staff: TelegramFakeUser = .staff
    ) async throws -> FakeJSON {
        try await state.staffReply(
            to: groupMessageID, text: text, photo: photo, voice: voice, caption: caption, from: staff
        )
    }

    /// Queues a plain (non-reply) staff message written inside a forum topic. As in real Telegram,
    /// its `reply_to_message` is the topic's `forum_topic_created` service message.
    @discardableResult
    public func staffMessage(
        inThread threadID: Int64,
        chatID: Int64,
        text: String,
        from staff: TelegramFakeUser = .staff
    ) async throws -> FakeJSON {
        try await state.staffMessage(inThread: threadID, chatID: chatID, text: text, from: staff)
    }

    /// Updates queued and not yet confirmed by a `getUpdates` offset.
    public func pendingUpdates() async -> [FakeJSON] {
        await state.pendingUpdates()
    }

    // MARK: Files, topics, messages

    /// Registers a file that `getFile` and the download path will serve.
    @discardableResult
    public func registerFile(data: Data, path: String? = nil) async -> TelegramFakeFile {
        await state.registerFile(data: data, path: path, kind: "documents", ext: "bin")
    }

    /// Registers an existing forum topic (for example one created before the fake was restarted).
    public func registerTopic(chatID: Int64, threadID: Int64, name: String = "Topic") async {
        await state.registerTopic(chatID: chatID, threadID: threadID, name: name)
    }

    /// Deletes a forum topic: later sends to it fail with `Bad Request: message thread not found`.
    public func deleteTopic(chatID: Int64, threadID: Int64) async {
        await state.deleteTopic(chatID: chatID, threadID: threadID)
    }

    /// Topics created with `createForumTopic` (or registered), as `(chatID, threadID, name)`.
    public func topics() async -> [(chatID: Int64, threadID: Int64, name: String)] {
        await state.topicList()
    }

    /// A message the fake sent or queued, by `message_id`.
    public func message(id: Int64) async -> FakeJSON? {
        await state.message(id: id)
    }

    /// Messages the bot sent, in order, optionally only to one chat.
    public func sentMessages(chatID: Int64? = nil) async -> [FakeJSON] {
        await state.sentMessages(chatID: chatID)
    }

    // MARK: Failures

    /// Answers the next `count` requests with `failure`, after letting the first `skip` of
    /// them through (to fail a later part of a delivery). With `method` nil every method
    /// except `getUpdates` and file downloads counts; otherwise only that method
    /// (case-insensitive).
    public func failNext(_ count: Int, method: String? = nil, after skip: Int = 0, with failure: TelegramFailure) async {
        await state.addFailures(count, method: method, failure: failure, after: skip)
    }

    /// Holds the next `count` requests, after letting the first `skip` of them through
    /// (matched as in ``failNext(_:method:after:with:)``): each is recorded at once but
    /// answered only after ``releaseHeld()`` or ``stop()``, like a request still in flight
    /// when its client dies. Once released it is handled as usual.
    public func holdNext(_ count: Int, method: String? = nil, after skip: Int = 0) async {
        await state.addHolds(count, method: method, after: skip)
    }

    /// How many requests are held right now.
    public func heldRequests() async -> Int {
        await state.heldCount
    }

    /// Answers the held requests and holds no more.
    public func releaseHeld() async {
        await state.releaseHeld()
    }

    // MARK: Webhook

    /// The webhook set with `setWebhook`, if any.
    public func webhook() async -> TelegramFakeWebhook? {
        await state.currentWebhook()
    }

    /// Posts an update to a webhook URL the way Telegram does (JSON body and the
    /// `X-Telegram-Bot-Api-Secret-Token` header when `secret` is given). `update_id` is added if missing.
    /// Returns the HTTP status the receiver answered with.
    @discardableResult
    public func postUpdate(
        to url: String,
        secret: String?,
        update: FakeJSON,
        httpClient: HTTPClient = .shared,
        timeout: Duration = .seconds(10)
    ) async throws -> Int {
        try await TelegramFakeControl.postUpdate(await state.assignUpdateID(update), to: url, secret: secret, httpClient: httpClient, timeout: timeout)
    }

    /// A tiny byte sequence with JPEG markers, accepted by the fake as a photo.
    public static let sampleJPEG = Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01, 0xFF, 0xD9])
}

/// A Telegram user for updates the fake generates.
public struct TelegramFakeUser: Sendable, Equatable {
    /// User id.
    public var id: Int64
    /// First name.
    public var firstName: String
    /// Last name, if any.
    public var lastName: String?
    /// Username, if any.
    public var username: String?

    /// Creates a user.
    public init(id: Int64, firstName: String, lastName: String? = nil, username: String? = nil) {
        self.id = id
        self.firstName = firstName
        self.lastName = lastName
        self.username = username
    }

    /// A default support agent.
    public static let staff = TelegramFakeUser(id: 7_000_001, firstName: "Sam", lastName: "Staff", username: "sam_staff")

    var json: FakeJSON {
        var object: [String: FakeJSON] = ["id": .int(id), "is_bot": false, "first_name": .string(firstName)]
        if let lastName { object["last_name"] = .string(lastName) }
        if let username { object["username"] = .string(username) }
        return .object(object)
    }
}

/// A wait helper timed out.
public struct FakeServerTimeout: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// A fake server was used wrongly by a test.
public struct FakeServerUsageError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

actor PortBox {
    var port: Int?
    func set(_ port: Int?) { self.port = port }
}
