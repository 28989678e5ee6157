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
    /// `--db` (a file, or a `postgres://` URL), else `DATABASE_URL`, else `DATABASE_PATH`,
    /// from the environment or the .env file, as `serve` reads them; both of those set is
    /// the same one-line error as at the server's start.
    func location(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServerDatabaseLocation {
        if let db {
            return db.contains("://") ? .postgres(try Self.parse(db, setting: "--db"), setting: "--db") : .sqlite(db)
        }
        let file: [String: String]
        do {
            file = try DotEnv.load(path: envFile)
        } catch {
            throw CommandFailure("\(error)")
        }
        let url = environment["DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? file["DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        guard let url else { return .sqlite(try databasePath(environment: environment)) }
        let path = environment["DATABASE_PATH"].flatMap { $0.isEmpty ? nil : $0 } ?? file["DATABASE_PATH"].flatMap { $0.isEmpty ? nil : $0 }
        if path != nil {
            throw CommandFailure("DATABASE_URL and DATABASE_PATH are both set: keep DATABASE_URL for PostgreSQL or DATABASE_PATH for SQLite")
        }
        return .postgres(try Self.parse(url, setting: "DATABASE_URL"), setting: "DATABASE_URL")
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
