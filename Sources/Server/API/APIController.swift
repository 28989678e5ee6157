import Flows
import Foundation
import Hummingbird
import Storage

/// The messenger-autoreply seed's `/api`: chats and messages of every channel (the app's
/// conversations included, as source `app`), sending through a chat's channel, and auto
/// mode. Every route needs `X-API-Key`.
struct APIController<Context: RequestContext>: Sendable {
    let engine: FlowEngine
    let conversations: any ConversationQueries
    let configuration: ServerConfiguration
    let clock: @Sendable () -> Date
    let stream: StreamController<Context>

    func addRoutes(to router: Router<Context>) {
        let api = router.group("api").add(middleware: APIKeyMiddleware(key: configuration.apiKey, streamTokens: stream.tokens))
        api.get("stream", use: stream.stream)
        stream.addTokenRoute(to: api)
        api.get("chats", use: chats)
        api.get("chats/:chatId/messages", use: messages)
        api.patch("chats/:chatId/autoMode", use: setAutoMode)
        api.post("messages", use: send)
    }

    // MARK: GET /api/chats

    @Sendable func chats(_ request: Request, context: Context) async throws -> Response {
        let parameters = Self.parameters(request)
        let paging = try Paging(parameters)
        let source = try parameters["source"].map(Self.source)
        let page = try await conversations.conversations(source: source, page: paging.page, perPage: paging.perPage)
        return JSONBody.response(
            ChatList(
                chats: page.items.map { ChatRecord($0, autoModeDefault: configuration.autoModeDefault) },
                page: paging.page, perPage: paging.perPage, totalItems: page.total, totalPages: paging.pages(of: page.total)))
    }

    struct ChatList: Encodable {
        var chats: [ChatRecord]
        var page: Int
        var perPage: Int
        var totalItems: Int
        var totalPages: Int
    }

    // MARK: GET /api/chats/:chatId/messages

    @Sendable func messages(_ request: Request, context: Context) async throws -> Response {
        let conversation = try await chat(context)
        let paging = try Paging(Self.parameters(request))
        let page = try await conversations.messages(of: conversation, page: paging.page, perPage: paging.perPage)
        return JSONBody.response(
            MessageList(
                messages: page.items.map(MessageRecord.init), page: paging.page, perPage: paging.perPage, totalItems: page.total,
                totalPages: paging.pages(of: page.total)))
    }

    struct MessageList: Encodable {
        var messages: [MessageRecord]
        var page: Int
        var perPage: Int
        var totalItems: Int
        var totalPages: Int
    }

    // MARK: PATCH /api/chats/:chatId/autoMode

    @Sendable func setAutoMode(_ request: Request, context: Context) async throws -> Response {
        let conversation = try await chat(context)
        let body = try await request.body.collect(upTo: 64 * 1024)
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] else {
            throw APIError.badRequest("send a JSON object: {\"autoMode\": true}")
        }
        guard let value = object["autoMode"], type(of: value) == Bool.self || (value as? NSNumber).map({ String(cString: $0.objCType) == "c" }) == true,
            let on = value as? Bool
        else {
            throw APIError.badRequest("autoMode must be true or false")
        }
        try await engine.setAutoMode(on, source: conversation.source, platformChatID: conversation.platformChatID, at: clock())
        var updated = conversation
        updated.autoMode = on
        return JSONBody.response(ChatRecord(updated, autoModeDefault: configuration.autoModeDefault))
    }

    // MARK: POST /api/messages

    @Sendable func send(_ request: Request, context: Context) async throws -> Response {
        guard (request.headers[.contentType] ?? "").lowercased().hasPrefix("application/json") else {
            throw APIError(.unsupportedMediaType, "send the message as application/json")
        }
        let body = try await request.body.collect(upTo: InputLimits.maxJSONBody)
        let fields = try JSONFields(body: Data(body.readableBytesView))
        let chatID = try fields.required("platformChatId")
        guard InputLimits.length(chatID) <= InputLimits.maxUserIDLength else { throw APIError.badRequest("platformChatId is too long") }
        let source = try Self.source(try fields.required("source"))
        let text = try fields.required("text")
        guard InputLimits.length(text) <= InputLimits.maxMessageLength else {
            throw APIError.badRequest("text is longer than \(InputLimits.maxMessageLength) characters")
        }
        if source == .telegram, Int64(chatID) == nil { throw APIError.badRequest("a Telegram platformChatId is a number") }
        // Sending starts no conversation: the chat must exist (a customer wrote first).
        guard let conversation = try await conversations.conversation(source: source, platformChatID: chatID) else {
            throw APIError(.notFound, "no \(source.rawValue) chat \(chatID)")
        }
        let senderName = try fields.string("senderName")
        if let senderName, InputLimits.length(senderName) > InputLimits.maxNameLength {
            throw APIError.badRequest("senderName is longer than \(InputLimits.maxNameLength) characters")
        }
        // Instagram answers go to Brevo's visitor; it is the chat's own id unless given.
        let visitorID = try fields.string("visitorId")
        if let visitorID, InputLimits.length(visitorID) > InputLimits.maxUserIDLength { throw APIError.badRequest("visitorId is too long") }
        let at = clock()
        let (id, delivery) = try await engine.sendFromAPI(
            source: source, platformChatID: chatID, text: text, senderName: senderName, visitorID: source == .instagram ? visitorID : nil, at: at)
        let sent = ConversationMessage(
            id: id, source: source, conversationID: conversation.id, direction: "support", text: text, media: "none",
            photoURL: nil, createdAt: at, userID: chatID, userName: nil, flow: nil, senderName: senderName, delivery: delivery)
        return JSONBody.response(MessageRecord(sent), status: .created)
    }

    // MARK: Helpers

    private func chat(_ context: Context) async throws -> Conversation {
        guard let raw = context.parameters.get("chatId"), let id = Int64(raw), let conversation = try await conversations.conversation(id: id) else {
            throw APIError(.notFound, "no such chat")
        }
        return conversation
    }

    static func source(_ raw: String) throws(APIError) -> ChatSource {
        guard let source = ChatSource(rawValue: raw) else {
            throw .badRequest("source must be one of telegram, instagram, app (got \(raw))")
        }
        return source
    }

    static func parameters(_ request: Request) -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { result[String(key)] = String(value) }
        return result
    }
}
