import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore

/// What a person trying the server by hand (or a test driving it the same way) asks the fake
/// Telegram to deliver to the bot, on the fake's own port, beside the Bot API:
///
/// - `POST /fake/staff-reply`: a staff member answers in the support group by replying to
///   the bot's message. Fields: `reply_to` (the `message_id` of the bot's message in the
///   group), `text`, or `photo` with an optional `caption`.
/// - `POST /fake/private-message`: a customer writes to the bot directly. Fields: `user_id`
///   (a positive number), `first_name` (optional), `text`, or `photo` with an optional `caption`.
///
/// Fields come as JSON (`curl -d '{"reply_to": 1000, "text": "Hello"}'`: a body that is a JSON
/// object is read as JSON whatever its Content-Type, since `curl -d` labels it a form), as a
/// form (`-d reply_to=1000`), or as multipart, the only way to send a photo
/// (`-F photo=@picture.jpg`). The update goes to the bot as Telegram would send it: posted to
/// the webhook when one is set, queued for `getUpdates` otherwise. The answer is
/// `{"ok": true, "delivered_by": "getUpdates" | "webhook", "update": {...}}`; input the fake
/// cannot use gets a 4xx `{"ok": false, "error": "..."}` that says what to send instead.
enum TelegramFakeControl {
    static let pathPrefix = "fake"
    static let maxBodyBytes = 20 * 1024 * 1024
    private static let usage =
        "POST /fake/staff-reply {reply_to, text | photo, caption} or POST /fake/private-message {user_id, first_name, text | photo, caption}"

    /// An answer that is the person's mistake, with what to do instead.
    struct Refusal: Error {
        var status: HTTPResponse.Status
        var message: String
        init(_ status: HTTPResponse.Status, _ message: String) {
            self.status = status
            self.message = message
        }
        init(_ message: String) {
            self.init(.badRequest, message)
        }
    }

    static func handle(_ request: Request, path: [String], state: TelegramFakeState) async -> Response {
        do {
            guard path.count == 2, ["staff-reply", "private-message"].contains(path[1]) else {
                throw Refusal(.notFound, "no such fake endpoint /\(path.joined(separator: "/")); use \(usage)")
            }
            guard request.method == .post else { throw Refusal(.methodNotAllowed, "use POST for /\(path.joined(separator: "/"))") }
            let fields = try await ControlFields(request)
            let update: FakeJSON
            if path[1] == "staff-reply" {
                update = try await staffReply(fields, state: state)
            } else {
                update = try await privateMessage(fields, state: state)
            }
            return try await deliver(update, state: state)
        } catch let refusal as Refusal {
            return .json(["ok": false, "error": .string(refusal.message)], status: refusal.status)
        } catch {
            return .json(["ok": false, "error": .string("\(error)")], status: .badRequest)
        }
    }

    // MARK: The two updates

    private static func staffReply(_ fields: ControlFields, state: TelegramFakeState) async throws -> FakeJSON {
        try fields.allow(["reply_to", "text", "photo", "caption"])
        let sent = await state.groupMessageIDs()
        let known =
            sent.isEmpty ? "the bot has sent nothing to a group yet" : "the bot's latest there: " + sent.suffix(5).map(String.init).joined(separator: ", ")
        guard let replyTo = try fields.integer("reply_to") else {
            throw Refusal("reply_to is required: the message_id of the bot's message in the support group that staff answer (\(known))")
        }
        guard sent.contains(replyTo) else {
            throw Refusal(.notFound, "reply_to \(replyTo) is not a message the bot sent to a group (\(known))")
        }
        let (text, photo, caption) = try await content(fields, state: state)
        return try await state.makeStaffReply(to: replyTo, text: text, photo: photo, voice: nil, caption: caption, from: .staff)
    }

    private static func privateMessage(_ fields: ControlFields, state: TelegramFakeState) async throws -> FakeJSON {
        try fields.allow(["user_id", "first_name", "text", "photo", "caption"])
        guard let userID = try fields.integer("user_id"), userID > 0 else {
            throw Refusal("user_id is required: the customer's Telegram user id, a positive number (their private chat has the same id)")
        }
        let name = try fields.string("first_name") ?? "Customer"
        guard (1...64).contains(name.count) else { throw Refusal("first_name must be 1 to 64 characters") }
        let (text, photo, caption) = try await content(fields, state: state)
        return await state.makePrivateMessage(from: TelegramFakeUser(id: userID, firstName: name), text: text, photo: photo, caption: caption)
    }

    /// `text`, or `photo` with an optional `caption`, as one Telegram message holds them.
    private static func content(_ fields: ControlFields, state: TelegramFakeState) async throws -> (text: String?, photo: Data?, caption: String?) {
        let text = try fields.string("text")
        let caption = try fields.string("caption")
        guard let photo = try fields.file("photo") else {
            guard caption == nil else { throw Refusal("caption goes with a photo (-F photo=@picture.jpg); for words alone use text") }
            guard let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw Refusal("give text, or a photo as a file part (curl -F photo=@picture.jpg)")
            }
            guard text.utf16.count <= 4096 else { throw Refusal("text is longer than Telegram's 4096 characters") }
            return (text, nil, nil)
        }
        guard text == nil else { throw Refusal("a Telegram message has text or a photo, not both: put the words in caption") }
        if let caption, caption.utf16.count > 1024 { throw Refusal("caption is longer than Telegram's 1024 characters") }
        do {
            try await state.checkImage(photo, what: "photo")
        } catch let error as TelegramAPIError {
            throw Refusal(error.description.replacingOccurrences(of: "Bad Request: ", with: ""))
        }
        return (nil, photo, caption)
    }

    // MARK: Delivery

    private static func deliver(_ update: FakeJSON, state: TelegramFakeState) async throws -> Response {
        let numbered = await state.assignUpdateID(update)
        guard let webhook = await state.currentWebhook() else {
            await state.enqueue(numbered)
            return .json(["ok": true, "delivered_by": "getUpdates", "update": numbered])
        }
        let status: Int
        do {
            status = try await postUpdate(numbered, to: webhook.url, secret: webhook.secretToken)
        } catch {
            throw Refusal(.badGateway, "the webhook \(webhook.url) could not be reached (\(error)); the update was not delivered")
        }
        guard (200..<300).contains(status) else {
            throw Refusal(.badGateway, "the webhook \(webhook.url) answered \(status); Telegram would retry later, the fake does not")
        }
        return .json(["ok": true, "delivered_by": "webhook", "webhook_status": .int(Int64(status)), "update": numbered])
    }

    /// Posts an update as Telegram does: JSON, with the `X-Telegram-Bot-Api-Secret-Token`
    /// header when the webhook was set with a secret. Returns the receiver's HTTP status.
    static func postUpdate(
        _ update: FakeJSON, to url: String, secret: String?, httpClient: HTTPClient = .shared, timeout: Duration = .seconds(10)
    ) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let secret { request.headers.add(name: "X-Telegram-Bot-Api-Secret-Token", value: secret) }
        request.body = .bytes(ByteBuffer(string: update.jsonString))
        let response = try await httpClient.execute(request, timeout: .milliseconds(Int64(timeout.components.seconds * 1000)))
        _ = try? await response.body.collect(upTo: 1024 * 1024)
        return Int(response.status.code)
    }
}

/// The fields of a control request, whichever way they were sent.
private struct ControlFields {
    private var params: [String: FakeJSON]
    private var files: [String: UploadedFile]

    init(_ request: Request) async throws {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: TelegramFakeControl.maxBodyBytes)
        } catch {
            throw TelegramFakeControl.Refusal(.contentTooLarge, "the body is larger than \(TelegramFakeControl.maxBodyBytes / (1024 * 1024)) MB")
        }
        let looksLikeJSON = body.readableBytesView.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) } == UInt8(ascii: "{")
        do {
            let parsed = try RequestParsing.parse(
                contentType: looksLikeJSON ? "application/json" : request.headers[.contentType], body: body, query: request.queryDictionary)
            params = parsed.params
            files = parsed.files
        } catch {
            throw TelegramFakeControl.Refusal("\(error); send JSON (-d '{\"text\": \"...\"}'), a form (-d text=...) or multipart (-F photo=@picture.jpg)")
        }
    }

    func allow(_ names: Set<String>) throws {
        let unknown = Set(params.keys).union(files.keys).subtracting(names).sorted()
        guard unknown.isEmpty else {
            throw TelegramFakeControl.Refusal(
                "unknown field \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")); this endpoint takes \(names.sorted().joined(separator: ", "))")
        }
    }

    func string(_ name: String) throws -> String? {
        guard let value = params[name] else { return nil }
        guard let text = value.stringValue else { throw TelegramFakeControl.Refusal("\(name) must be a string") }
        return text
    }

    func integer(_ name: String) throws -> Int64? {
        guard let value = params[name] else { return nil }
        guard let number = value.intValue else { throw TelegramFakeControl.Refusal("\(name) must be a whole number, got \(value)") }
        return number
    }

    func file(_ name: String) throws -> Data? {
        if params[name] != nil {
            throw TelegramFakeControl.Refusal("\(name) must be a file part: curl -F \(name)=@picture.jpg (multipart), not a text field")
        }
        return files[name]?.data
    }
}
