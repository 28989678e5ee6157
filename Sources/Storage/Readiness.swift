import Foundation
import GRDB
import GRDBSQLite

/// What `/ready` and `/metrics` read of the server's database, whichever it is.
public protocol ServerDatabaseStatus: Sendable {
    /// Whether the database takes writes now; throws the reason otherwise.
    func probeWrites() async throws
    /// Whether the database answers a read now (cheap: `/health` asks on every call);
    /// throws the reason otherwise.
    func probeReads() async throws
    /// The outbox's pending and failed items by kind, and the oldest pending item's age.
    func outboxStatistics(now: Date) async throws -> OutboxStatistics
}

extension ReplyflowDatabase: ServerDatabaseStatus {
    /// Whether the database takes writes now: the file is writable and the write lock can
    /// be had (`BEGIN IMMEDIATE`, then nothing written). Throws the reason otherwise. Waits
    /// as long as any write would (the busy timeout) when another process holds the lock.
    public func probeWrites() async throws {
        try await writer.writeWithoutTransaction { db in
            if sqlite3_db_readonly(db.sqliteConnection, "main") == 1 {
                throw ReadinessFailure(description: "the database file is read-only")
            }
            try db.inTransaction(.immediate) { .rollback }
        }
    }

    public func probeReads() async throws {
        _ = try await writer.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }
}

/// Why the database does not take writes.
public struct ReadinessFailure: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}
