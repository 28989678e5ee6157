import Flows
import Foundation
import GRDB

@testable import Storage

/// The reference the bulk writer is held to, call by call: each call one statement,
/// committed at once (what the server did before runs were committed whole).
///
/// The calls both stores take, for tests that make the same calls on each.
protocol StateCalls: AnyObject {
    func noteUser(id: String, name: String?, at: Date, inbound: Bool) -> Int
    func autoMode(source: ChatSource, userID: String) -> Bool?
    func setAutoMode(_ on: Bool, source: ChatSource, userID: String, at: Date)
    func hasMarker(userID: String, key: String, period: String) -> Bool
    func setMarker(userID: String, key: String, period: String, at: Date)
    @discardableResult func storeMessage(_ message: StoredMessage) -> Int64
    func saveGroupForward(groupMessageID: Int64, userID: String, at: Date)
    func userForGroupMessage(_ groupMessageID: Int64) -> String?
    func assignment(experiment: String, userID: String) -> String?
    func saveAssignment(experiment: String, userID: String, variant: String, at: Date)
    func recordExposure(experiment: String, variant: String, userID: String, at: Date)
    func firstExposure(experiment: String, userID: String) -> (variant: String, at: Date)?
    func recordConversion(experiment: String, variant: String, userID: String, at: Date) -> Bool
    func recordTrace(_ result: RunResult, event: InboundEvent)
}

extension BufferedStateStore: StateCalls {}

final class DirectStateStore: StateCalls {
    let database: ReplyflowDatabase
    /// The first storage error since the last `takeError()`; nil when all went well.
    private(set) var lastError: Error?

    init(database: ReplyflowDatabase) {
        self.database = database
    }

    func takeError() -> Error? {
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

    // MARK: Calls

    func noteUser(id: String, name: String?, at: Date, inbound: Bool) -> Int {
        read(0) { db in
            let statement = try db.cachedStatement(sql: StateSQL.upsertUser + " RETURNING inbound_count - ?5")
            return try Int.fetchOne(statement, arguments: [id, name, at.timeIntervalSince1970, at.timeIntervalSince1970, inbound ? 1 : 0]) ?? 0
        }
    }

    func autoMode(source: ChatSource, userID: String) -> Bool? {
        read(nil) { db in
            try Bool.fetchOne(db.cachedStatement(sql: StateSQL.selectAutoMode), arguments: [source.rawValue, userID])
        }
    }

    func setAutoMode(_ on: Bool, source: ChatSource, userID: String, at: Date) {
        write(StateSQL.upsertChat, [source.rawValue, userID, on, at.timeIntervalSince1970])
    }

    func hasMarker(userID: String, key: String, period: String) -> Bool {
        read(false) { db in
            try Bool.fetchOne(db.cachedStatement(sql: StateSQL.selectMarker), arguments: [userID, key, period]) ?? false
        }
    }

    func setMarker(userID: String, key: String, period: String, at: Date) {
        write(StateSQL.insertMarker, [userID, key, period, at.timeIntervalSince1970])
    }

    @discardableResult public func storeMessage(_ message: StoredMessage) -> Int64 {
        read(0) { db in
            try db.cachedStatement(sql: StateSQL.insertMessage)
                .execute(arguments: [
                    nil, message.userID, message.source.rawValue, message.direction.rawValue, message.text, message.media.rawValue,
                    message.at.timeIntervalSince1970, message.flow, message.photoURL,
                    message.platformMessageID, message.senderName, message.author.rawValue, message.transcript, message.audioLocation,
                ])
            return db.lastInsertedRowID
        }
    }

    func saveGroupForward(groupMessageID: Int64, userID: String, at: Date) {
        write(StateSQL.insertForward, [groupMessageID, userID, at.timeIntervalSince1970])
    }

    func userForGroupMessage(_ groupMessageID: Int64) -> String? {
        read(nil) { db in
            try String.fetchOne(db.cachedStatement(sql: StateSQL.selectForward), arguments: [groupMessageID])
        }
    }

    func assignment(experiment: String, userID: String) -> String? {
        read(nil) { db in
            try String.fetchOne(db.cachedStatement(sql: StateSQL.selectAssignment), arguments: [experiment, userID])
        }
    }

    func saveAssignment(experiment: String, userID: String, variant: String, at: Date) {
        write(StateSQL.insertAssignment, [experiment, userID, variant, at.timeIntervalSince1970])
    }

    func recordExposure(experiment: String, variant: String, userID: String, at: Date) {
        write(StateSQL.upsertExposure, [experiment, userID, variant, at.timeIntervalSince1970])
    }

    func firstExposure(experiment: String, userID: String) -> (variant: String, at: Date)? {
        read(nil) { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: StateSQL.selectExposure), arguments: [experiment, userID]) else { return nil }
            return (variant: row[0], at: Date(timeIntervalSince1970: row[1]))
        }
    }

    func recordConversion(experiment: String, variant: String, userID: String, at: Date) -> Bool {
        read(false) { db in
            try db.cachedStatement(sql: StateSQL.insertConversion)
                .execute(arguments: [experiment, userID, variant, at.timeIntervalSince1970])
            return db.changesCount > 0
        }
    }

    func recordTrace(_ result: RunResult, event: InboundEvent) {
        let sql = StateSQL.insertTrace
        let at = event.at.timeIntervalSince1970
        let trigger = result.trigger?.rawValue
        if result.flows.isEmpty {
            write(sql, [at, event.kind.rawValue, trigger, result.userID, result.note ?? "no flow listens to this trigger", nil, nil, nil, nil, nil])
            return
        }
        for outcome in result.flows {
            write(sql, [at, event.kind.rawValue, trigger, result.userID, result.note, outcome.name, outcome.result.rawValue, outcome.reason, outcome.variant,
                result.actionLines(of: outcome.name),
            ])
        }
    }
}
