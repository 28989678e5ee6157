import ArgumentParser
import Flows
import Foundation
import Server
import Storage

/// `--db` for the commands that work on the server's own database (backup, restore): by
/// default the `DATABASE_PATH` that `replyflow serve` would use, from the environment,
/// then the `.env` file, as `serve` reads them.
struct ServerDatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "The server's SQLite database (default: DATABASE_PATH from the environment or the .env file, else data/replyflow.sqlite).")
    var db: String?

    @Option(name: .customLong("env-file"), help: "The .env file to read DATABASE_PATH (and the command's other settings) from.")
    var envFile = ".env"

    func databasePath(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if let db { return db }
        if let path = environment["DATABASE_PATH"], !path.isEmpty { return path }
        do {
            return try DotEnv.load(path: envFile)["DATABASE_PATH"].flatMap { $0.isEmpty ? nil : $0 } ?? ServerConfiguration().databasePath
        } catch {
            throw CommandFailure("\(error)")
        }
    }
}

extension ServerDatabaseOptions {
    /// Refuses, in one line, a path where no database is or one holding something else (a
    /// flow file, events), before opening it would make it a database: for the commands that
    /// read what the server or `replay --db` stored.
    static func requireDatabase(at path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CommandFailure("no database at \(path); run the server or `replyflow replay --db \(path)` first, or pass --db")
        }
        let kind = FileKind.of(path)
        // An empty file is a database SQLite has not written to yet.
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        if kind != .database, size > 0 {
            throw CommandFailure(FileKind.wrongPathMessage(path, kind: kind, wanted: "the server's SQLite database (--db)"))
        }
    }

    /// Opens the server's database at `path` after `requireDatabase(at:)`; a database that
    /// cannot be opened is one line too.
    static func openExisting(_ path: String) throws -> ReplyflowDatabase {
        try requireDatabase(at: path)
        do {
            return try ReplyflowDatabase(path: path)
        } catch {
            throw CommandFailure("cannot open the database \(path): \(error)")
        }
    }

    /// `zone`, else the `TIMEZONE` that `replyflow serve` would use, from the environment,
    /// then the `.env` file, else UTC.
    func timeZone(_ zone: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TimeZone {
        var name = zone ?? environment["TIMEZONE"].flatMap { $0.isEmpty ? nil : $0 }
        if name == nil {
            do {
                name = try DotEnv.load(path: envFile)["TIMEZONE"].flatMap { $0.isEmpty ? nil : $0 }
            } catch {
                throw CommandFailure("\(error)")
            }
        }
        guard let name else { return TimeZone(identifier: "UTC")! }
        guard let timeZone = TimeZone(identifier: name) else {
            throw ValidationError("unknown time zone '\(name)'; use an IANA name such as Europe/Moscow")
        }
        return timeZone
    }
}
