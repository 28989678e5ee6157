import Flows
import Foundation
import GRDB

/// A write waiting for a group commit: the bulk writer's rows (`BufferedStateStore`), and
/// the outbox worker's delivery results (`OutboxStore`).
///
/// Boxed (`indirect`): a write is copied into the store's queue and again into the commit
/// queue, and copying a message's strings one by one cost more than the box.
indirect enum PendingWrite: Sendable {
    case user(id: String, BufferedStateStore.UserNote)
    case chat(source: ChatSource, userID: String, autoMode: Bool, at: Date)
    case marker(userID: String, key: String, period: String, at: Date)
    case message(id: Int64, StoredMessage)
    case forward(groupMessageID: Int64, userID: String, at: Date)
    case assignment(experiment: String, userID: String, variant: String, at: Date)
    case exposure(experiment: String, userID: String, variant: String, at: Date)
    case conversion(experiment: String, userID: String, variant: String, at: Date)
    case trace(RunResult, kind: EventKind, at: Date)
    /// A forward of any channel's chat, recorded by the outbox as it reaches the group.
    case chatForward(groupMessageID: Int64, userID: String, source: ChatSource, at: Date)
    case outboxStatus(id: Int64, status: OutboxItem.Status, attempts: Int, next: Date, error: String?, at: Date)
    /// A write of the server's own (devices, seen updates, topics) that must land in the
    /// same transaction as the runtime's writes around it.
    case custom(@Sendable (Database) throws -> Void)

    /// The one statement this write is a row of; nil for the writes that are not one row
    /// (a custom write, a trace).
    var statement: StateStatement? {
        switch self {
        case .user: .upsertUser
        case .chat: .upsertChat
        case .marker: .insertMarker
        case .message: .insertMessage
        case .chatForward: .insertChatForward
        case .outboxStatus: .updateOutboxStatus
        case .forward: .insertForward
        case .assignment: .insertAssignment
        case .exposure: .upsertExposure
        case .conversion: .insertConversion
        case .custom, .trace: nil
        }
    }

    /// Binds this write's row, in the order of its statement's parameters.
    func bind(_ row: inout BulkBinder) {
        switch self {
        case let .user(id, note):
            row.text(id); row.text(note.name); row.date(note.firstAt); row.date(note.lastAt); row.integer(Int64(note.inbound))
        case let .chat(source, userID, autoMode, at):
            row.text(source.rawValue); row.text(userID); row.bool(autoMode); row.date(at)
        case let .marker(userID, key, period, at):
            row.text(userID); row.text(key); row.text(period); row.date(at)
        case let .message(id, message):
            row.integer(id); row.text(message.userID); row.text(message.source.rawValue); row.text(message.direction.rawValue)
            row.text(message.text); row.text(message.media.rawValue); row.date(message.at); row.text(message.flow); row.text(message.photoURL)
            row.text(message.platformMessageID); row.text(message.senderName); row.text(message.author.rawValue)
            row.text(message.transcript); row.text(message.audioLocation)
        case let .chatForward(groupMessageID, userID, source, at):
            row.integer(groupMessageID); row.text(userID); row.date(at); row.text(source.rawValue)
        case let .outboxStatus(id, status, attempts, next, error, at):
            row.text(status.rawValue); row.integer(Int64(attempts)); row.date(next); row.text(error); row.date(at); row.integer(id)
        case let .forward(groupMessageID, userID, at):
            row.integer(groupMessageID); row.text(userID); row.date(at)
        case let .assignment(experiment, userID, variant, at), let .exposure(experiment, userID, variant, at), let .conversion(experiment, userID, variant, at):
            row.text(experiment); row.text(userID); row.text(variant); row.date(at)
        case .custom, .trace:
            assertionFailure("not a one-row write")
        }
    }

    func execute(_ statements: inout Statements) throws {
        switch self {
        case let .custom(write):
            // It may touch any table: the rows held back for multi-row inserts go first.
            try statements.writeHeldRows()
            try write(statements.db)
        case let .trace(result, kind, at):
            let trigger = result.trigger?.rawValue
            if result.flows.isEmpty {
                try statements.run(.insertTrace) { row in
                    row.date(at); row.text(kind.rawValue); row.text(trigger); row.text(result.userID)
                    row.text(result.note ?? "no flow listens to this trigger"); row.text(nil); row.text(nil); row.text(nil); row.text(nil); row.text(nil)
                }
            }
            for outcome in result.flows {
                try statements.run(.insertTrace) { row in
                    row.date(at); row.text(kind.rawValue); row.text(trigger); row.text(result.userID)
                    row.text(result.note); row.text(outcome.name); row.text(outcome.result.rawValue); row.text(outcome.reason); row.text(outcome.variant)
                    row.text(result.actionLines(of: outcome.name))
                }
            }
        default:
            try statements.run(self)
        }
    }
}
