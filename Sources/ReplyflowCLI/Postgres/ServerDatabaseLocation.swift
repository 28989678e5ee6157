import Foundation
import Logging
import PostgresStorage
import Server
import Storage

/// Where a command that reads the server's data finds it: the SQLite file, or the
/// PostgreSQL database several instances share.
enum ServerDatabaseLocation {
    case sqlite(String)
    case postgres(DatabaseURL, setting: String)
}

extension ServerDatabaseOptions {
    /// `--db` (a file, or a `postgres://` URL), else `DATABASE_URL` or `DATABASE_PATH` from
    /// the environment or the .env file, read as `serve` reads them (both set is the same
    /// one-line error as at the server's start).
    func location(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServerDatabaseLocation {
        if let db {
            return db.contains("://") ? .postgres(try Self.parse(db, setting: "--db"), setting: "--db") : .sqlite(db)
        }
        do {
            let (path, url) = try ServerConfiguration.database(environment: environment, dotEnv: DotEnv.load(path: envFile))
            return url.map { .postgres($0, setting: "DATABASE_URL") } ?? .sqlite(path)
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    private static func parse(_ text: String, setting: String) throws -> DatabaseURL {
        do {
            return try DatabaseURL.parse(text, setting: setting)
        } catch {
            throw CommandFailure(error.description)
        }
    }
}

/// The stored experiment counts, from either database.
enum ExperimentCountsReader {
    static func read(_ location: ServerDatabaseLocation) async throws -> (keys: [String], counts: [String: [String: (exposures: Int, conversions: Int)]]) {
        switch location {
        case .sqlite(let path):
            return try await ServerDatabaseOptions.openExisting(path).experimentCounts()
        case .postgres(let url, let setting):
            do {
                return try await ReplyflowPostgres.withDatabase(url, setting: setting, logger: MigrateToPostgresCommand.quietLogger()) { postgres in
                    try await postgres.experimentCounts()
                }
            } catch let failure as PostgresStartupCheck.Failure {
                throw CommandFailure(failure.description)
            }
        }
    }
}
