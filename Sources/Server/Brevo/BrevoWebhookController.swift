import Channels
import Flows
import Foundation
import Hummingbird
import Logging

/// `POST /webhooks/brevo/{secret}` (or `POST /webhooks/brevo` with
/// `Authorization: Bearer {secret}`): Brevo Conversations events, which bring Instagram DMs.
///
/// - A visitor's message becomes an `instagram_dm` event; its photos are downloaded into
///   uploads (for the app, the `/api` and the vision model), a voice or audio file is kept
///   by URL for `transcribe`.
/// - An agent message marked with our `receivedFrom`, or whose id we were given when we
///   sent it, is our own coming back: ignored, so nothing answers itself.
/// - Any other agent message was written by staff in Brevo's inbox: stored and shown on the
///   `/api`, not answered.
/// - A message id handled before is ignored (webhooks are delivered at least once).
///
/// Each message is handled before the answer, so a failure makes Brevo deliver it again.
struct BrevoWebhookController<Context: RequestContext>: Sendable {
    let engine: FlowEngine
    let uploads: UploadStore
    let downloader: MediaDownloader
    /// Nil: the webhook is closed.
    let secret: String?
    let clock: @Sendable () -> Date
    let logger: Logger

    static var maxBody: Int { 1024 * 1024 }

    func addRoutes(to router: Router<Context>) {
        router.post("/webhooks/brevo") { request, context in
            let bearer = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
            return try await receive(request, given: bearer)
        }
        router.post("/webhooks/brevo/:secret") { request, context in
            try await receive(request, given: context.parameters.get("secret"))
        }
    }

    private func receive(_ request: Request, given: String?) async throws -> Response {
        guard let secret else { throw APIError(.forbidden, "the Brevo webhook is off: set BREVO_WEBHOOK_SECRET") }
        guard let given, ConstantTime.equals(given, secret) else {
            throw APIError(.forbidden, "wrong or missing webhook secret (put it in the URL path or an Authorization: Bearer header)")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maxBody)
        } catch {
            throw APIError(.contentTooLarge, "the body is larger than \(Self.maxBody) bytes")
        }
        let payload: BrevoWebhookPayload
        do {
            payload = try JSONDecoder().decode(BrevoWebhookPayload.self, from: Data(body.readableBytesView))
        } catch {
            throw APIError.badRequest("the body is not a Brevo Conversations webhook event: \(Self.describe(error))")
        }
        guard let eventName = payload.eventName, !eventName.isEmpty else { throw APIError.badRequest("eventName is missing") }
        guard ["conversationStarted", "conversationFragment"].contains(eventName) else {
            logger.debug("Brevo webhook event not handled", metadata: ["event": "\(eventName)"])
            return JSONBody.response(Outcome(handled: 0, ignored: payload.allMessages.count))
        }
        let messages = try validated(payload)
        var outcome = Outcome(handled: 0, ignored: 0)
        for (id, visitorID, message) in messages {
            if try await handle(message, id: id, visitorID: visitorID, visitorName: payload.visitor?.displayedName) {
                outcome.handled += 1
            } else {
                outcome.ignored += 1
            }
        }
        return JSONBody.response(outcome)
    }

    struct Outcome: Encodable {
        var success = true
        var handled: Int
        var ignored: Int
    }

    /// Every message must say who it is from and carry an id (how a second delivery is
    /// recognised); the whole event is refused otherwise, before anything is handled.
    private func validated(_ payload: BrevoWebhookPayload) throws -> [(String, String, BrevoWebhookMessage)] {
        let messages = payload.allMessages
        guard !messages.isEmpty else { throw APIError.badRequest("the event has no message (message or messages)") }
        return try messages.enumerated().map { index, message in
            guard let id = message.id, !id.isEmpty else { throw APIError.badRequest("message \(index + 1) has no id") }
            guard let visitorID = message.visitorId ?? payload.visitor?.id, !visitorID.isEmpty else {
                throw APIError.badRequest("message \(id) has no visitorId (and the event no visitor.id)")
            }
            guard InputLimits.length(visitorID) <= InputLimits.maxUserIDLength, !visitorID.contains("/") else {
                throw APIError.badRequest("message \(id): visitorId is not a Brevo visitor id")
            }
            guard InputLimits.length(message.text ?? "") <= InputLimits.maxMessageLength else {
                throw APIError.badRequest("message \(id) is longer than \(InputLimits.maxMessageLength) characters")
            }
            return (id, visitorID, message)
        }
    }

    /// True when the message was handled now, false when it was ignored.
    private func handle(_ message: BrevoWebhookMessage, id: String, visitorID: String, visitorName: String?) async throws -> Bool {
        let text = message.text ?? ""
        switch message.type {
        case "agent":
            if message.receivedFrom == BrevoClient.receivedFromMark { return false }
            // Typed by a person in Brevo's inbox: staff, named as Brevo names the agent.
            let stored = StoredMessage(
                userID: visitorID, source: .instagram, direction: .support, text: text, at: clock(), platformMessageID: id,
                senderName: message.agentName.flatMap { $0.isEmpty ? nil : $0 }, author: .staff)
            return try await engine.handleBrevoMessage(id, event: nil, agentMessage: stored) != nil
        case "visitor", nil:
            guard try await !engine.isBrevoMessageHandled(id) else { return false }
            var event = InboundEvent(kind: .instagramDM, at: clock(), userID: visitorID, userName: visitorName, text: text)
            event.platformMessageID = id
            await attachFiles(of: message, to: &event)
            guard !text.isEmpty || event.media != .none else { return false }
            return try await engine.handleBrevoMessage(id, event: event) != nil
        default:
            logger.debug("Brevo message of an unknown type ignored", metadata: ["type": "\(message.type ?? "")", "brevo_message_id": "\(id)"])
            return false
        }
    }

    /// Photos into uploads, the first voice or audio file by URL (for `transcribe`). Every
    /// file not kept in uploads (audio, documents, a photo that could not be fetched or is
    /// too large) stays on the event by its address, so staff get it with the forward:
    /// no part of a customer's message is dropped. A message with a file the AI cannot
    /// read (a document, a video, a photo not fetched) is a `document`, whatever else it
    /// holds, so the default flow hands it to staff instead of answering only the rest.
    private func attachFiles(of message: BrevoWebhookMessage, to event: inout InboundEvent) async {
        var unreadable = false
        defer { if unreadable { event.media = .document } }
        for file in message.files {
            guard let url = file.location else { continue }
            let link = LinkedFile(name: file.name, url: url)
            if let audioType = AssistantMedia.audioContentType(file.name) {
                if event.audio == nil { event.audio = AudioAttachment(location: url, fileName: file.name, contentType: audioType) }
                if event.media == .none { event.media = .voice }
                event.linkedFiles.append(link)
                continue
            }
            guard file.isImage != false else {
                unreadable = true
                event.linkedFiles.append(link)
                continue
            }
            do {
                let image = try await downloader.download(url, maxBytes: uploads.maxBytes)
                event.photoURLs.append(try uploads.save([UInt8](image.data)))
                event.media = .photo
            } catch {
                if case UploadStore.Failure.notAnImage = error {
                    logger.info("a Brevo attachment is not an image; staff get its link", metadata: ["file": "\(file.name)"])
                } else {
                    logger.error("could not download a Brevo attachment; staff get its link", metadata: ["file": "\(file.name)", "error": "\(error)"])
                }
                unreadable = true
                event.linkedFiles.append(link)
            }
        }
    }

    private static func describe(_ error: Error) -> String {
        guard let error = error as? DecodingError else { return "not JSON" }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context):
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not JSON" : context.debugDescription
        @unknown default:
            return "not JSON"
        }
    }
}
