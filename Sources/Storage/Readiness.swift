import GRDB
import GRDBSQLite

extension ReplyflowDatabase {
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
}

/// Why the database does not take writes.
public struct ReadinessFailure: Error, CustomStringConvertible {
    public var description: String
}
