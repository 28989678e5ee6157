import Flows
import Foundation
import GRDB

/// The runtime's state in SQLite (`FlowStateStore` over GRDB).
///
/// Every method is one statement, committed at once: what the server needs, where each
/// request's state must be durable before it answers. Bulk runs use `BufferedStateStore`.
/// A failed statement is kept in `lastError` and reported by the caller rather than thrown
/// through the runtime, which has no database concerns of its own.
public final class SQLiteStateStore: FlowStateStore {
    public let database: ReplyflowDatabase
    /// The first storage error since the last `takeError()`; nil when all went well.
    public private(set) var lastError: Error?

    public init(database: ReplyflowDatabase) {
        self.database = database
    }

    public func takeError() -> Error? {
        defer { lastError = nil }
        return lastError
    }

    // MARK: Statement helpers

    private func write(_ sql: String, _ arguments: StatementArguments) {
        do {
            try database.writer.writeWithoutTransaction { db in
                try db.cachedStatement(sql: sql).execute(arguments: arguments)
            }
        } catch {
            if lastError == nil { lastError = error }
        }
    }

    private func read<T>(_ default: T, _ body: (Database) throws -> T) -> T {
        do {
            return try database.writer.writeWithoutTransaction(body)
        } catch {
            if lastError == nil { lastError = error }
            return `default`
        }
    }

    // MARK: FlowStateStore

    public func noteUser(id: String, name: String?, at: Date, inbound: Bool) -> Int {
        read(0) { db in
            let statement = try db.cachedStatement(sql: StateSQL.upsertUser + " RETURNING inbound_count - ?5")
            return try Int.fetchOne(statement, arguments: [id, name, at.timeIntervalSince1970, at.timeIntervalSince1970, inbound ? 1 : 0]) ?? 0
        }
    }

    public func autoMode(source: ChatSource, userID: String) -> Bool? {
        read(nil) { db in
            try Bool.fetchOne(db.cachedStatement(sql: StateSQL.selectAutoMode), arguments: [source.rawValue, userID])
        }
    }

    public func setAutoMode(_ on: Bool, source: ChatSource, userID: String, at: Date) {
        write(StateSQL.upsertChat, [source.rawValue, userID, on, at.timeIntervalSince1970])
    }

    public func hasMarker(userID: String, key: String, period: String) -> Bool {
        read(false) { db in
            try Bool.fetchOne(db.cachedStatement(sql: StateSQL.selectMarker), arguments: [userID, key, period]) ?? false
        }
    }

    public func setMarker(userID: String, key: String, period: String, at: Date) {
        write(StateSQL.insertMarker, [userID, key, period, at.timeIntervalSince1970])
    }

    @discardableResult public func storeMessage(_ message: StoredMessage) -> Int64 {
        read(0) { db in
            try db.cachedStatement(sql: StateSQL.insertMessage)
                .execute(arguments: [nil, message.userID, message.source.rawValue, message.direction.rawValue, message.text, message.media.rawValue, message.at.timeIntervalSince1970, message.flow, message.photoURL,
                               message.platformMessageID, message.senderName])
            return db.lastInsertedRowID
        }
    }

    public func saveGroupForward(groupMessageID: Int64, userID: String, at: Date) {
        write(StateSQL.insertForward, [groupMessageID, userID, at.timeIntervalSince1970])
    }

    public func userForGroupMessage(_ groupMessageID: Int64) -> String? {
        read(nil) { db in
            try String.fetchOne(db.cachedStatement(sql: StateSQL.selectForward), arguments: [groupMessageID])
        }
    }

    public func assignment(experiment: String, userID: String) -> String? {
        read(nil) { db in
            try String.fetchOne(db.cachedStatement(sql: StateSQL.selectAssignment), arguments: [experiment, userID])
        }
    }

    public func saveAssignment(experiment: String, userID: String, variant: String, at: Date) {
        write(StateSQL.insertAssignment, [experiment, userID, variant, at.timeIntervalSince1970])
    }

    public func recordExposure(experiment: String, variant: String, userID: String, at: Date) {
        write(StateSQL.upsertExposure, [experiment, userID, variant, at.timeIntervalSince1970])
    }

    public func firstExposure(experiment: String, userID: String) -> (variant: String, at: Date)? {
        read(nil) { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: StateSQL.selectExposure), arguments: [experiment, userID]) else { return nil }
            return (variant: row[0], at: Date(timeIntervalSince1970: row[1]))
        }
    }

    public func recordConversion(experiment: String, variant: String, userID: String, at: Date) -> Bool {
        read(false) { db in
            try db.cachedStatement(sql: StateSQL.insertConversion)
                .execute(arguments: [experiment, userID, variant, at.timeIntervalSince1970])
            return db.changesCount > 0
        }
    }

    public func recordTrace(_ result: RunResult, event: InboundEvent) {
        let sql = StateSQL.insertTrace
        let at = event.at.timeIntervalSince1970
        let trigger = result.trigger?.rawValue
        if result.flows.isEmpty {
            write(sql, [at, event.kind.rawValue, trigger, result.userID, result.note ?? "no flow listens to this trigger", nil, nil, nil, nil])
            return
        }
        for outcome in result.flows {
            write(sql, [at, event.kind.rawValue, trigger, result.userID, result.note, outcome.name, outcome.result.rawValue, outcome.reason, outcome.variant])
        }
    }
}
