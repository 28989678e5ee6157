import Flows
import Foundation
import GRDB
import Synchronization
import Testing

@testable import Storage
import TestSupport

@Suite("Backups: a consistent copy while the server writes, and a restore that refuses what would lose data", .machineShare)
struct DatabaseBackupTests {
    private static let at = Date(timeIntervalSince1970: 1_795_600_000)

    /// One run as the server commits it: a message and the outbox item that forwards it.
    private static func run(_ index: Int) -> RunRecord {
        var record = RunRecord()
        record.messages = [StoredMessage(userID: "user-\(index % 50)", source: .app, direction: .user, text: "message \(index)", at: at)]
        record.outbox = [OutboxDraft(kind: .telegramForward, lane: "group", payload: "{\"n\":\(index)}", status: .pending, at: at)]
        return record
    }

    private static func count(_ table: String, in path: String) throws -> Int {
        // The released ReplyflowDatabase's checkpointer may still be closing its connection.
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        return try DatabaseQueue(path: path, configuration: configuration).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 }
    }

    @Test("a backup taken under steady commits is whole: integrity ok, and every run in it has both its rows")
    func backupUnderWriteLoad() async throws {
        let path = temporaryDatabasePath()
        let directory = (path as NSString).deletingLastPathComponent
        let database = try ReplyflowDatabase(path: path)
        for index in 0..<2_000 { _ = try await database.commit(Self.run(index)) }
        let stop = Atomic(false)
        let writer = Task {
            var index = 2_000
            while !stop.load(ordering: .relaxed) {
                _ = try await database.commit(Self.run(index))
                index += 1
            }
            return index
        }
        try await Task.sleep(for: .milliseconds(50))
        let out = directory + "/backup.sqlite"
        let summary = try DatabaseBackup.backup(from: path, to: out)
        stop.store(true, ordering: .relaxed)
        let written = try await writer.value

        let copy = try DatabaseQueue(path: out)
        let (verdict, journal, messages, outbox) = try await copy.read { db in
            (
                try String.fetchAll(db, sql: "PRAGMA integrity_check"), try String.fetchOne(db, sql: "PRAGMA journal_mode"),
                try Int.fetchOne(db, sql: "SELECT count(*) FROM messages") ?? 0, try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox") ?? 0
            )
        }
        #expect(verdict == ["ok"])
        #expect(journal == "delete", "a backup is one file, with no log beside it")
        #expect(messages >= 2_000 && messages <= written, "\(messages) messages of \(written) written")
        #expect(messages == outbox, "a run is in the copy whole or not at all")
        #expect(summary.messages == messages && summary.chats == 50)
        #expect(!FileManager.default.fileExists(atPath: out + "-wal"))
    }

    @Test("a backup never overwrites a file, and refuses what is not a Replyflow database")
    func backupRefusals() throws {
        let path = temporaryDatabasePath()
        let directory = (path as NSString).deletingLastPathComponent
        _ = try ReplyflowDatabase(path: path)
        let existing = directory + "/existing.sqlite"
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: existing))
        #expect(throws: DatabaseBackup.Failure.self) { try DatabaseBackup.backup(from: path, to: existing) }
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "keep me")

        let other = directory + "/other.sqlite"
        try DatabaseQueue(path: other).write { db in try db.execute(sql: "CREATE TABLE notes (text TEXT)") }
        let error = #expect(throws: DatabaseBackup.Failure.self) { try DatabaseBackup.backup(from: other, to: directory + "/copy.sqlite") }
        #expect(error?.description == "\(other) is not a Replyflow database")
        #expect(!FileManager.default.fileExists(atPath: directory + "/copy.sqlite"))
    }

    @Test("a restore puts the backup in place and keeps the database it replaced")
    func restoreReplacesAndKeeps() async throws {
        let path = temporaryDatabasePath()
        let directory = (path as NSString).deletingLastPathComponent
        var database: ReplyflowDatabase? = try ReplyflowDatabase(path: path)
        for index in 0..<3 { _ = try await database?.commit(Self.run(index)) }
        let backup = directory + "/backup.sqlite"
        _ = try DatabaseBackup.backup(from: path, to: backup)
        for index in 3..<10 { _ = try await database?.commit(Self.run(index)) }
        database = nil

        let restored = try DatabaseBackup.restore(backup, to: path, now: Self.at)
        #expect(restored.summary.messages == 3)
        #expect(try Self.count("messages", in: path) == 3)
        let kept = try #require(restored.replacedKeptAt)
        #expect(kept == path + ".replaced-20261125-094640")
        #expect(try Self.count("messages", in: kept) == 10, "the replaced database, log and all, is kept")
        #expect(try await ReplyflowDatabase(path: path).writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox") } == 3)
    }

    @Test("a restore refuses while a server holds the database, and leaves it alone")
    func restoreRefusesWhileServing() async throws {
        let path = temporaryDatabasePath()
        let directory = (path as NSString).deletingLastPathComponent
        let database = try ReplyflowDatabase(path: path)
        _ = try await database.commit(Self.run(0))
        let backup = directory + "/backup.sqlite"
        _ = try DatabaseBackup.backup(from: path, to: backup)
        _ = try await database.commit(Self.run(1))

        var serving: ServingLock? = try ServingLock(databasePath: path)
        let error = #expect(throws: DatabaseBackup.Failure.self) { try DatabaseBackup.restore(backup, to: path) }
        #expect(error?.description == "a replyflow server is running on \(path); stop it, then restore")
        #expect(try await database.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM messages") } == 2)
        #expect(throws: ServingLock.Held.self) { try ServingLock(databasePath: path) }
        withExtendedLifetime(serving) {}
        serving = nil
        #expect(try DatabaseBackup.restore(backup, to: path).summary.messages == 1)
    }

    @Test("a restore refuses a damaged backup and one written by a newer Replyflow")
    func restoreRefusesBadBackups() throws {
        let path = temporaryDatabasePath()
        let directory = (path as NSString).deletingLastPathComponent
        _ = try ReplyflowDatabase(path: path)
        let newer = directory + "/newer.sqlite"
        _ = try DatabaseBackup.backup(from: path, to: newer)
        try DatabaseQueue(path: newer).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future')")
        }
        let error = #expect(throws: DatabaseBackup.Failure.self) { try DatabaseBackup.restore(newer, to: path) }
        #expect(error?.description.contains("written by a newer Replyflow (it has the migration 'v99: from the future')") == true)

        let damaged = directory + "/damaged.sqlite"
        _ = try DatabaseBackup.backup(from: path, to: damaged)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: damaged))
        for offset in stride(from: 4_096 * 2, to: min(bytes.count, 4_096 * 6), by: 1) { bytes[offset] = 0xA5 }
        try bytes.write(to: URL(fileURLWithPath: damaged))
        #expect(throws: DatabaseBackup.Failure.self) { try DatabaseBackup.restore(damaged, to: path) }
        #expect(FileManager.default.fileExists(atPath: path), "the database in place stays")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".replaced-") }.isEmpty)
    }
}
