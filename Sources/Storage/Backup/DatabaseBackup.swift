import Foundation
import GRDB

/// Copies of the database file for `replyflow backup` and `replyflow restore`.
///
/// A backup is SQLite's online backup of the whole file from one read transaction: the
/// database as of one commit, taken while the server goes on writing. It is written beside
/// its destination, checked with `PRAGMA integrity_check`, made a single file (rollback
/// journal, no `-wal` beside it) and only then renamed into place, so a backup file that
/// exists is whole. Uploads are plain files and are not in it.
public enum DatabaseBackup {
    /// What a copy holds, for the command's report.
    public struct Summary: Sendable, Equatable {
        public var bytes: Int
        public var messages: Int
        public var chats: Int
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Copies the database at `path` to `destination`, which must not exist yet.
    public static func backup(from path: String, to destination: String) throws -> Summary {
        guard FileManager.default.fileExists(atPath: path) else { throw Failure(description: "no database at \(path)") }
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw Failure(description: "\(destination) already exists; choose a new name (a backup never overwrites a file)")
        }
        let source = try open(path)
        try requireReplyflowDatabase(source, path: path)
        let partial = destination + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        defer { removeDatabaseFiles(partial) }
        do {
            let copy = try DatabaseQueue(path: partial)
            try source.backup(to: copy)
            try copy.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
            try copy.close()
        } catch {
            throw Failure(description: "could not write the backup \(destination): \(error)")
        }
        let summary = try check(partial, name: destination)
        try FileManager.default.moveItem(atPath: partial, toPath: destination)
        return summary
    }

    /// What `restore` did: the copy now in place, and where the database it replaced was kept.
    public struct Restored: Sendable {
        public var summary: Summary
        /// Nil when there was no database at the path.
        public var replacedKeptAt: String?
    }

    /// Puts the backup `source` in place of the database at `path`. Refuses while a server
    /// runs on `path`, a backup that fails its integrity check, one that is not a Replyflow
    /// database, and one written by a newer Replyflow (with migrations this one does not
    /// know). The database it replaces is kept beside it, not deleted.
    public static func restore(_ source: String, to path: String, now: Date = Date()) throws -> Restored {
        guard FileManager.default.fileExists(atPath: source) else { throw Failure(description: "no backup at \(source)") }
        let lock: ServingLock
        do {
            lock = try ServingLock(databasePath: path)
        } catch let held as ServingLock.Held {
            throw Failure(description: "\(held); stop it, then restore")
        }
        let summary = try check(source, name: source)
        try requireKnownMigrations(source)
        var keptAt: String?
        if FileManager.default.fileExists(atPath: path) {
            // Its log moves with it (a damaged file may not take a checkpoint), so what is
            // kept is the whole database under its new name.
            let kept = path + ".replaced-" + stamp(now)
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
                try FileManager.default.moveItem(atPath: path + suffix, toPath: kept + suffix)
            }
            keptAt = kept
        }
        let partial = path + ".restoring-\(ProcessInfo.processInfo.processIdentifier)"
        defer { try? FileManager.default.removeItem(atPath: partial) }
        try FileManager.default.copyItem(atPath: source, toPath: partial)
        try FileManager.default.moveItem(atPath: partial, toPath: path)
        withExtendedLifetime(lock) {}
        return Restored(summary: summary, replacedKeptAt: keptAt)
    }

    // MARK: Checks

    private static func open(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        do {
            return try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw Failure(description: "could not open \(path): \(error)")
        }
    }

    private static func requireReplyflowDatabase(_ database: DatabaseQueue, path: String) throws {
        let applied = try? database.read { db in try ReplyflowDatabase.migrator.appliedIdentifiers(db) }
        guard let applied, applied.contains("v1: runtime state") else {
            throw Failure(description: "\(path) is not a Replyflow database")
        }
    }

    /// Integrity, and what the copy holds.
    private static func check(_ path: String, name: String) throws -> Summary {
        let database = try open(path)
        try requireReplyflowDatabase(database, path: name)
        defer { try? database.close() }
        let verdict: [String], messages: Int, chats: Int
        do {
            (verdict, messages, chats) = try database.read { db in
                (
                    try String.fetchAll(db, sql: "PRAGMA integrity_check"),
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM messages") ?? 0,
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM conversations") ?? 0
                )
            }
        } catch let error as DatabaseError {
            // A page damaged badly enough stops the check itself.
            throw Failure(description: "\(name) is damaged (\(error.message ?? "SQLite error \(error.resultCode.rawValue)"))")
        }
        guard verdict == ["ok"] else {
            throw Failure(description: "\(name) is damaged (integrity check: \(verdict.prefix(3).joined(separator: "; ")))")
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        return Summary(bytes: bytes, messages: messages, chats: chats)
    }

    private static func requireKnownMigrations(_ path: String) throws {
        let database = try open(path)
        let applied = try database.read { db in try ReplyflowDatabase.migrator.appliedIdentifiers(db) }
        try database.close()
        let known = Set(ReplyflowDatabase.migrator.migrations)
        if let unknown = applied.subtracting(known).sorted().first {
            throw Failure(description: "\(path) was written by a newer Replyflow (it has the migration '\(unknown)'); restore it with that version")
        }
    }

    private static func removeDatabaseFiles(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    private static func stamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: date)
    }
}
