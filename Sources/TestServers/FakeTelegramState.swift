import Foundation
import Hummingbird
import NIOCore

/// An error answer in Telegram's envelope.
struct TelegramAPIError: Error {
    var code: Int
    var description: String
    var retryAfter: Int?

    static func badRequest(_ text: String) -> TelegramAPIError {
        TelegramAPIError(code: 400, description: "Bad Request: \(text)")
    }

    var envelope: FakeJSON {
        var object: [String: FakeJSON] = ["ok": false, "error_code": .int(Int64(code)), "description": .string(description)]
        if let retryAfter { object["parameters"] = ["retry_after": .int(Int64(retryAfter))] }
        return .object(object)
    }
}

/// Routes raw HTTP requests to the fake's state.
enum TelegramRequestHandler {
    static let maxBodyBytes = 64 * 1024 * 1024

    static func handle(_ request: Request, state: TelegramFakeState) async -> Response {
        var request = request
        let segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let httpMethod = request.method.rawValue

        // File download: /file/bot{token}/{path...}
        if segments.count >= 3, segments[0] == "file", segments[1].hasPrefix("bot") {
            let token = String(segments[1].dropFirst(3))
            let path = segments[2...].joined(separator: "/")
            let decodedPath = path.removingPercentEncoding ?? path
            if let data = await state.download(token: token, path: decodedPath, httpMethod: httpMethod) {
                return .bytes(data)
            }
            return .json(TelegramAPIError(code: 404, description: "Not Found").envelope, status: .notFound)
        }

        // What a person or a test asks the fake to deliver: /fake/...
        if segments.first == TelegramFakeControl.pathPrefix {
            return await TelegramFakeControl.handle(request, path: segments, state: state)
        }

        // Method call: /bot{token}/{method}
        guard segments.count == 2, segments[0].hasPrefix("bot") else {
            await state.recordUnroutable(path: request.uri.path, httpMethod: httpMethod)
            return .json(TelegramAPIError(code: 404, description: "Not Found").envelope, status: .notFound)
        }
        let token = String(segments[0].dropFirst(3))
        let method = segments[1]
        let parsed: Result<ParsedBody, BodyParseError>
        do {
            let body = try await request.collectBody(upTo: maxBodyBytes)
            parsed = .success(
                try RequestParsing.parse(
                    contentType: request.headers[.contentType], body: body, query: request.queryDictionary
                ))
        } catch let error as BodyParseError {
            parsed = .failure(error)
        } catch {
            parsed = .failure(.invalid("request body too large or unreadable"))
        }
        let (status, body) = await state.call(method: method, httpMethod: httpMethod, token: token, body: parsed)
        return .json(body, status: HTTPResponse.Status(code: status))
    }
}

/// The fake Telegram server's state and Bot API behaviour.
actor TelegramFakeState {
    let token: String
    let botID: Int64
    let botUsername: String

    private var nextMessageID: Int64
    private var nextUpdateID: Int64
    private var nextFileNumber = 1
    private var nextMediaGroup: Int64 = 13_000_000_000_000_000
    private var sequence = 0

    private var records: [TelegramRecordedRequest] = []
    private var violations: [String] = []
    private var conflicts = 0

    private var updates: [FakeJSON] = []
    private var messages: [Int64: FakeJSON] = [:]
    private var sentIDs: [Int64] = []
    private var files: [String: TelegramFakeFile] = [:]  // by file_id
    private var filesByPath: [String: String] = [:]  // path -> file_id
    private var topics: [Int64: [Int64: String]] = [:]  // chat -> thread -> name
    private var topicOrder: [(chatID: Int64, threadID: Int64, name: String)] = []
    private var webhook: TelegramFakeWebhook?
    private var failures: [(method: String?, failure: TelegramFailure, remaining: Int, skip: Int)] = []
    private var holds: [(method: String?, remaining: Int, skip: Int)] = []
    private var held: [CheckedContinuation<Void, Never>] = []

    private struct Waiter {
        var continuation: CheckedContinuation<WakeReason, Never>
        var timer: Task<Void, Never>?
    }
    private enum WakeReason { case update, timeout, conflict, shutdown }
    private var waiters: [UUID: Waiter] = [:]

    init(token: String, botID: Int64, botUsername: String, firstMessageID: Int64, firstUpdateID: Int64) {
        self.token = token
        self.botID = botID
        self.botUsername = botUsername
        self.nextMessageID = firstMessageID
        self.nextUpdateID = firstUpdateID
    }

    // MARK: - Public-facing queries

    func recorded(method: String?) -> [TelegramRecordedRequest] {
        guard let method else { return records }
        return records.filter { $0.method.caseInsensitiveCompare(method) == .orderedSame }
    }

    func count(method: String?) -> Int {
        guard let method else { return records.count }
        return records.reduce(0) { $0 + ($1.method.caseInsensitiveCompare(method) == .orderedSame ? 1 : 0) }
    }

    func violationLines() -> [String] { violations }

    func resetRecords() {
        records = []
        violations = []
        conflicts = 0
    }

    func conflictCount() -> Int { conflicts }

    func pendingUpdates() -> [FakeJSON] { updates }

    func message(id: Int64) -> FakeJSON? { messages[id] }

    func sentMessages(chatID: Int64?) -> [FakeJSON] {
        sentIDs.compactMap { messages[$0] }.filter { message in
            guard let chatID else { return true }
            return message["chat"]?["id"]?.intValue == chatID
        }
    }

    func currentWebhook() -> TelegramFakeWebhook? { webhook }

    func topicList() -> [(chatID: Int64, threadID: Int64, name: String)] {
        topicOrder.filter { topics[$0.chatID]?[$0.threadID] != nil }
    }

    func registerTopic(chatID: Int64, threadID: Int64, name: String) {
        topics[chatID, default: [:]][threadID] = name
        topicOrder.append((chatID, threadID, name))
    }

    func deleteTopic(chatID: Int64, threadID: Int64) {
        topics[chatID]?[threadID] = nil
    }

    func addFailures(_ count: Int, method: String?, failure: TelegramFailure, after skip: Int = 0) {
        guard count > 0 else { return }
        failures.append((method?.lowercased(), failure, count, skip))
    }

    func addHolds(_ count: Int, method: String?, after skip: Int) {
        guard count > 0 else { return }
        holds.append((method?.lowercased(), count, skip))
    }

    var heldCount: Int { held.count }

    func releaseHeld() {
        holds = []
        let waiting = held
        held = []
        for continuation in waiting { continuation.resume() }
    }

    /// Whether this request is to be held (counting it against its hold).
    private func takeHold(method: String) -> Bool {
        let lower = method.lowercased()
        guard
            let index = holds.firstIndex(where: { entry in
                if let wanted = entry.method { return wanted == lower }
                return lower != "getupdates"
            })
        else { return false }
        if holds[index].skip > 0 {
            holds[index].skip -= 1
            return false
        }
        holds[index].remaining -= 1
        if holds[index].remaining <= 0 { holds.remove(at: index) }
        return true
    }

    func shutdown() {
        releaseHeld()
        for id in Array(waiters.keys) { wake(id, .shutdown) }
    }

    // MARK: - Updates

    func assignUpdateID(_ update: FakeJSON) -> FakeJSON {
        guard case .object(var object) = update else { return update }
        if let existing = object["update_id"]?.intValue {
            nextUpdateID = max(nextUpdateID, existing + 1)
        } else {
            object["update_id"] = .int(nextUpdateID)
            nextUpdateID += 1
        }
        return .object(object)
    }

    @discardableResult
    func enqueue(_ update: FakeJSON) -> Int64 {
        let withID = assignUpdateID(update)
        if let message = withID["message"] ?? withID["edited_message"], let id = message["message_id"]?.intValue {
            messages[id] = message
            nextMessageID = max(nextMessageID, id + 1)
        }
        updates.append(withID)
        updates.sort { ($0["update_id"]?.intValue ?? 0) < ($1["update_id"]?.intValue ?? 0) }
        for id in Array(waiters.keys) { wake(id, .update) }
        return withID["update_id"]?.intValue ?? 0
    }

    func staffReply(
        to groupMessageID: Int64, text: String?, photo: Data?, voice: Data?, caption: String?, from staff: TelegramFakeUser
    ) throws -> FakeJSON {
        let update = try makeStaffReply(to: groupMessageID, text: text, photo: photo, voice: voice, caption: caption, from: staff)
        let id = enqueue(update)
        return .object(["update_id": .int(id), "message": update["message"] ?? .null])
    }

    /// A staff reply's update (without `update_id`), for the caller to queue or post.
    func makeStaffReply(
        to groupMessageID: Int64, text: String?, photo: Data?, voice: Data?, caption: String?, from staff: TelegramFakeUser
    ) throws -> FakeJSON {
        guard let original = messages[groupMessageID], let chat = original["chat"] else {
            throw FakeServerUsageError("staffReply: the fake has no message \(groupMessageID)")
        }
        guard text != nil || photo != nil || voice != nil else {
            throw FakeServerUsageError("staffReply: give text, photo or voice")
        }
        var object: [String: FakeJSON] = [
            "message_id": .int(takeMessageID()), "date": .int(now()), "chat": chat, "from": staff.json,
            "reply_to_message": stripReply(original),
        ]
        if let thread = original["message_thread_id"] {
            object["message_thread_id"] = thread
            object["is_topic_message"] = true
        }
        if let text { object["text"] = .string(text) }
        if let photo {
            object["photo"] = photoSizes(for: registerFile(data: photo, path: nil, kind: "photos", ext: "jpg"))
        }
        if let voice {
            let file = registerFile(data: voice, path: nil, kind: "voice", ext: "oga")
            object["voice"] = [
                "file_id": .string(file.fileID), "file_unique_id": .string(file.fileUniqueID), "duration": 2,
                "mime_type": "audio/ogg", "file_size": .int(Int64(file.size)),
            ]
        }
        if let caption, photo != nil || voice != nil { object["caption"] = .string(caption) }
        return ["message": .object(object)]
    }

    /// A customer's message to the bot in their private chat (without `update_id`), for the
    /// caller to queue or post: `text`, or a `photo` with an optional `caption`.
    func makePrivateMessage(from customer: TelegramFakeUser, text: String?, photo: Data?, caption: String?) -> FakeJSON {
        var chat: [String: FakeJSON] = ["id": .int(customer.id), "type": "private", "first_name": .string(customer.firstName)]
        if let lastName = customer.lastName { chat["last_name"] = .string(lastName) }
        var object: [String: FakeJSON] = ["message_id": .int(takeMessageID()), "date": .int(now()), "chat": .object(chat), "from": customer.json]
        if let text { object["text"] = .string(text) }
        if let photo {
            object["photo"] = photoSizes(for: registerFile(data: photo, path: nil, kind: "photos", ext: "jpg"))
            if let caption { object["caption"] = .string(caption) }
        }
        return ["message": .object(object)]
    }

    /// Messages the bot sent to groups, newest last (what staff can reply to).
    func groupMessageIDs() -> [Int64] {
        sentIDs.filter { (messages[$0]?["chat"]?["id"]?.intValue ?? 0) < 0 }
    }

    func staffMessage(inThread threadID: Int64, chatID: Int64, text: String, from staff: TelegramFakeUser) throws -> FakeJSON {
        guard topics[chatID]?[threadID] != nil else {
            throw FakeServerUsageError("staffMessage: no topic \(threadID) in chat \(chatID)")
        }
        var object: [String: FakeJSON] = [
            "message_id": .int(takeMessageID()), "date": .int(now()), "chat": chatJSON(chatID), "from": staff.json,
            "message_thread_id": .int(threadID), "is_topic_message": true, "text": .string(text),
        ]
        if let service = messages[threadID] { object["reply_to_message"] = stripReply(service) }
        let id = enqueue(["message": .object(object)])
        return .object(["update_id": .int(id), "message": .object(object)])
    }

    // MARK: - Files

    func registerFile(data: Data, path: String?, kind: String, ext: String) -> TelegramFakeFile {
        let number = nextFileNumber
        nextFileNumber += 1
        let fileID = "FAKE-FILE-\(number)-\(UUID().uuidString.prefix(8))"
        let filePath = path ?? "\(kind)/file_\(number).\(ext)"
        let file = TelegramFakeFile(fileID: fileID, fileUniqueID: "FAKE-U\(number)", filePath: filePath, data: data)
        files[fileID] = file
        filesByPath[filePath] = fileID
        return file
    }

    func download(token: String, path: String, httpMethod: String) -> Data? {
        sequence += 1
        var record = TelegramRecordedRequest(
            sequence: sequence, method: "file", httpMethod: httpMethod, token: token, encoding: .none,
            params: [:], files: [:], filePath: path, responseStatus: 200, result: nil, violation: nil,
            injectedFailure: false, plainText: nil
        )
        var data: Data?
        if token != self.token {
            record.violation = "wrong bot token in file download path"
        } else if let id = filesByPath[path], let file = files[id] {
            data = file.data
        } else {
            record.violation = "no file at path \(path)"
        }
        if let violation = record.violation {
            record.responseStatus = 404
            violations.append("file: \(violation)")
        }
        records.append(record)
        return data
    }

    func recordUnroutable(path: String, httpMethod: String) {
        sequence += 1
        records.append(
            TelegramRecordedRequest(
                sequence: sequence, method: "(unroutable)", httpMethod: httpMethod, token: "", encoding: .none,
                params: [:], files: [:], filePath: path, responseStatus: 404, result: nil,
                violation: "path \(path) is not /bot<token>/<method>", injectedFailure: false, plainText: nil
            ))
        violations.append("(unroutable): path \(path) is not /bot<token>/<method>")
    }

    // MARK: - Method calls

    func call(
        method: String, httpMethod: String, token: String, body: Result<ParsedBody, BodyParseError>
    ) async -> (Int, FakeJSON) {
        sequence += 1
        let seq = sequence
        let parsed = (try? body.get()) ?? ParsedBody()
        records.append(
            TelegramRecordedRequest(
                sequence: seq, method: method, httpMethod: httpMethod, token: token, encoding: parsed.encoding,
                params: parsed.params, files: parsed.files, filePath: nil, responseStatus: 0, result: nil,
                violation: nil, injectedFailure: false, plainText: nil
            ))
        var context = CallContext(method: method, params: parsed.params, files: parsed.files)
        if token == self.token, case .success = body, takeHold(method: method) {
            await withCheckedContinuation { held.append($0) }
        }

        let outcome: Result<FakeJSON, TelegramAPIError>
        var injected = false
        if token != self.token {
            outcome = .failure(TelegramAPIError(code: 401, description: "Unauthorized"))
            context.flag("wrong bot token")
        } else if case .failure(let error) = body {
            outcome = .failure(.badRequest(error.description))
        } else if let failure = takeFailure(method: method) {
            injected = true
            outcome = .failure(Self.apiError(for: failure))
        } else {
            do {
                outcome = .success(try await dispatch(&context))
            } catch let error as TelegramAPIError {
                outcome = .failure(error)
            } catch {
                outcome = .failure(.badRequest("\(error)"))
            }
        }

        let status: Int
        let response: FakeJSON
        var violation = context.flags.isEmpty ? nil : context.flags.joined(separator: "; ")
        switch outcome {
        case .success(let result):
            status = 200
            var envelope: [String: FakeJSON] = ["ok": true, "result": result]
            if let description = context.successDescription { envelope["description"] = .string(description) }
            response = .object(envelope)
        case .failure(let error):
            status = error.code == 502 ? 502 : error.code
            response = error.code == 502 ? .string("Bad Gateway") : error.envelope
            if !injected && error.code != 409 {
                violation = [error.description, violation].compactMap { $0 }.joined(separator: "; ")
            }
            if error.code == 409, error.description.hasPrefix("Conflict: terminated") { conflicts += 1 }
            if error.code == 409, !error.description.hasPrefix("Conflict: terminated") {
                violation = [error.description, violation].compactMap { $0 }.joined(separator: "; ")
            }
        }
        if let violation { violations.append("\(method): \(violation)") }
        if let index = records.lastIndex(where: { $0.sequence == seq }) {
            records[index].responseStatus = status
            records[index].violation = violation
            records[index].injectedFailure = injected
            records[index].plainText = context.plainText
            if case .success(let result) = outcome { records[index].result = result }
        }
        return (status, response)
    }

    private static func apiError(for failure: TelegramFailure) -> TelegramAPIError {
        switch failure {
        case .tooManyRequests(let seconds):
            return TelegramAPIError(code: 429, description: "Too Many Requests: retry after \(seconds)", retryAfter: seconds)
        case .serverError:
            return TelegramAPIError(code: 500, description: "Internal Server Error")
        case .badGateway:
            return TelegramAPIError(code: 502, description: "Bad Gateway")
        case .badRequest(let text):
            return TelegramAPIError(code: 400, description: text.hasPrefix("Bad Request") ? text : "Bad Request: \(text)")
        case .forbidden(let text):
            return TelegramAPIError(code: 403, description: text.hasPrefix("Forbidden") ? text : "Forbidden: \(text)")
        }
    }

    private func takeFailure(method: String) -> TelegramFailure? {
        let lower = method.lowercased()
        guard
            let index = failures.firstIndex(where: { entry in
                if let wanted = entry.method { return wanted == lower }
                return lower != "getupdates"
            })
        else { return nil }
        if failures[index].skip > 0 {
            failures[index].skip -= 1
            return nil
        }
        let failure = failures[index].failure
        failures[index].remaining -= 1
        if failures[index].remaining <= 0 { failures.remove(at: index) }
        return failure
    }

    /// Per-call scratch: parameters, flags for non-fatal violations, the parsed text.
    struct CallContext {
        var method: String
        var params: [String: FakeJSON]
        var files: [String: UploadedFile]
        var flags: [String] = []
        var plainText: String?
        var successDescription: String?

        mutating func flag(_ text: String) { flags.append(text) }

        mutating func checkKnown(_ known: Set<String>) {
            for key in params.keys.sorted() where !known.contains(key) {
                flag("unknown parameter \"\(key)\" (Telegram ignores it silently)")
            }
        }
    }

    private static let commonSendParams: Set<String> = [
        "business_connection_id", "chat_id", "message_thread_id", "direct_messages_topic_id", "disable_notification",
        "protect_content", "allow_paid_broadcast", "message_effect_id", "suggested_post_parameters",
        "reply_parameters", "reply_markup", "reply_to_message_id", "allow_sending_without_reply",
    ]

    private func dispatch(_ context: inout CallContext) async throws -> FakeJSON {
        switch context.method.lowercased() {
        case "getme":
            context.checkKnown([])
            return botUserJSON(full: true)
        case "sendmessage":
            context.checkKnown(
                Self.commonSendParams.union([
                    "text", "parse_mode", "entities", "link_preview_options", "disable_web_page_preview",
                ]))
            return try sendMessage(&context)
        case "sendphoto":
            context.checkKnown(
                Self.commonSendParams.union([
                    "photo", "caption", "parse_mode", "caption_entities", "show_caption_above_media", "has_spoiler",
                ]))
            return try sendPhoto(&context)
        case "sendmediagroup":
            context.checkKnown(Self.commonSendParams.union(["media"]).subtracting(["reply_markup"]))
            return try sendMediaGroup(&context)
        case "copymessage":
            context.checkKnown([
                "chat_id", "from_chat_id", "message_id", "message_thread_id", "video_start_timestamp", "caption", "parse_mode",
                "caption_entities", "show_caption_above_media", "disable_notification", "protect_content", "allow_paid_broadcast",
                "reply_parameters", "reply_markup",
            ])
            return try copyMessage(&context)
        case "getupdates":
            context.checkKnown(["offset", "limit", "timeout", "allowed_updates"])
            return try await getUpdates(&context)
        case "setwebhook":
            context.checkKnown([
                "url", "certificate", "ip_address", "max_connections", "allowed_updates", "drop_pending_updates",
                "secret_token",
            ])
            return try setWebhook(&context)
        case "deletewebhook":
            context.checkKnown(["drop_pending_updates"])
            if try bool(context.params, "drop_pending_updates") == true { updates.removeAll() }
            webhook = nil
            context.successDescription = "Webhook was deleted"
            return true
        case "getwebhookinfo":
            context.checkKnown([])
            var info: [String: FakeJSON] = [
                "url": .string(webhook?.url ?? ""), "has_custom_certificate": false,
                "pending_update_count": .int(Int64(updates.count)),
            ]
            if let webhook {
                info["max_connections"] = 40
                if let allowed = webhook.allowedUpdates { info["allowed_updates"] = .array(allowed.map(FakeJSON.string)) }
            }
            return .object(info)
        case "createforumtopic":
            context.checkKnown(["chat_id", "name", "icon_color", "icon_custom_emoji_id"])
            return try createForumTopic(&context)
        case "getfile":
            context.checkKnown(["file_id"])
            guard let fileID = context.params["file_id"]?.stringValue, !fileID.isEmpty else {
                throw TelegramAPIError.badRequest("file_id is required")
            }
            guard let file = files[fileID] else { throw TelegramAPIError.badRequest("invalid file_id") }
            guard file.size <= 20 * 1024 * 1024 else { throw TelegramAPIError.badRequest("file is too big") }
            return [
                "file_id": .string(file.fileID), "file_unique_id": .string(file.fileUniqueID),
                "file_size": .int(Int64(file.size)), "file_path": .string(file.filePath),
            ]
        default:
            throw TelegramAPIError(code: 404, description: "Not Found")
        }
    }

    // MARK: sendMessage / sendPhoto / sendMediaGroup / copyMessage

    /// Answers a `MessageId`, as Telegram does; the copy is kept like any sent message,
    /// with the chat and id it was copied from.
    private func copyMessage(_ context: inout CallContext) throws -> FakeJSON {
        let chatID = try requireChatID(context.params)
        let threadID = try int(context.params, "message_thread_id")
        try checkThread(chatID: chatID, threadID: threadID)
        guard let fromChatID = try int(context.params, "from_chat_id") else { throw TelegramAPIError.badRequest("from_chat_id is required") }
        guard let messageID = try int(context.params, "message_id"), messageID > 0 else { throw TelegramAPIError.badRequest("message_id is required") }
        let copy = storeSent(
            chatID: chatID, threadID: threadID, replyTo: nil,
            extra: [
                "copied_from": .object(["chat_id": .int(fromChatID), "message_id": .int(messageID)])
            ])
        return ["message_id": copy["message_id"] ?? .null]
    }

    private func sendMessage(_ context: inout CallContext) throws -> FakeJSON {
        let chatID = try requireChatID(context.params)
        let threadID = try int(context.params, "message_thread_id")
        try checkThread(chatID: chatID, threadID: threadID)
        let replyTo = try replyTarget(context.params, chatID: chatID)
        guard let value = context.params["text"] else { throw TelegramAPIError.badRequest("message text is empty") }
        guard case .string(let text) = value else {
            throw TelegramAPIError.badRequest("parameter \"text\" must be a string")
        }
        let plain = try parsedText(text, parseMode: context.params["parse_mode"])
        context.plainText = plain
        let length = plain.trimmingCharacters(in: .whitespacesAndNewlines).utf16.count
        guard length > 0 else { throw TelegramAPIError.badRequest("message text is empty") }
        guard plain.utf16.count <= 4096 else { throw TelegramAPIError.badRequest("message is too long") }
        return storeSent(chatID: chatID, threadID: threadID, replyTo: replyTo, extra: ["text": .string(plain)])
    }

    private func sendPhoto(_ context: inout CallContext) throws -> FakeJSON {
        let chatID = try requireChatID(context.params)
        let threadID = try int(context.params, "message_thread_id")
        try checkThread(chatID: chatID, threadID: threadID)
        let replyTo = try replyTarget(context.params, chatID: chatID)
        let file: TelegramFakeFile
        if let upload = context.files["photo"] {
            try checkImage(upload.data, what: "photo")
            file = registerFile(data: upload.data, path: nil, kind: "photos", ext: "jpg")
        } else if let reference = context.params["photo"]?.stringValue {
            file = try resolveReference(reference, files: context.files, what: "photo")
        } else {
            throw TelegramAPIError.badRequest("there is no photo in the request")
        }
        for name in context.files.keys where name != "photo" {
            context.flag("uploaded part \"\(name)\" is not used by any parameter")
        }
        var extra: [String: FakeJSON] = ["photo": photoSizes(for: file)]
        if let caption = try caption(context.params["caption"], parseMode: context.params["parse_mode"], item: nil) {
            context.plainText = caption
            extra["caption"] = .string(caption)
        }
        return storeSent(chatID: chatID, threadID: threadID, replyTo: replyTo, extra: extra)
    }

    private func sendMediaGroup(_ context: inout CallContext) throws -> FakeJSON {
        let chatID = try requireChatID(context.params)
        let threadID = try int(context.params, "message_thread_id")
        try checkThread(chatID: chatID, threadID: threadID)
        let replyTo = try replyTarget(context.params, chatID: chatID)
        guard let raw = context.params["media"] else { throw TelegramAPIError.badRequest("parameter \"media\" is required") }
        let media: FakeJSON
        if case .string(let text) = raw {
            guard let parsed = try? FakeJSON.parse(text) else {
                throw TelegramAPIError.badRequest("can't parse media JSON object")
            }
            media = parsed
        } else {
            media = raw
        }
        guard case .array(let items) = media else {
            throw TelegramAPIError.badRequest("media must be a JSON array")
        }
        guard (2...10).contains(items.count) else {
            throw TelegramAPIError.badRequest("media must include 2-10 items, got \(items.count)")
        }
        var used: Set<String> = []
        var prepared: [(file: TelegramFakeFile, caption: String?)] = []
        var types: Set<String> = []
        for (index, item) in items.enumerated() {
            let number = index + 1
            guard case .object(let fields) = item else {
                throw TelegramAPIError.badRequest("media #\(number) is not an object")
            }
            for key in fields.keys.sorted()
            where ![
                "type", "media", "caption", "parse_mode", "caption_entities", "show_caption_above_media", "has_spoiler",
                "thumbnail", "cover", "start_timestamp", "width", "height", "duration", "supports_streaming",
                "performer", "title", "disable_content_type_detection",
            ].contains(key) {
                context.flag("media #\(number): unknown field \"\(key)\"")
            }
            guard let type = fields["type"]?.stringValue, ["photo", "video", "audio", "document"].contains(type) else {
                throw TelegramAPIError.badRequest("media #\(number): type must be photo, video, audio or document")
            }
            types.insert(type)
            guard let reference = fields["media"]?.stringValue, !reference.isEmpty else {
                throw TelegramAPIError.badRequest("media #\(number): field \"media\" must be a non-empty string")
            }
            let file: TelegramFakeFile
            if reference.hasPrefix("attach://") {
                let name = String(reference.dropFirst("attach://".count))
                guard let upload = context.files[name] else {
                    throw TelegramAPIError.badRequest("media #\(number): \(reference) does not name an uploaded part")
                }
                guard !used.contains(name) else {
                    throw TelegramAPIError.badRequest("media #\(number): \(reference) is used twice")
                }
                used.insert(name)
                if type == "photo" { try checkImage(upload.data, what: "media #\(number)") }
                file = registerFile(data: upload.data, path: nil, kind: type == "photo" ? "photos" : "documents", ext: "jpg")
            } else {
                file = try resolveReference(reference, files: context.files, what: "media #\(number)")
            }
            let itemCaption = try caption(fields["caption"], parseMode: fields["parse_mode"], item: number)
            prepared.append((file, itemCaption))
        }
        if types.contains("audio") && types.count > 1 || types.contains("document") && types.count > 1 {
            throw TelegramAPIError.badRequest("documents and audio files can't be mixed with other media types")
        }
        for name in context.files.keys.sorted() where !used.contains(name) {
            context.flag("uploaded part \"\(name)\" is not referenced by any attach://")
        }
        nextMediaGroup += 1
        let group = String(nextMediaGroup)
        context.plainText = prepared.compactMap(\.caption).first
        var results: [FakeJSON] = []
        for (index, item) in prepared.enumerated() {
            var extra: [String: FakeJSON] = ["photo": photoSizes(for: item.file), "media_group_id": .string(group)]
            if let caption = item.caption { extra["caption"] = .string(caption) }
            results.append(
                storeSent(
                    chatID: chatID, threadID: threadID, replyTo: index == 0 ? replyTo : replyTo, extra: extra
                ))
        }
        return .array(results)
    }

    // MARK: getUpdates / setWebhook / createForumTopic

    private func getUpdates(_ context: inout CallContext) async throws -> FakeJSON {
        if webhook != nil {
            throw TelegramAPIError(
                code: 409,
                description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
            )
        }
        let offset = try int(context.params, "offset")
        let limit = try int(context.params, "limit") ?? 100
        guard (1...100).contains(limit) else { throw TelegramAPIError.badRequest("limit must be in 1...100") }
        let timeout = try int(context.params, "timeout") ?? 0
        guard timeout >= 0 else { throw TelegramAPIError.badRequest("timeout must be non-negative") }
        if let allowed = context.params["allowed_updates"] {
            let list: FakeJSON? = allowed.stringValue.flatMap { try? FakeJSON.parse($0) } ?? allowed
            guard let array = list?.arrayValue, array.allSatisfy({ $0.stringValue != nil }) else {
                throw TelegramAPIError.badRequest("allowed_updates must be a JSON array of strings")
            }
        }
        confirm(offset: offset)
        let ready = selectUpdates(offset: offset, limit: Int(limit))
        if !ready.isEmpty || timeout == 0 { return .array(ready) }

        // Long poll: a newer poll terminates older ones, as Telegram does.
        for id in Array(waiters.keys) { wake(id, .conflict) }
        let id = UUID()
        let seconds = timeout
        let reason = await withCheckedContinuation { (continuation: CheckedContinuation<WakeReason, Never>) in
            let timer = Task { [weak self] in
                try? await Task.sleep(for: .seconds(seconds))
                await self?.wake(id, .timeout)
            }
            waiters[id] = Waiter(continuation: continuation, timer: timer)
        }
        switch reason {
        case .conflict:
            throw TelegramAPIError(
                code: 409,
                description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
            )
        case .shutdown, .timeout, .update:
            return .array(selectUpdates(offset: offset, limit: Int(limit)))
        }
    }

    private func wake(_ id: UUID, _ reason: WakeReason) {
        guard let waiter = waiters.removeValue(forKey: id) else { return }
        if reason != .timeout { waiter.timer?.cancel() }
        waiter.continuation.resume(returning: reason)
    }

    private func confirm(offset: Int64?) {
        guard let offset else { return }
        if offset < 0 {
            let keep = Int(-offset)
            if updates.count > keep { updates.removeFirst(updates.count - keep) }
        } else {
            updates.removeAll { ($0["update_id"]?.intValue ?? 0) < offset }
        }
    }

    private func selectUpdates(offset: Int64?, limit: Int) -> [FakeJSON] {
        let eligible = updates.filter { update in
            guard let offset, offset > 0 else { return true }
            return (update["update_id"]?.intValue ?? 0) >= offset
        }
        return Array(eligible.prefix(limit))
    }

    private func setWebhook(_ context: inout CallContext) throws -> FakeJSON {
        guard let url = context.params["url"]?.stringValue else {
            throw TelegramAPIError.badRequest("parameter \"url\" is required")
        }
        if url.isEmpty {
            webhook = nil
            context.successDescription = "Webhook was deleted"
            return true
        }
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "https" || scheme == "http",
            parsed.host != nil
        else {
            throw TelegramAPIError.badRequest("bad webhook: An HTTPS URL must be provided for webhook")
        }
        if scheme == "http", !["127.0.0.1", "localhost", "::1"].contains(parsed.host ?? "") {
            throw TelegramAPIError.badRequest("bad webhook: An HTTPS URL must be provided for webhook")
        }
        var secret: String?
        if let value = context.params["secret_token"] {
            guard let text = value.stringValue, (1...256).contains(text.count),
                text.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-") })
            else {
                throw TelegramAPIError.badRequest("secret token contains unallowed characters")
            }
            secret = text
        }
        var allowed: [String]?
        if let value = context.params["allowed_updates"] {
            let list: FakeJSON? = value.stringValue.flatMap { try? FakeJSON.parse($0) } ?? value
            guard let array = list?.arrayValue, array.allSatisfy({ $0.stringValue != nil }) else {
                throw TelegramAPIError.badRequest("allowed_updates must be a JSON array of strings")
            }
            allowed = array.compactMap(\.stringValue)
        }
        if try bool(context.params, "drop_pending_updates") == true { updates.removeAll() }
        webhook = TelegramFakeWebhook(url: url, secretToken: secret, allowedUpdates: allowed)
        for id in Array(waiters.keys) { wake(id, .shutdown) }
        context.successDescription = "Webhook was set"
        return true
    }

    private func createForumTopic(_ context: inout CallContext) throws -> FakeJSON {
        let chatID = try requireChatID(context.params)
        guard chatID < 0 else { throw TelegramAPIError.badRequest("the chat is not a forum") }
        guard let name = context.params["name"]?.stringValue else {
            throw TelegramAPIError.badRequest("parameter \"name\" is required")
        }
        guard (1...128).contains(name.utf16.count) else {
            throw TelegramAPIError.badRequest("TOPIC_TITLE_INVALID (name must be 1-128 characters)")
        }
        let colors: Set<Int64> = [0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F]
        let color = try int(context.params, "icon_color") ?? 0x6FB9F0
        guard colors.contains(color) else { throw TelegramAPIError.badRequest("TOPIC_ICON_COLOR_INVALID") }
        let threadID = takeMessageID()
        let service: FakeJSON = [
            "message_id": .int(threadID), "date": .int(now()), "chat": chatJSON(chatID), "from": botUserJSON(full: false),
            "message_thread_id": .int(threadID), "is_topic_message": true,
            "forum_topic_created": ["name": .string(name), "icon_color": .int(color)],
        ]
        messages[threadID] = service
        registerTopic(chatID: chatID, threadID: threadID, name: name)
        return ["message_thread_id": .int(threadID), "name": .string(name), "icon_color": .int(color)]
    }

    // MARK: - Validation helpers

    private func requireChatID(_ params: [String: FakeJSON]) throws -> Int64 {
        guard let value = params["chat_id"] else { throw TelegramAPIError.badRequest("chat_id is empty") }
        if let id = value.intValue, id != 0 { return id }
        if let text = value.stringValue, text.hasPrefix("@") {
            throw TelegramAPIError.badRequest("chat not found (the fake only knows numeric chat ids)")
        }
        throw TelegramAPIError.badRequest("chat not found")
    }

    private func int(_ params: [String: FakeJSON], _ name: String) throws -> Int64? {
        guard let value = params[name] else { return nil }
        guard let number = value.intValue else {
            throw TelegramAPIError.badRequest("invalid \(name) specified: must be an integer")
        }
        return number
    }

    private func bool(_ params: [String: FakeJSON], _ name: String) throws -> Bool? {
        guard let value = params[name] else { return nil }
        guard let flag = value.boolValue else {
            throw TelegramAPIError.badRequest("invalid \(name) specified: must be a boolean")
        }
        return flag
    }

    private func checkThread(chatID: Int64, threadID: Int64?) throws {
        guard let threadID else { return }
        guard chatID < 0, topics[chatID]?[threadID] != nil else {
            throw TelegramAPIError.badRequest("message thread not found")
        }
    }

    /// The message a send replies to, from `reply_parameters` or the older `reply_to_message_id`.
    private func replyTarget(_ params: [String: FakeJSON], chatID: Int64) throws -> Int64? {
        var messageID: Int64?
        var allowMissing = try bool(params, "allow_sending_without_reply") ?? false
        if let raw = params["reply_parameters"] {
            let value: FakeJSON = raw.stringValue.flatMap { try? FakeJSON.parse($0) } ?? raw
            guard case .object(let fields) = value, let id = fields["message_id"]?.intValue else {
                throw TelegramAPIError.badRequest("reply_parameters must be an object with an integer message_id")
            }
            messageID = id
            if fields["allow_sending_without_reply"]?.boolValue == true { allowMissing = true }
            if let otherChat = fields["chat_id"]?.intValue, otherChat != chatID {
                return id
            }
        } else if let id = try int(params, "reply_to_message_id") {
            messageID = id
        }
        guard let messageID else { return nil }
        if let message = messages[messageID], message["chat"]?["id"]?.intValue == chatID {
            return messageID
        }
        if allowMissing { return nil }
        throw TelegramAPIError.badRequest("message to be replied not found")
    }

    private func parsedText(_ text: String, parseMode: FakeJSON?) throws -> String {
        guard let parseMode else { return text }
        guard let mode = parseMode.stringValue else { throw TelegramAPIError.badRequest("unsupported parse_mode") }
        switch mode.lowercased() {
        case "":
            return text
        case "html":
            do {
                return try TelegramHTML.plainText(text)
            } catch {
                throw TelegramAPIError.badRequest("can't parse entities: \(error)")
            }
        case "markdown", "markdownv2":
            return text
        default:
            throw TelegramAPIError.badRequest("unsupported parse_mode \"\(mode)\"")
        }
    }

    private func caption(_ value: FakeJSON?, parseMode: FakeJSON?, item: Int?) throws -> String? {
        guard let value else { return nil }
        let prefix = item.map { "media #\($0): " } ?? ""
        guard case .string(let text) = value else {
            throw TelegramAPIError.badRequest("\(prefix)caption must be a string")
        }
        let plain = try parsedText(text, parseMode: parseMode)
        guard plain.utf16.count <= 1024 else { throw TelegramAPIError.badRequest("\(prefix)message caption is too long") }
        return plain.isEmpty ? nil : plain
    }

    func checkImage(_ data: Data, what: String) throws {
        guard !data.isEmpty else { throw TelegramAPIError.badRequest("\(what): file must be non-empty") }
        guard data.count <= 10 * 1024 * 1024 else {
            throw TelegramAPIError.badRequest("\(what): photo is larger than 10 MB")
        }
        let bytes = [UInt8](data.prefix(12))
        let isJPEG = bytes.starts(with: [0xFF, 0xD8, 0xFF])
        let isPNG = bytes.starts(with: [0x89, 0x50, 0x4E, 0x47])
        let isGIF = bytes.starts(with: Array("GIF8".utf8))
        let isWebP = bytes.count >= 12 && bytes.starts(with: Array("RIFF".utf8)) && Array(bytes[8..<12]) == Array("WEBP".utf8)
        guard isJPEG || isPNG || isGIF || isWebP else {
            throw TelegramAPIError.badRequest("IMAGE_PROCESS_FAILED (\(what) is not JPEG, PNG, GIF or WebP data)")
        }
    }

    private func resolveReference(_ reference: String, files uploads: [String: UploadedFile], what: String) throws -> TelegramFakeFile {
        if reference.hasPrefix("attach://") {
            throw TelegramAPIError.badRequest("\(what): attach:// can only be used inside media")
        }
        if let file = files[reference] { return file }
        if reference.hasPrefix("http://") || reference.hasPrefix("https://") {
            return registerFile(data: FakeTelegramServer.sampleJPEG, path: nil, kind: "photos", ext: "jpg")
        }
        throw TelegramAPIError.badRequest("wrong file identifier/HTTP URL specified")
    }

    // MARK: - Building messages

    private func takeMessageID() -> Int64 {
        defer { nextMessageID += 1 }
        return nextMessageID
    }

    private func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    private func botUserJSON(full: Bool) -> FakeJSON {
        var object: [String: FakeJSON] = [
            "id": .int(botID), "is_bot": true, "first_name": "Replyflow Test Bot", "username": .string(botUsername),
        ]
        if full {
            object["can_join_groups"] = true
            object["can_read_all_group_messages"] = true
            object["supports_inline_queries"] = false
        }
        return .object(object)
    }

    private func chatJSON(_ chatID: Int64) -> FakeJSON {
        if chatID < 0 {
            return ["id": .int(chatID), "type": "supergroup", "title": "Fake Support Group", "is_forum": true]
        }
        return ["id": .int(chatID), "type": "private", "first_name": "Fake User"]
    }

    private func stripReply(_ message: FakeJSON) -> FakeJSON {
        guard case .object(var object) = message else { return message }
        object["reply_to_message"] = nil
        return .object(object)
    }

    private func photoSizes(for file: TelegramFakeFile) -> FakeJSON {
        [
            [
                "file_id": .string(file.fileID), "file_unique_id": .string(file.fileUniqueID + "-s"),
                "width": 90, "height": 67, "file_size": .int(Int64(file.size)),
            ],
            [
                "file_id": .string(file.fileID), "file_unique_id": .string(file.fileUniqueID),
                "width": 800, "height": 600, "file_size": .int(Int64(file.size)),
            ],
        ]
    }

    private func storeSent(chatID: Int64, threadID: Int64?, replyTo: Int64?, extra: [String: FakeJSON]) -> FakeJSON {
        let id = takeMessageID()
        var object: [String: FakeJSON] = [
            "message_id": .int(id), "date": .int(now()), "chat": chatJSON(chatID), "from": botUserJSON(full: false),
        ]
        if let threadID {
            object["message_thread_id"] = .int(threadID)
            object["is_topic_message"] = true
        }
        if let replyTo, let original = messages[replyTo] {
            object["reply_to_message"] = stripReply(original)
        } else if let threadID, let service = messages[threadID] {
            object["reply_to_message"] = stripReply(service)
        }
        object.merge(extra) { _, new in new }
        let message = FakeJSON.object(object)
        messages[id] = message
        sentIDs.append(id)
        return message
    }
}
