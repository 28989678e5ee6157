import ArgumentParser
import Flows
import Foundation
import PostgresStorage
import Server
import Storage

/// `replyflow events export`: the server's stored inbound events as replay lines.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "The inbound events the server stored.",
        subcommands: [ExportCommand.self]
    )

    struct ExportCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write the stored inbound events as JSON lines in the replay format, oldest first.",
            discussion: """
                Customers' messages (app, Telegram, Instagram), the first history fetch of each user's day and staff replies \
                from the Telegram group, read from the server's database (--db: a file or a postgres:// URL; default: \
                DATABASE_URL or DATABASE_PATH as serve reads them). Feed the file to `replyflow replay`, for example \
                `replyflow replay events.jsonl --flows DRAFT --compare flows`.
                """
        )

        @OptionGroup var database: ServerDatabaseOptions

        @Option(name: .long, help: "How far back: 30m, 12h, 7d, 2w, or a moment such as 2026-11-21T00:00:00Z or 2026-11-21 (in the server's TIMEZONE).")
        var since = "7d"

        @Option(name: .long, help: "Up to this moment (default: now); the same forms as --since.")
        var until: String?

        func run() async throws {
            try await Self.export(
                from: try database.location(), since: since, until: until, now: Date(), zone: try database.timeZone(nil), console: Console.standard())
        }

        private static let blockingReads = BlockingWorkExecutor(label: "replyflow.events-export")

        /// What `--since` and `--until` take, for their errors.
        static let accepted = "a span back from now such as 30m, 12h, 7d or 2w, or a moment such as 2026-11-21T09:00:00+03:00 or 2026-11-21"

        static func export(
            from location: ServerDatabaseLocation, since: String, until: String?, now: Date, zone: TimeZone = TimeZone(identifier: "UTC")!,
            console: Console
        ) async throws {
            guard let start = TimeText.pointInTime(since, now: now, zone: zone) else {
                throw CommandFailure("--since \(since): not \(accepted)")
            }
            var end: Date?
            if let until {
                guard let parsed = TimeText.pointInTime(until, now: now, zone: zone) else { throw CommandFailure("--until \(until): not \(accepted)") }
                end = parsed
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let write = { (record: EventRecord) throws in console.line(String(decoding: try encoder.encode(record), as: UTF8.self)) }
            try await location.read(
                sqlite: { database in
                    // The SQLite read blocks its thread: off Swift's cooperative pool.
                    try await withTaskExecutorPreference(Self.blockingReads) { try database.forEachInboundEvent(since: start, until: end, write) }
                },
                postgres: { try await $0.forEachInboundEvent(since: start, until: end, write) })
        }
    }
}
