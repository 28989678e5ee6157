import Foundation

/// A Brevo Conversations webhook call (Conversations > Settings > Integrations > Webhooks).
/// `conversationStarted` carries the first `message`; later events of a conversation
/// (`conversationFragment`) carry `messages`. Fields Brevo adds later are ignored.
struct BrevoWebhookPayload: Decodable {
    var eventName: String?
    var conversationId: String?
    var message: BrevoWebhookMessage?
    var messages: [BrevoWebhookMessage]?
    var visitor: Visitor?

    struct Visitor: Decodable {
        var id: String?
        var displayedName: String?
        var source: String?
    }

    /// The event's messages in order, the single `message` first.
    var allMessages: [BrevoWebhookMessage] {
        (message.map { [$0] } ?? []) + (messages ?? [])
    }
}

/// One message of a conversation (Brevo's `ConversationsMessage`).
struct BrevoWebhookMessage: Decodable {
    var id: String?
    /// `visitor` or `agent`.
    var type: String?
    var text: String?
    var visitorId: String?
    var agentId: String?
    var agentName: String?
    /// Set on messages sent through the API with a mark; ours carry `BrevoClient.receivedFromMark`.
    var receivedFrom: String?
    /// Milliseconds since 1970.
    var createdAt: Double?
    var file: BrevoWebhookFile?
    var attachments: [BrevoWebhookFile]?

    enum CodingKeys: String, CodingKey {
        case id, type, text, visitorId, agentId, agentName, receivedFrom, createdAt, file, attachments
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // Ids have been seen both as strings and as numbers.
        id = try container.decodeLenientString(.id)
        type = try container.decodeIfPresent(String.self, forKey: .type)
        text = try container.decodeIfPresent(String.self, forKey: .text)
        visitorId = try container.decodeLenientString(.visitorId)
        agentId = try container.decodeLenientString(.agentId)
        agentName = try container.decodeIfPresent(String.self, forKey: .agentName)
        receivedFrom = try container.decodeIfPresent(String.self, forKey: .receivedFrom)
        createdAt = try container.decodeIfPresent(Double.self, forKey: .createdAt)
        file = try container.decodeIfPresent(BrevoWebhookFile.self, forKey: .file)
        attachments = try container.decodeIfPresent([BrevoWebhookFile].self, forKey: .attachments)
    }

    /// The message's files: `file` and `attachments`, without repeats.
    var files: [BrevoWebhookFile] {
        var seen = Set<String>()
        return ((file.map { [$0] } ?? []) + (attachments ?? [])).filter { file in
            guard let url = file.location else { return false }
            return seen.insert(url).inserted
        }
    }
}

/// A file attached to a message. Brevo's samples name the address `url` or `link`.
struct BrevoWebhookFile: Decodable {
    var filename: String?
    var fileName: String?
    var url: String?
    var link: String?
    var isImage: Bool?
    var size: Int?

    var location: String? { url ?? link }
    var name: String { filename ?? fileName ?? location.flatMap { URL(string: $0)?.lastPathComponent } ?? "file" }
}

extension KeyedDecodingContainer {
    func decodeLenientString(_ key: Key) throws -> String? {
        if let text = try? decodeIfPresent(String.self, forKey: key) { return text }
        if let number = try? decodeIfPresent(Int64.self, forKey: key) { return String(number) }
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        throw DecodingError.typeMismatch(
            String.self, .init(codingPath: codingPath + [key], debugDescription: "\(key.stringValue) must be a string or a number"))
    }
}
