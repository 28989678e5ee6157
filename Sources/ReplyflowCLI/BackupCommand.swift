import ArgumentParser
import Foundation
import Storage

/// `replyflow backup OUT`: a consistent copy of the server's database, taken while it runs.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the server's database to a new file, safely while the server runs.",
        discussion: """
            The copy is the database as of one moment (SQLite's online backup), checked with
            PRAGMA integrity_check before it is given its name. Uploaded photos are plain
            files in UPLOADS_DIR: copy that folder as well (see docs/deploying.md).
            """
    )

    @OptionGroup var database: ServerDatabaseOptions

    @Argument(help: "The backup file to write; it must not exist yet.")
    var out: String

    func run() throws {
        let path = try database.databasePath()
        let started = Date()
        let summary: DatabaseBackup.Summary
        do {
            summary = try DatabaseBackup.backup(from: path, to: out)
        } catch let failure as DatabaseBackup.Failure {
            throw CommandFailure(failure.description)
        }
        let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
        Console.standard().line("Backed up \(path) to \(out): \(Self.describe(summary)), integrity checked, in \(seconds) s.")
    }

    static func describe(_ summary: DatabaseBackup.Summary) -> String {
        let megabytes = String(format: "%.1f MB", Double(summary.bytes) / 1_048_576)
        return "\(megabytes), \(summary.messages) message\(summary.messages == 1 ? "" : "s") in \(summary.chats) chat\(summary.chats == 1 ? "" : "s")"
    }
}

/// `replyflow restore BACKUP`: puts a backup in place of the server's database.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put a backup in place of the server's database (stop the server first).",
        discussion: """
            Refuses while a replyflow server runs on the database, and refuses a backup that
            fails its integrity check or was written by a newer Replyflow. The database it
            replaces is kept beside it as <database>.replaced-<time>.
            """
    )

    @OptionGroup var database: ServerDatabaseOptions

    @Argument(help: "The backup file to restore.")
    var backup: String

    func run() throws {
        let path = try database.databasePath()
        let restored: DatabaseBackup.Restored
        do {
            restored = try DatabaseBackup.restore(backup, to: path)
        } catch let failure as DatabaseBackup.Failure {
            throw CommandFailure(failure.description)
        }
        let console = Console.standard()
        console.line("Restored \(path) from \(backup): \(BackupCommand.describe(restored.summary)).")
        if let kept = restored.replacedKeptAt { console.line("The database it replaced is kept at \(kept).") }
    }
}
