import Flows
import Foundation
import Hummingbird
import Logging
import Storage

/// The support inbox (role `agent` and up): the chat list and the open chat side by side,
/// replies, auto mode, retrying a failed delivery, and the live stream the page listens to.
///
/// Every action is a plain form post that answers with a redirect back to the chat, so the
/// inbox works without JavaScript; `inbox.js` posts the same forms in the background
/// (asking for JSON) and redraws from the server's own page.
struct InboxRoutes<Context: AdminRequestContext>: Sendable {
    let engine: FlowEngine
    let inbox: any InboxReading
    let conversations: any ConversationQueries
    let retry: DeliveryRetry
    let media: AssistantMedia
    let stream: StreamController<Context>
    let pages: AdminPages
    let auditor: AdminAuditor
    let configuration: ServerConfiguration
    let clock: @Sendable () -> Date
    let logger: Logger

    /// Messages per page of a conversation (older ones load on scroll).
    static var messagesPerPage: Int { 50 }
    /// Events shown under "why did the bot answer?".
    static var runsShown: Int { 10 }

    func addRoutes(to agents: RouterGroup<Context>) {
        agents.get("", use: list)
        agents.get("chats/:chatId", use: chat)
        agents.post("chats/:chatId/reply", use: reply)
        agents.post("chats/:chatId/auto-mode", use: setAutoMode)
        agents.post("chats/:chatId/retry", use: retryDelivery)
        agents.get("chats/:chatId/voice/:messageId", use: voice)
        // The live stream of the `/api`, authenticated by the session instead of the key.
        agents.get("api/stream", use: stream.stream)
    }

    private var view: InboxView {
        InboxView(time: DisplayTime(timeZone: configuration.timeZone, now: clock()), autoModeDefault: configuration.autoModeDefault)
    }

    // MARK: Pages

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.agent)
        let filters = try InboxListRequest(request)
        return try await page(filters: filters, open: nil, session: session)
    }

    @Sendable func chat(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.agent)
        let filters = try InboxListRequest(request)
        let conversation = try await self.conversation(context)
        let before = try FormQuery(request.uri.query).first("before").map { raw throws(AdminError) -> Int64 in
            guard let id = Int64(raw), id > 0 else { throw AdminError(.badRequest, "before must be a message id (got \(raw))") }
            return id
        }
        return try await page(filters: filters, open: (conversation, before), session: session)
    }

    private func page(filters: InboxListRequest, open: (conversation: Conversation, before: Int64?)?, session: StaffSession) async throws -> Response {
        let view = view
        var values: [String: Any] = ["filters": filters.formValues, "title": "Inbox"]
        var opened: [String: Any]?
        if let (conversation, before) = open {
            // The newest messages are being read now: the chat is no longer unread. Older
            // pages (scrolling back) change nothing.
            let messages = try await inbox.messages(of: conversation.id, before: before, limit: Self.messagesPerPage)
            if before == nil, let newest = messages.last { try await inbox.markRead(conversationID: conversation.id, upTo: newest.id) }
            let runs = try await inbox.recentRuns(of: conversation.id, limit: Self.runsShown)
            let name = InboxView.name(conversation.name, source: conversation.source, platformChatID: conversation.platformChatID)
            let mode = view.mode(conversation.autoMode)
            var chat: [String: Any] = [
                "id": conversation.id, "name": name, "platformChatID": conversation.platformChatID,
                "sourceLabel": InboxView.sourceLabel(conversation.source), "autoOn": mode.on, "modeClass": mode.cssClass,
                "messages": messages.map { view.message($0, chatID: conversation.id, customerName: name) },
                "runs": runs.map(view.run), "maxReply": InputLimits.maxMessageLength,
            ]
            if messages.count == Self.messagesPerPage, let oldest = messages.first {
                chat["olderHref"] = "/admin/chats/\(conversation.id)?before=\(oldest.id)"
            }
            opened = chat
            values["open"] = chat
            values["title"] = name + " · Inbox"
        }
        let page = try await inbox.chats(filters.query(autoModeDefault: configuration.autoModeDefault))
        let current = open?.conversation.id
        values["chats"] = page.items.map { view.row($0, current: current, filterQuery: filters.filterQuery) }
        if let next = page.next { values["nextHref"] = "/admin" + filters.pageQuery(after: next) }
        values["emptyList"] = filters.isFiltered ? "No conversations match these filters." : "No conversations yet."
        values["unread"] = try await inbox.unreadCount()
        return try pages.render("inbox", title: (opened?["name"] as? String).map { "\($0) · Inbox" } ?? "Inbox", context: values, session: session, scripts: ["inbox.js"])
    }

    /// A voice or audio message's file, fetched from where its channel keeps it (Telegram
    /// keeps voice notes: the panel asks for the file each time it is played).
    @Sendable func voice(_ request: Request, context: Context) async throws -> Response {
        _ = try context.requireStaff(.agent)
        let conversation = try await self.conversation(context)
        guard let raw = context.parameters.get("messageId"), let messageID = Int64(raw),
            let location = try await inbox.audioLocation(of: messageID, in: conversation.id)
        else { throw AdminError(.notFound, "this chat has no voice message with that id") }
        let fileName = URL(string: location)?.lastPathComponent ?? ""
        let contentType =
            location.hasPrefix(AssistantMedia.telegramFileScheme) ? "audio/ogg" : AssistantMedia.audioContentType(fileName) ?? "application/octet-stream"
        let data: Data
        do {
            data = try await media.audio(AudioAttachment(location: location, fileName: fileName, contentType: contentType))
        } catch {
            logger.warning("inbox: could not fetch a voice message", metadata: ["message": "\(messageID)", "error": "\(error)"])
            throw AdminError(.badGateway, "the voice message could not be fetched from \(InboxView.sourceLabel(conversation.source)): \(error)")
        }
        return Response(
            status: .ok, headers: [.contentType: contentType, .cacheControl: "private, max-age=3600"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: Actions

    @Sendable func reply(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let session = try context.requireStaff(.agent)
        let conversation = try await self.conversation(context)
        let form = try await AdminForm.read(&request)
        let text = (form.first("text") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw AdminError(.badRequest, "write a reply first: it is empty") }
        guard InputLimits.length(text) <= InputLimits.maxMessageLength else {
            throw AdminError(.badRequest, "a reply is at most \(InputLimits.maxMessageLength) characters")
        }
        let (id, _) = try await engine.sendFromAPI(
            source: conversation.source, platformChatID: conversation.platformChatID, text: text, senderName: session.account.username, at: clock())
        try await auditor.record(
            "reply", detail: "message \(id) to \(conversation.source.rawValue) chat \(conversation.platformChatID)", by: session, request: request,
            context: context)
        return done(request, chatID: conversation.id, ["messageId": id])
    }

    @Sendable func setAutoMode(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let session = try context.requireStaff(.agent)
        let conversation = try await self.conversation(context)
        let form = try await AdminForm.read(&request)
        let on: Bool
        switch form.first("on") {
        case "true": on = true
        case "false": on = false
        case let other: throw AdminError(.badRequest, "on must be true or false (got \(other ?? "nothing"))")
        }
        try await engine.setAutoMode(on, source: conversation.source, platformChatID: conversation.platformChatID, at: clock())
        try await auditor.record(
            "auto mode \(on ? "on" : "off")", detail: "\(conversation.source.rawValue) chat \(conversation.platformChatID)", by: session,
            request: request, context: context)
        return done(request, chatID: conversation.id, ["autoMode": on])
    }

    @Sendable func retryDelivery(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let session = try context.requireStaff(.agent)
        let conversation = try await self.conversation(context)
        let form = try await AdminForm.read(&request)
        guard let raw = form.first("item"), let itemID = Int64(raw) else { throw AdminError(.badRequest, "item must be the id of a failed delivery") }
        do {
            _ = try await retry.retry(itemID: itemID)
        } catch let error as OutboxRetryError {
            switch error {
            case .notFound: throw AdminError(.notFound, "\(error)")
            case .notFailed, .unknownKind: throw AdminError(.conflict, "\(error)")
            }
        }
        try await auditor.record(
            "delivery retried", detail: "outbox item \(itemID) of \(conversation.source.rawValue) chat \(conversation.platformChatID)", by: session,
            request: request, context: context)
        return done(request, chatID: conversation.id, ["item": itemID])
    }

    // MARK: Helpers

    private func conversation(_ context: Context) async throws -> Conversation {
        guard let raw = context.parameters.get("chatId"), let id = Int64(raw), id > 0 else {
            throw AdminError(.notFound, "there is no such chat")
        }
        guard let conversation = try await conversations.conversation(id: id) else { throw AdminError(.notFound, "there is no chat \(id)") }
        return conversation
    }

    /// A script asked for JSON; a plain form goes back to the chat (303, so a reload does
    /// not post again).
    private func done(_ request: Request, chatID: Int64, _ result: [String: Any?]) -> Response {
        if (request.headers[.accept] ?? "").contains("application/json") {
            var body = result
            body["success"] = true
            return JSONBody.response(body)
        }
        return Response(status: .seeOther, headers: [.location: "/admin/chats/\(chatID)"])
    }
}
