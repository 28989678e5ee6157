import ArgumentParser
import Foundation
import Logging
import PostgresStorage
import Server
import Storage

/// `replyflow migrate-to-postgres`: copies the server's SQLite database into an empty
/// PostgreSQL database, to move a deployment to several instances (docs/scaling.md).
struct MigrateToPostgresCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-to-postgres",
        abstract: "Copy the SQLite database into an empty PostgreSQL database.",
        discussion: """
            Creates the schema on the PostgreSQL database, then copies every table in one
            transaction, and prints the rows copied per table. The target must hold no
            Replyflow rows: it never merges. Stop the server first (its database must not
            change during the copy). `replyflow serve` does not run on PostgreSQL yet: see
            docs/scaling.md.
            """
    )

    @OptionGroup var database: ServerDatabaseOptions

    @Option(
        name: .long,
        help:
            "The PostgreSQL database, postgres://USER:PASSWORD@HOST:PORT/DATABASE (default: DATABASE_URL from the environment or the .env file, which keeps the password out of the process list)."
    )
    var to: String?

    func run() async throws {
        let path = try database.databasePath()
        let (text, setting) = try target()
        let url: DatabaseURL
        do {
            url = try DatabaseURL.parse(text, setting: setting)
        } catch {
            throw CommandFailure(error.description)
        }
        _ = try await Self.migrate(databasePath: path, to: url, setting: setting, console: .standard())
    }

    /// `--to`, else DATABASE_URL as `serve` reads it, with the name to use in errors.
    private func target(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (String, String) {
        if let to { return (to, "--to") }
        if let url = environment["DATABASE_URL"], !url.isEmpty { return (url, "DATABASE_URL") }
        let fromFile: String?
        do {
            fromFile = try DotEnv.load(path: database.envFile)["DATABASE_URL"]
        } catch {
            throw CommandFailure("\(error)")
        }
        guard let fromFile, !fromFile.isEmpty else {
            throw CommandFailure("no PostgreSQL database given: pass --to postgres://USER:PASSWORD@HOST:PORT/DATABASE or set DATABASE_URL")
        }
        return (fromFile, "DATABASE_URL")
    }

    /// Copies the database at `databasePath` into `url`'s; returns the rows copied per table,
    /// in copy order, after printing them.
    static func migrate(
        databasePath: String, to url: DatabaseURL, setting: String = "--to", console: Console,
        logger: Logger = MigrateToPostgresCommand.quietLogger()
    ) async throws -> [(table: String, rows: Int)] {
        try ServerDatabaseOptions.requireDatabase(at: databasePath)
        // Held for the whole copy: no server may write the file meanwhile.
        let servingLock: ServingLock
        do {
            servingLock = try ServingLock(databasePath: databasePath)
        } catch let held as ServingLock.Held {
            throw CommandFailure("\(held); stop it first: the copy must read a database nobody writes")
        }
        defer { withExtendedLifetime(servingLock) {} }
        let source = try ServerDatabaseOptions.openExisting(databasePath)
        let export = TableExport(source)
        let tables = try await SQLiteToPostgres.plan(export)

        let started = ContinuousClock.now
        let copied: [(table: String, rows: Int)]
        do {
            copied = try await ReplyflowPostgres.withDatabase(url, setting: setting, logger: logger) { postgres in
                try await SQLiteToPostgres.copy(tables, from: export, into: postgres, logger: logger)
            }
        } catch let failure as PostgresStartupCheck.Failure {
            throw CommandFailure(failure.description)
        } catch let failure as PostgresImport.Failure {
            throw CommandFailure(failure.description)
        }
        let elapsed = ContinuousClock.now - started

        console.line("Copied \(databasePath) into \(url) in one transaction:")
        let width = max(5, copied.map(\.table.count).max() ?? 0)
        for (table, rows) in copied {
            console.line("  " + table.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + String(rows))
        }
        let total = copied.reduce(0) { $0 + $1.rows }
        let seconds = Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds)
        console.line(
            "  " + "total".padding(toLength: width, withPad: " ", startingAt: 0)
                + "  \(total) rows in \(copied.count) tables, \(String(format: "%.1f", seconds)) s")
        return copied
    }

    /// postgres-nio's own log lines are for debugging the driver; the command prints what matters.
    static func quietLogger() -> Logger {
        var logger = Logger(label: "replyflow.migrate-to-postgres")
        logger.logLevel = .error
        return logger
    }
}
