import AsyncHTTPClient
import Foundation
import Logging
import MultipartKit
import NIOCore
import NIOHTTP1

/// A client for the Telegram Bot API.
///
/// Every call is one HTTP request to `{baseURL}/bot{token}/{method}`: plain methods send a JSON
/// body, uploads send `multipart/form-data`. Failures are thrown as ``DeliveryError``:
/// 429 → `.retry(after: retry_after)`, 5xx, timeouts and network errors → `.retry(after: nil)`,
/// anything else (400, 403, …) → `.fail` with Telegram's description. The client does not retry.
public struct TelegramClient: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Largest file the Bot API lets bots download (20 MB).
    public static let defaultMaxDownloadBytes = 20 * 1024 * 1024

    /// The API root, `https://api.telegram.org` by default (a fake server in tests).
    public let baseURL: String
    private let token: String
    private let httpClient: HTTPClient
    private let logger: Logger
    private let requestTimeout: TimeAmount
    private let uploadTimeout: TimeAmount

    /// Creates a client.
    /// - Parameters:
    ///   - token: the bot token from @BotFather (`123456:ABC…`).
    ///   - baseURL: the API root without a trailing slash.
    ///   - httpClient: a shared HTTP client; the caller owns its lifetime.
    ///   - logger: where request failures are logged at debug level.
    ///   - requestTimeout: timeout for plain calls (long polls add their own poll timeout to it).
    ///   - uploadTimeout: timeout for multipart uploads and file downloads.
    public init(
        token: String,
        baseURL: String = "https://api.telegram.org",
        httpClient: HTTPClient,
        logger: Logger,
        requestTimeout: TimeAmount = .seconds(30),
        uploadTimeout: TimeAmount = .seconds(120)
    ) {
        self.token = token
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.httpClient = httpClient
        self.logger = logger
        self.requestTimeout = requestTimeout
        self.uploadTimeout = uploadTimeout
    }

    /// Names the API root, never the token (service dumps in the log print their clients).
    public var description: String { "TelegramClient(baseURL: \(baseURL))" }

    public var debugDescription: String { description }

    // MARK: - Sending

    /// Sends a text message (`sendMessage`).
    ///
    /// `text` must already be formatted for `parseMode` (use ``TelegramText/escapeHTML(_:)`` for
    /// HTML) and be at most 4096 characters after entity parsing (see ``TelegramText/split(_:limit:)``).
    public func sendMessage(
        chatID: Int64,
        text: String,
        parseMode: String? = "HTML",
        messageThreadID: Int64? = nil,
        replyToMessageID: Int64? = nil
    ) async throws -> TelegramMessage {
        struct Body: Encodable {
            var chatID: Int64
            var text: String
            var parseMode: String?
            var messageThreadID: Int64?
            var replyParameters: ReplyParameters?
            enum CodingKeys: String, CodingKey {
                case chatID = "chat_id", text, parseMode = "parse_mode"
                case messageThreadID = "message_thread_id", replyParameters = "reply_parameters"
            }
        }
        let body = Body(
            chatID: chatID, text: text, parseMode: parseMode, messageThreadID: messageThreadID,
            replyParameters: replyToMessageID.map { ReplyParameters(messageID: $0) }
        )
        return try await callJSON("sendMessage", body: body, as: TelegramMessage.self)
    }

    /// Uploads and sends one photo (`sendPhoto`) with an optional caption (≤ 1024 characters after parsing).
    public func sendPhoto(
        chatID: Int64,
        photo: TelegramUpload,
        caption: String? = nil,
        parseMode: String? = "HTML",
        messageThreadID: Int64? = nil,
        replyToMessageID: Int64? = nil
    ) async throws -> TelegramMessage {
        var form = MultipartForm()
        form.field("chat_id", String(chatID))
        if let messageThreadID { form.field("message_thread_id", String(messageThreadID)) }
        if let caption {
            form.field("caption", caption)
            if let parseMode { form.field("parse_mode", parseMode) }
        }
        if let replyToMessageID {
            form.field("reply_parameters", try Self.jsonString(ReplyParameters(messageID: replyToMessageID)))
        }
        form.file("photo", photo)
        return try await callMultipart("sendPhoto", form: form, as: TelegramMessage.self)
    }

    /// Sends a photo Telegram already has (`sendPhoto` with its `file_id`, for example one a
    /// user sent the bot), without uploading it again. Caption as for the upload form.
    public func sendPhoto(
        chatID: Int64,
        fileID: String,
        caption: String? = nil,
        parseMode: String? = "HTML",
        replyToMessageID: Int64? = nil
    ) async throws -> TelegramMessage {
        struct Body: Encodable {
            var chatID: Int64
            var photo: String
            var caption: String?
            var parseMode: String?
            var replyParameters: ReplyParameters?
            enum CodingKeys: String, CodingKey {
                case chatID = "chat_id", photo, caption, parseMode = "parse_mode", replyParameters = "reply_parameters"
            }
        }
        let body = Body(
            chatID: chatID, photo: fileID, caption: caption, parseMode: caption == nil ? nil : parseMode,
            replyParameters: replyToMessageID.map { ReplyParameters(messageID: $0) }
        )
        return try await callJSON("sendPhoto", body: body, as: TelegramMessage.self)
    }

    /// Uploads 2…10 photos as one album (`sendMediaGroup`). The caption goes on the first photo.
    /// Returns the sent messages, one per photo.
    public func sendMediaGroup(
        chatID: Int64,
        photos: [TelegramUpload],
        caption: String? = nil,
        parseMode: String? = "HTML",
        messageThreadID: Int64? = nil,
        replyToMessageID: Int64? = nil
    ) async throws -> [TelegramMessage] {
        guard (2...10).contains(photos.count) else {
            throw DeliveryError(.fail, "Telegram sendMediaGroup: an album needs 2...10 photos, got \(photos.count)")
        }
        struct InputMediaPhoto: Encodable {
            var type = "photo"
            var media: String
            var caption: String?
            var parseMode: String?
            enum CodingKeys: String, CodingKey { case type, media, caption, parseMode = "parse_mode" }
        }
        var media: [InputMediaPhoto] = []
        var form = MultipartForm()
        form.field("chat_id", String(chatID))
        if let messageThreadID { form.field("message_thread_id", String(messageThreadID)) }
        if let replyToMessageID {
            form.field("reply_parameters", try Self.jsonString(ReplyParameters(messageID: replyToMessageID)))
        }
        for index in photos.indices {
            let name = "photo\(index)"
            var item = InputMediaPhoto(media: "attach://\(name)")
            if index == 0, let caption {
                item.caption = caption
                item.parseMode = parseMode
            }
            media.append(item)
        }
        form.field("media", try Self.jsonString(media))
        for (index, photo) in photos.enumerated() {
            form.file("photo\(index)", photo)
        }
        return try await callMultipart("sendMediaGroup", form: form, as: [TelegramMessage].self)
    }

    /// Copies a message into another chat (`copyMessage`): any kind of message (a voice
    /// note, a sticker, a video, a file), without a link to the original. Returns the
    /// copy's `message_id`.
    public func copyMessage(chatID: Int64, fromChatID: Int64, messageID: Int64, messageThreadID: Int64? = nil) async throws -> Int64 {
        struct Body: Encodable {
            var chatID: Int64
            var fromChatID: Int64
            var messageID: Int64
            var messageThreadID: Int64?
            enum CodingKeys: String, CodingKey {
                case chatID = "chat_id", fromChatID = "from_chat_id", messageID = "message_id", messageThreadID = "message_thread_id"
            }
        }
        struct MessageID: Decodable {
            var messageID: Int64
            enum CodingKeys: String, CodingKey { case messageID = "message_id" }
        }
        let body = Body(chatID: chatID, fromChatID: fromChatID, messageID: messageID, messageThreadID: messageThreadID)
        return try await callJSON("copyMessage", body: body, as: MessageID.self).messageID
    }

    /// Creates a forum topic (`createForumTopic`) and returns its `message_thread_id`.
    /// The name is clipped to Telegram's 128-character limit (never inside a character).
    public func createForumTopic(chatID: Int64, name: String) async throws -> Int64 {
        struct Body: Encodable {
            var chatID: Int64
            var name: String
            enum CodingKeys: String, CodingKey { case chatID = "chat_id", name }
        }
        let clipped = TelegramText.clip(name, limit: TelegramText.topicNameLimit)
        let topic = try await callJSON(
            "createForumTopic", body: Body(chatID: chatID, name: clipped.isEmpty ? "…" : clipped),
            as: TelegramForumTopic.self
        )
        return topic.messageThreadID
    }

    // MARK: - Receiving

    /// Long-polls for updates (`getUpdates`).
    ///
    /// An update whose message cannot be decoded is returned with only its `updateID` (and logged),
    /// so one odd update cannot block the offset.
    ///
    /// - Parameters:
    ///   - offset: one more than the highest `update_id` already handled; confirms everything before it.
    ///   - timeout: long-poll timeout in seconds (0 = short poll). The HTTP timeout is set above it.
    ///   - allowedUpdates: update types to receive, e.g. `["message", "edited_message"]`; `nil` keeps
    ///     the previous setting.
    ///   - limit: at most this many updates (1…100).
    public func getUpdates(
        offset: Int64?,
        timeout: Int,
        allowedUpdates: [String]? = nil,
        limit: Int? = nil
    ) async throws -> [TelegramUpdate] {
        struct Body: Encodable {
            var offset: Int64?
            var timeout: Int
            var allowedUpdates: [String]?
            var limit: Int?
            enum CodingKeys: String, CodingKey {
                case offset, timeout, allowedUpdates = "allowed_updates", limit
            }
        }
        let body = Body(offset: offset, timeout: max(0, timeout), allowedUpdates: allowedUpdates, limit: limit)
        let updates = try await callJSON(
            "getUpdates", body: body, as: [LenientUpdate].self,
            timeout: requestTimeout + .seconds(Int64(max(0, timeout)))
        )
        for update in updates where update.decodingError != nil {
            logger.warning(
                "Telegram update could not be decoded; passing it on without its message",
                metadata: ["update_id": "\(update.update.updateID)", "error": "\(update.decodingError!)"]
            )
        }
        return updates.map(\.update)
    }

    /// An update that never fails the whole batch: if its content does not decode, only its
    /// `update_id` is kept, so the caller can still confirm it and move past it.
    private struct LenientUpdate: Decodable {
        var update: TelegramUpdate
        var decodingError: String?

        init(from decoder: any Decoder) throws {
            do {
                update = try TelegramUpdate(from: decoder)
            } catch {
                struct IDOnly: Decodable {
                    var updateID: Int64
                    enum CodingKeys: String, CodingKey { case updateID = "update_id" }
                }
                update = TelegramUpdate(updateID: try IDOnly(from: decoder).updateID)
                decodingError = String(describing: error)
            }
        }
    }

    /// Sets the webhook (`setWebhook`). Telegram will send `secretToken` in the
    /// `X-Telegram-Bot-Api-Secret-Token` header of every delivery.
    public func setWebhook(
        url: String,
        secretToken: String,
        allowedUpdates: [String]? = nil,
        dropPendingUpdates: Bool? = nil
    ) async throws {
        struct Body: Encodable {
            var url: String
            var secretToken: String
            var allowedUpdates: [String]?
            var dropPendingUpdates: Bool?
            enum CodingKeys: String, CodingKey {
                case url, secretToken = "secret_token", allowedUpdates = "allowed_updates"
                case dropPendingUpdates = "drop_pending_updates"
            }
        }
        _ = try await callJSON(
            "setWebhook",
            body: Body(url: url, secretToken: secretToken, allowedUpdates: allowedUpdates, dropPendingUpdates: dropPendingUpdates),
            as: Bool.self
        )
    }

    /// Removes the webhook (`deleteWebhook`) so `getUpdates` can be used.
    public func deleteWebhook(dropPendingUpdates: Bool? = nil) async throws {
        struct Body: Encodable {
            var dropPendingUpdates: Bool?
            enum CodingKeys: String, CodingKey { case dropPendingUpdates = "drop_pending_updates" }
        }
        _ = try await callJSON("deleteWebhook", body: Body(dropPendingUpdates: dropPendingUpdates), as: Bool.self)
    }

    /// Returns the current webhook status (`getWebhookInfo`).
    public func getWebhookInfo() async throws -> TelegramWebhookInfo {
        struct Empty: Encodable {}
        return try await callJSON("getWebhookInfo", body: Empty(), as: TelegramWebhookInfo.self)
    }

    /// Returns the bot's own user (`getMe`); useful as a start-up check of the token.
    public func getMe() async throws -> TelegramUser {
        struct Empty: Encodable {}
        return try await callJSON("getMe", body: Empty(), as: TelegramUser.self)
    }

    // MARK: - Files

    /// Asks for a file's download path (`getFile`).
    public func getFile(fileID: String) async throws -> TelegramFile {
        struct Body: Encodable {
            var fileID: String
            enum CodingKeys: String, CodingKey { case fileID = "file_id" }
        }
        return try await callJSON("getFile", body: Body(fileID: fileID), as: TelegramFile.self)
    }

    /// Downloads a file from `{baseURL}/file/bot{token}/{path}` (the `filePath` of ``getFile(fileID:)``).
    ///
    /// Throws a `.fail` ``DeliveryError`` when the file is larger than `maxBytes`.
    public func downloadFile(path: String, maxBytes: Int = TelegramClient.defaultMaxDownloadBytes) async throws -> Data {
        let trimmed = path.hasPrefix("/") ? String(path.dropFirst()) : path
        let encodedPath = trimmed.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? String($0) }
            .joined(separator: "/")
        var request = HTTPClientRequest(url: "\(baseURL)/file/bot\(token)/\(encodedPath)")
        request.method = .GET
        let response: CollectedResponse
        do {
            response = try await httpClient.collect(request, timeout: uploadTimeout, maxBodyBytes: maxBytes)
        } catch let error as BodyTooLargeError {
            throw DeliveryError(.fail, "Telegram file download: \(error)")
        } catch {
            throw withoutToken(DeliveryError.transport(error, service: "Telegram file download"))
        }
        guard response.status == .ok else {
            throw classify(response: response, method: "file download")
        }
        return response.bodyData
    }

    // MARK: - Transport

    private struct ReplyParameters: Encodable {
        var messageID: Int64
        var allowSendingWithoutReply = true
        enum CodingKeys: String, CodingKey {
            case messageID = "message_id"
            case allowSendingWithoutReply = "allow_sending_without_reply"
        }
    }

    private static func jsonString(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    /// `text` without the bot token. The token is in every request's URL, and an error can
    /// quote it (a proxy's or a self-hosted server's error page, a transport error): error
    /// texts go to the log, the outbox's `last_error` and the inbox's "not delivered".
    private func withoutToken(_ text: String) -> String {
        token.isEmpty ? text : text.replacingOccurrences(of: token, with: "<token>")
    }

    private func withoutToken(_ error: DeliveryError) -> DeliveryError {
        var error = error
        error.description = withoutToken(error.description)
        return error
    }

    private func methodURL(_ method: String) -> String {
        "\(baseURL)/bot\(token)/\(method)"
    }

    private func callJSON<Result: Decodable>(
        _ method: String,
        body: some Encodable,
        as: Result.Type,
        timeout: TimeAmount? = nil
    ) async throws -> Result {
        var request = HTTPClientRequest(url: methodURL(method))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        let data: Data
        do {
            data = try JSONEncoder().encode(body)
        } catch {
            throw DeliveryError(.fail, "Telegram \(method): could not encode request: \(error)")
        }
        request.body = .bytes(ByteBuffer(bytes: data))
        return try await perform(method, request: request, timeout: timeout ?? requestTimeout, as: Result.self)
    }

    private func callMultipart<Result: Decodable>(
        _ method: String,
        form: MultipartForm,
        as: Result.Type
    ) async throws -> Result {
        let encoded: (body: ByteBuffer, contentType: String)
        do {
            encoded = try form.encoded()
        } catch {
            throw DeliveryError(.fail, "Telegram \(method): could not encode multipart body: \(error)")
        }
        var request = HTTPClientRequest(url: methodURL(method))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: encoded.contentType)
        request.body = .bytes(encoded.body)
        return try await perform(method, request: request, timeout: uploadTimeout, as: Result.self)
    }

    private func perform<Result: Decodable>(
        _ method: String,
        request: HTTPClientRequest,
        timeout: TimeAmount,
        as: Result.Type
    ) async throws -> Result {
        let response: CollectedResponse
        do {
            response = try await httpClient.collect(request, timeout: timeout, maxBodyBytes: 16 * 1024 * 1024)
        } catch {
            logger.debug("Telegram request failed", metadata: ["method": "\(method)", "error": "\(withoutToken("\(error)"))"])
            throw withoutToken(DeliveryError.transport(error, service: "Telegram \(method)"))
        }
        guard response.status == .ok else {
            throw classify(response: response, method: method)
        }
        let envelope: TelegramEnvelope<Result>
        do {
            envelope = try JSONDecoder().decode(TelegramEnvelope<Result>.self, from: response.bodyData)
        } catch {
            throw DeliveryError(
                .fail, withoutToken("Telegram \(method): unexpected response (\(error)): \(response.bodyExcerpt)"),
                httpStatus: Int(response.status.code)
            )
        }
        guard envelope.ok, let result = envelope.result else {
            throw classify(response: response, method: method)
        }
        return result
    }

    /// Turns a non-successful response into a ``DeliveryError``.
    private func classify(response: CollectedResponse, method: String) -> DeliveryError {
        let status = Int(response.status.code)
        let envelope = try? JSONDecoder().decode(TelegramErrorEnvelope.self, from: response.bodyData)
        let code = envelope?.errorCode ?? status
        let description = withoutToken(envelope?.description ?? "HTTP \(status): \(response.bodyExcerpt)")
        let message = "Telegram \(method): \(description)"
        logger.debug("Telegram call failed", metadata: ["method": "\(method)", "status": "\(status)", "description": "\(description)"])
        if code == 429 || status == 429 {
            let after =
                envelope?.parameters?.retryAfter.map { Duration.seconds($0) }
                ?? parseRetryAfter(response.headers.first(name: "Retry-After"))
            return DeliveryError(.retry(after: after), message, httpStatus: status, serviceCode: String(code))
        }
        if status >= 500 || code >= 500 {
            return DeliveryError(.retry(after: nil), message, httpStatus: status, serviceCode: String(code))
        }
        return DeliveryError(.fail, message, httpStatus: status, serviceCode: String(code))
    }
}
