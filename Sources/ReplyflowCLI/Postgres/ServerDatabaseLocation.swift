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

extension ServerDatabaseLocation {
    /// Reads the server's data wherever it is: `sqlite` on the opened file, `postgres` on
    /// a running pool. A file that is not there or not a database, or a PostgreSQL that
    /// cannot be reached, is one line (`CommandFailure`); so is a read that fails, naming
    /// where it read.
    func read<Result: Sendable>(
        sqlite: (ReplyflowDatabase) async throws -> Result, postgres: (ReplyflowPostgres) async throws -> Result
    ) async throws -> Result {
        switch self {
        case .sqlite(let path):
            let database = try ServerDatabaseOptions.openExisting(path)
            do {
                return try await sqlite(database)
            } catch let failure as CommandFailure {
                throw failure
            } catch {
                throw CommandFailure("cannot read \(path): \(error)")
            }
        case .postgres(let url, let setting):
            return try await Self.withPostgres(url, setting: setting, postgres)
        }
    }

    /// Runs `body` on a pool for `url`; a PostgreSQL that cannot be reached or a failure is
    /// one line (`CommandFailure`) naming the setting.
    static func withPostgres<Result: Sendable>(_ url: DatabaseURL, setting: String, _ body: (ReplyflowPostgres) async throws -> Result) async throws
        -> Result
    {
        do {
            return try await ReplyflowPostgres.withDatabase(url, setting: setting, logger: MigrateToPostgresCommand.quietLogger(), body)
        } catch let failure as PostgresStartupCheck.Failure {
            throw CommandFailure(failure.description)
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure("cannot read PostgreSQL (\(setting)): \(error)")
        }
    }
}
