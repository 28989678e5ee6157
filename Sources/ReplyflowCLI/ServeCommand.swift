import ArgumentParser
import Foundation
import Logging
import PostgresStorage
import Server
import Storage

/// `replyflow serve`: the server, configured from the environment and `.env`.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the server: the mobile app's API, socket.io, Telegram, push.",
        discussion: """
            Settings come from the environment and from a .env file in the working directory
            (see .env.example). With no settings at all the server starts on data/replyflow.sqlite
            and records what it would have sent to Telegram and FCM.
            """
    )

    @Option(name: .customLong("env-file"), help: "The .env file to read.")
    var envFile = ".env"

    func run() async throws {
        let configuration: ServerConfiguration
        do {
            configuration = try ServerConfiguration.load(environment: ProcessInfo.processInfo.environment, dotEnv: DotEnv.load(path: envFile))
        } catch {
            throw CommandFailure("\(error)")
        }
        // LOG_FORMAT's handler; every line has its secrets taken out (`SecretRedactor`).
        let logger = ServerLog.logger(for: configuration)
        if let url = configuration.databaseURL {
            try await Self.serveOnPostgres(url, configuration: configuration, logger: logger)
        } else {
            try await Self.serveOnSQLite(configuration, logger: logger)
        }
    }

    /// One instance on the SQLite file at DATABASE_PATH.
    private static func serveOnSQLite(_ configuration: ServerConfiguration, logger: Logger) async throws {
        // One server per database file, held until the process ends: a second one would
        // deliver the same outbox items again, and `replyflow restore` waits for none.
        let servingLock: ServingLock
        do {
            servingLock = try ServingLock(databasePath: configuration.databasePath)
        } catch let held as ServingLock.Held {
            throw CommandFailure("\(held); stop it first, or give this server its own DATABASE_PATH")
        } catch {
            throw CommandFailure("\(error)")
        }
        defer { withExtendedLifetime(servingLock) {} }
        try await serve(configuration, storage: nil, logger: logger)
    }

    /// One of any number of instances on the PostgreSQL database at DATABASE_URL: the
    /// database is checked (one line when it cannot be reached), migrated (once, whichever
    /// instance comes first) and its pool runs for as long as the server.
    private static func serveOnPostgres(_ url: DatabaseURL, configuration: ServerConfiguration, logger: Logger) async throws {
        do {
            try await ReplyflowPostgres.withDatabase(url, logger: logger) { postgres in
                do {
                    let applied = try await postgres.migrate()
                    if !applied.isEmpty { logger.notice("PostgreSQL migrated", metadata: ["applied": "\(applied.map(\.version))"]) }
                } catch {
                    throw CommandFailure("DATABASE_URL: \(error)")
                }
                let storage: ServerStorage
                do {
                    storage = try ServerStorage.postgres(postgres, logger: logger)
                } catch {
                    throw CommandFailure("DATABASE_URL: \(error)")
                }
                try await serve(configuration, storage: storage, logger: logger)
            }
        } catch let failure as PostgresStartupCheck.Failure {
            throw CommandFailure(failure.description)
        }
    }

    private static func serve(_ configuration: ServerConfiguration, storage: ServerStorage?, logger: Logger) async throws {
        let built: ReplyflowServer.ServerApp
        do {
            built = try ReplyflowServer.buildApplication(
                configuration: configuration, logger: logger, storage: storage,
                onServerRunning: { port in
                    logger.notice("replyflow is listening", metadata: ["address": "\(configuration.host):\(port)"])
                })
        } catch let error as StartupError {
            throw CommandFailure(error.description)
        }
        do {
            try await built.runUntilStopped(grace: .seconds(configuration.shutdownGraceSeconds), logger: logger)
        } catch {
            throw CommandFailure(Self.describe(error, configuration: configuration))
        }
    }

    /// One line for what usually goes wrong when starting to listen.
    static func describe(_ error: Error, configuration: ServerConfiguration) -> String {
        let text = "\(error)"
        if text.contains("Address already in use"), let metricsPort = configuration.metricsPort {
            return
                "port \(configuration.port) on \(configuration.host) or METRICS_PORT \(metricsPort) on \(configuration.metricsHost) is already in use; stop the other server or change SERVER_PORT or METRICS_PORT"
        }
        if text.contains("Address already in use") {
            return "port \(configuration.port) on \(configuration.host) is already in use; stop the other server or set SERVER_PORT"
        }
        if text.contains("Permission denied") {
            return "not allowed to listen on \(configuration.host):\(configuration.port); choose a port above 1024 with SERVER_PORT"
        }
        return "the server stopped: \(text)"
    }
}
