import ArgumentParser
import Foundation
import Server

/// `--db` for the commands that work on the server's own database (backup, restore): by
/// default the `DATABASE_PATH` that `replyflow serve` would use, from the environment,
/// then the `.env` file, as `serve` reads them.
struct ServerDatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "The server's SQLite database (default: DATABASE_PATH from the environment or the .env file, else data/replyflow.sqlite).")
    var db: String?

    @Option(name: .customLong("env-file"), help: "The .env file to read DATABASE_PATH from.")
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
