import ArgumentParser
import Flows
import Foundation
import PostgresStorage
import Server
import Storage

/// `replyflow customers erase`: forgets a customer on the server's database (safe while the
/// server runs: SQLite's WAL, one short transaction). The erasure itself is
/// `ReplyflowDatabase.eraseCustomer`, the same as the admin panel's.
struct CustomersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customers",
        abstract: "Act on a customer's stored data (safe while the server runs).",
        subcommands: [Erase.self]
    )

    /// The audit log's actor for these commands.
    static let actor = "command line"

    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "erase",
            abstract: "Remove everything stored about a customer, and say what was removed.",
            discussion: """
                Removes the customer's messages and their uploaded photos, devices (push tokens),
                markers, flow traces, experiment records, the inbox's conversation, deliveries
                still queued or done, and the AI's memory of the chat. An audit entry keeps the
                counts, not the id. Messages already copied into the Telegram staff group are
                Telegram's: delete them there. See docs/privacy.md.
                """
        )

        @Option(help: "The customer's channel: app, telegram or instagram.")
        var source: String
        @Option(help: "The customer's id on that channel (the app's user id, the Telegram chat id, the Instagram visitor id).")
        var id: String
        @Option(name: .customLong("uploads-dir"), help: "The uploads folder (default: UPLOADS_DIR from the environment or the .env file, else uploads).")
        var uploadsDir: String?
        @OptionGroup var database: ServerDatabaseOptions

        func validate() throws {
            guard ChatSource(rawValue: source) != nil else {
                throw ValidationError("--source must be app, telegram or instagram (got \"\(source)\")")
            }
        }

        func run() async throws {
            let source = ChatSource(rawValue: source) ?? .app, uploads = try uploadsDir ?? database.uploadsDirectory()
            switch try database.location() {
            case .sqlite(let path):
                let opened: ReplyflowDatabase
                do {
                    opened = try ReplyflowDatabase(path: path)
                } catch {
                    throw CommandFailure("cannot open the database \(path): \(error)")
                }
                try await CustomersCommand.erase(source: source, id: id, database: opened, uploadsDirectory: uploads, console: .standard())
            case .postgres(let url, let setting):
                try await ServerDatabaseLocation.withPostgres(url, setting: setting) { postgres in
                    try await CustomersCommand.erase(
                        source: source, id: id, database: PostgresCustomerErasure(postgres), uploadsDirectory: uploads, console: .standard())
                }
            }
        }
    }

    // MARK: The command as a library (tests call it)

    static func erase(source: ChatSource, id: String, database: any CustomerErasing, uploadsDirectory: String, console: Console) async throws {
        let erasure: CustomerErasure
        do {
            erasure = try await database.eraseCustomer(source: source, id: id, actor: actor, address: nil, uploadsDirectory: uploadsDirectory)
        } catch let error as CustomerErasureError {
            throw CommandFailure(error.description)
        }
        console.line("Erased the \(source.rawValue) customer \(id):")
        let width = erasure.counts.map(\.kind.count).max() ?? 0
        for count in erasure.counts {
            console.line("  " + count.kind.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(count.count)")
        }
        for file in erasure.uploadsNotRemoved {
            console.errorLine("warning: could not delete \(file): delete it by hand")
        }
        if source == .telegram {
            console.line("Messages already in the Telegram staff group stay there: delete them in Telegram.")
        }
    }
}

extension ServerDatabaseOptions {
    /// The `UPLOADS_DIR` that `replyflow serve` would use, from the environment, then the
    /// `.env` file, else its default.
    func uploadsDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if let path = environment["UPLOADS_DIR"], !path.isEmpty { return path }
        do {
            return try DotEnv.load(path: envFile)["UPLOADS_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? ServerConfiguration().uploadsDirectory
        } catch {
            throw CommandFailure("\(error)")
        }
    }
}
