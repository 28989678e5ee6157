import Flows
import Foundation
import Logging
import ServiceLifecycle
import Storage

/// Turns what the engine committed into stream events (`message` and `chat` records, as
/// the `/api` shows them), off the engine's actor and in commit order.
final class LivePublisher: Sendable {
    let log: LiveEventLog
    private let conversations: ConversationQueries
    private let autoModeDefault: Bool
    private let logger: Logger
    private let incoming: AsyncStream<Committed>
    private let continuation: AsyncStream<Committed>.Continuation

    init(log: LiveEventLog, conversations: ConversationQueries, autoModeDefault: Bool, logger: Logger) {
        self.log = log
        self.conversations = conversations
        self.autoModeDefault = autoModeDefault
        self.logger = logger
        (incoming, continuation) = AsyncStream.makeStream()
    }

    /// Called by the engine after each commit; returns at once.
    func committed(_ committed: Committed) {
        continuation.yield(committed)
    }

    /// Publishes until the stream ends (shutdown).
    func run() async {
        var known: [ChatRef: Conversation] = [:]
        for await batch in incoming {
            for (id, message) in batch.messages {
                let ref = ChatRef(source: message.source, platformChatID: message.userID)
                guard var conversation = known[ref] ?? lookUp(ref) else { continue }
                if known.count > 50_000 { known.removeAll(keepingCapacity: true) }
                conversation.updatedAt = max(conversation.updatedAt, message.at)
                known[ref] = conversation
                // Records are built (and encoded) only when a subscriber first needs them.
                let snapshot = conversation, autoModeDefault = autoModeDefault
                publish(.message, conversation: conversation) {
                    MessageRecord(ConversationMessage(
                        id: id, source: message.source.rawValue, conversationID: snapshot.id, direction: message.direction.rawValue,
                        text: message.text, media: message.media.rawValue, photoURL: message.photoURL, createdAt: message.at,
                        userID: message.userID, userName: snapshot.name, flow: message.flow))
                }
                publish(.chat, conversation: conversation) { ChatRecord(snapshot, autoModeDefault: autoModeDefault) }
            }
            for ref in Set(batch.chats) {
                // Auto mode changed: read the chat again rather than trust the cache.
                guard let conversation = lookUp(ref) else { continue }
                known[ref] = conversation
                let autoModeDefault = autoModeDefault
                publish(.chat, conversation: conversation) { ChatRecord(conversation, autoModeDefault: autoModeDefault) }
            }
        }
    }

    func finish() {
        continuation.finish()
    }

    private func lookUp(_ ref: ChatRef) -> Conversation? {
        do {
            return try conversations.conversation(source: ref.source.rawValue, platformChatID: ref.platformChatID)
        } catch {
            logger.error("live stream: could not read a chat", metadata: ["error": "\(error)"])
            return nil
        }
    }

    private struct Envelope<Record: Encodable & Sendable>: Encodable, Sendable {
        var type: String
        var record: Record
    }

    private func publish<Record: Encodable & Sendable>(_ kind: LiveEvent.Kind, conversation: Conversation, record: @escaping @Sendable () -> Record) {
        let payload = LivePayload {
            let envelope = Envelope(type: kind.rawValue, record: record())
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
            return (try? encoder.encode(envelope)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        }
        log.publish(kind: kind, chatID: String(conversation.id), source: conversation.source, payload: payload)
    }
}

/// Runs the publisher for the server's lifetime.
struct LivePublisherService: Service {
    let publisher: LivePublisher

    func run() async throws {
        await withGracefulShutdownHandler {
            await publisher.run()
        } onGracefulShutdown: {
            publisher.finish()
            publisher.log.closeAll()
        }
    }
}
