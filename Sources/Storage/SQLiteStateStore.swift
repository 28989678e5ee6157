import Flows
import Foundation
import GRDB

/// The runtime's state in SQLite (`FlowStateStore` over GRDB).
///
/// Every method is one statement on a cached prepared statement. Callers that run many
/// events (replay, tests) wrap them in `batch` so thousands of writes share a transaction;
/// a failed statement is kept in `lastError` and reported by the caller rather than thrown
/// through the runtime, which has no database concerns of its own.
public final class SQLiteStateStore: FlowStateStore {
    public let database: ReplyflowDatabase
    /// The first storage error since the last `takeError()`; nil when all went well.
    public private(set) var lastError: Error?

    public init(database: ReplyflowDatabase) {
        self.database = database
    }

    /// Opens a transaction that spans the following calls until `commit()`.
    public func begin() throws {
        try database.writer.inDatabase { try $0.execute(sql: "BEGIN IMMEDIATE") }
    }

    public func commit() throws {
        try database.writer.inDatabase { db in
            if db.isInsideTransaction { try db.execute(sql: "COMMIT") }
        }
    }

    public func takeError() -> Error? {
        defer { lastError = nil }
        return lastError
    }

    // MARK: Statement helpers

    private func write(_ sql: String, _ arguments: StatementArguments) {
        do {
            try database.writer.inDatabase { db in
                try db.cachedStatement(sql: sql).execute(arguments: arguments)
            }
        } catch {
            if lastError == nil { lastError = error }
        }
    }

    private func read<T>(_ default: T, _ body: (Database) throws -> T) -> T {
        do {
            return try database.writer.inDatabase(body)
        } catch {
            if lastError == nil { lastError = error }
            return `default`
        }
    }

    // MARK: FlowStateStore

    public func noteUser(id: String, name: String?, at: Date, inbound: Bool) -> Int {
        read(0) { db in
            let statement = try db.cachedStatement(sql: """
                INSERT INTO users (id, name, first_seen_at, last_seen_at, inbound_count) VALUES (?1, ?2, ?3, ?3, ?4)
                ON CONFLICT (id) DO UPDATE SET name = coalesce(?2, name), last_seen_at = ?3, inbound_count = inbound_count + ?4
                RETURNING inbound_count - ?4
                """)
            return try Int.fetchOne(statement, arguments: [id, name, at.timeIntervalSince1970, inbound ? 1 : 0]) ?? 0
        }
    }

    public func autoMode(source: ChatSource, userID: String) -> Bool? {
        read(nil) { db in
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT auto_mode FROM chats WHERE source = ? AND user_id = ?"), arguments: [source.rawValue, userID])
        }
    }

    public func setAutoMode(_ on: Bool, source: ChatSource, userID: String, at: Date) {
        write("""
            INSERT INTO chats (source, user_id, auto_mode, updated_at) VALUES (?1, ?2, ?3, ?4)
            ON CONFLICT (source, user_id) DO UPDATE SET auto_mode = ?3, updated_at = ?4
            """, [source.rawValue, userID, on, at.timeIntervalSince1970])
    }

    public func hasMarker(userID: String, key: String, period: String) -> Bool {
        read(false) { db in
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM markers WHERE user_id = ? AND key = ? AND period = ?"), arguments: [userID, key, period]) ?? false
        }
    }

    public func setMarker(userID: String, key: String, period: String, at: Date) {
        write("INSERT OR IGNORE INTO markers (user_id, key, period, created_at) VALUES (?, ?, ?, ?)", [userID, key, period, at.timeIntervalSince1970])
    }

    public func storeMessage(_ message: StoredMessage) -> Int64 {
        read(0) { db in
            try db.cachedStatement(sql: "INSERT INTO messages (user_id, source, direction, text, media, created_at, flow) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .execute(arguments: [message.userID, message.source.rawValue, message.direction.rawValue, message.text, message.media.rawValue, message.at.timeIntervalSince1970, message.flow])
            return db.lastInsertedRowID
        }
    }

    public func saveGroupForward(groupMessageID: Int64, userID: String, at: Date) {
        write("INSERT OR REPLACE INTO group_forwards (group_message_id, user_id, created_at) VALUES (?, ?, ?)", [groupMessageID, userID, at.timeIntervalSince1970])
    }

    public func userForGroupMessage(_ groupMessageID: Int64) -> String? {
        read(nil) { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT user_id FROM group_forwards WHERE group_message_id = ?"), arguments: [groupMessageID])
        }
    }

    public func assignment(experiment: String, userID: String) -> String? {
        read(nil) { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT variant FROM experiment_assignments WHERE experiment = ? AND user_id = ?"), arguments: [experiment, userID])
        }
    }

    public func saveAssignment(experiment: String, userID: String, variant: String, at: Date) {
        write("INSERT OR REPLACE INTO experiment_assignments (experiment, user_id, variant, assigned_at) VALUES (?, ?, ?, ?)", [experiment, userID, variant, at.timeIntervalSince1970])
    }

    public func recordExposure(experiment: String, variant: String, userID: String, at: Date) {
        write("""
            INSERT INTO experiment_exposures (experiment, user_id, variant, first_at, exposure_count) VALUES (?1, ?2, ?3, ?4, 1)
            ON CONFLICT (experiment, user_id) DO UPDATE SET exposure_count = exposure_count + 1
            """, [experiment, userID, variant, at.timeIntervalSince1970])
    }

    public func firstExposure(experiment: String, userID: String) -> (variant: String, at: Date)? {
        read(nil) { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT variant, first_at FROM experiment_exposures WHERE experiment = ? AND user_id = ?"), arguments: [experiment, userID]) else { return nil }
            return (variant: row[0], at: Date(timeIntervalSince1970: row[1]))
        }
    }

    public func recordConversion(experiment: String, variant: String, userID: String, at: Date) -> Bool {
        read(false) { db in
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO experiment_conversions (experiment, user_id, variant, converted_at) VALUES (?, ?, ?, ?)")
                .execute(arguments: [experiment, userID, variant, at.timeIntervalSince1970])
            return db.changesCount > 0
        }
    }

    public func recordTrace(_ result: RunResult, event: InboundEvent) {
        let sql = "INSERT INTO run_traces (at, event_kind, trigger, user_id, note, flow, result, reason, variant) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
