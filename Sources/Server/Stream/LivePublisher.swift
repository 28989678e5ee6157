import Flows
import Foundation
import Logging
import ServiceLifecycle
import Storage
import Synchronization

/// Turns what the engine committed into stream events (`message` and `chat` records, as
/// the `/api` shows them), off the engine's actor and in commit order: the live events of
/// a server that is alone on its database (SQLite). Ids come from the clock.
final class LivePublisher: LiveSource {
    let log: LiveEventLog
    private let conversations: any ConversationQueries
    private let autoModeDefault: Bool
    private let logger: Logger
    /// Commits not yet published, taken in batches: under load the publisher wakes once
    /// for many commits and looks up all their new chats in one read.
    private let pending = Mutex<[CommittedRun]>([])
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init(log: LiveEventLog, conversations: any ConversationQueries, autoModeDefault: Bool, logger: Logger) {
        self.log = log
        self.conversations = conversations
        self.autoModeDefault = autoModeDefault
        self.logger = logger
        (wakeups, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Called by the engine after each commit; returns at once.
    func committed(_ committed: CommittedRun) {
        pending.withLock { $0.append(committed) }
        wake.yield()
    }

    /// Publishes until the stream ends (shutdown).
    func run() async {
        var known: [ChatRef: Conversation] = [:]
        for await _ in wakeups {
            let batch = pending.withLock { pending in
                defer { pending = [] }
                return pending
            }
            // Chats changed by auto mode are read again rather than trusted from the cache.
            let changed = Set(batch.flatMap(\.chats))
            for ref in changed { known[ref] = nil }
            let mentioned = Set(batch.flatMap { $0.messages.map { ChatRef(source: $0.message.source, platformChatID: $0.message.userID) } })
            // Bounded: cleared before the look-up, so every chat of the batch is read again.
            if known.count + mentioned.count > 50_000 { known.removeAll(keepingCapacity: true) }
            let unknown = mentioned.filter { known[$0] == nil }.union(changed)
            for conversation in await lookUp(Array(unknown)) {
                known[ChatRef(source: conversation.source, platformChatID: conversation.platformChatID)] = conversation
            }
            var drafts: [LiveDraft] = []
            for committed in batch {
                for (id, message) in committed.messages {
                    let ref = ChatRef(source: message.source, platformChatID: message.userID)
                    guard var conversation = known[ref] else { continue }
                    conversation.updatedAt = max(conversation.updatedAt, message.at)
                    known[ref] = conversation
                    // Records are built (and encoded) only when a subscriber first needs them.
                    let snapshot = conversation, autoModeDefault = autoModeDefault, delivery = committed.sending[id]
                    drafts.append(
                        draft(.message, conversation: conversation) {
                            MessageRecord(
                                ConversationMessage(
                                    id: id, source: message.source, conversationID: snapshot.id, direction: message.direction.rawValue,
                                    text: message.text, media: message.media.rawValue, photoURL: message.photoURL, createdAt: message.at,
                                    userID: message.userID, userName: snapshot.name, flow: message.flow, senderName: message.senderName,
                                    platformMessageID: message.platformMessageID, delivery: delivery))
                        })
                    drafts.append(draft(.chat, conversation: conversation) { ChatRecord(snapshot, autoModeDefault: autoModeDefault) })
                }
                for ref in Set(committed.chats) {
                    guard let conversation = known[ref] else { continue }
                    let autoModeDefault = autoModeDefault
                    drafts.append(draft(.chat, conversation: conversation) { ChatRecord(conversation, autoModeDefault: autoModeDefault) })
                }
            }
            log.publish(drafts)
        }
    }

    func finish() {
        wake.finish()
    }

    /// Every event this server shows is published as soon as it is committed here.
    func catchUp(after id: Int64) async {}

    private func lookUp(_ refs: [ChatRef]) async -> [Conversation] {
        do {
            return try await conversations.conversations(of: refs.map { ($0.source, $0.platformChatID) })
        } catch {
            logger.error("live stream: could not read chats", metadata: ["error": "\(error)"])
            return []
        }
    }

    private func draft<Record: Encodable & Sendable>(_ kind: LiveEvent.Kind, conversation: Conversation, record: @escaping @Sendable () -> Record) -> LiveDraft
    {
        LiveDraft(kind: kind, chatID: String(conversation.id), source: conversation.source, payload: LivePayload(kind, record: record))
    }
}

/// Runs the publisher for the server's lifetime.
struct LivePublisherService: Service {
    let publisher: any LiveSource

    /// On shutdown the streams end; a read waiting for a database that is away is
    /// cancelled rather than waited out.
    func run() async throws {
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown { await publisher.run() }
        } onGracefulShutdown: {
            publisher.finish()
            publisher.log.closeAll()
        }
    }
}
