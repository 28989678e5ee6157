import ArgumentParser
import Flows
import Foundation
import Storage

/// `replyflow experiments report`: per-variant results of every experiment.
struct ExperimentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiments",
        abstract: "Experiment results.",
        subcommands: [ReportCommand.self]
    )

    struct ReportCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Exposures, conversions, rates and the difference to the first variant, with a 95% interval and p-value.",
            discussion: """
                Reads the server's database and the flows for variant weights. --db is a SQLite file \
                or a postgres:// URL; without it, DATABASE_URL (PostgreSQL) or DATABASE_PATH (SQLite) \
                as serve would use them.
                """
        )

        @OptionGroup var flowsOptions: FlowsOptions

        @OptionGroup var database: ServerDatabaseOptions

        func run() async throws {
            let code = try await Self.report(flowsDirectory: flowsOptions.flows, database: try database.location(), console: Console.standard())
            if code != 0 { throw ExitCode(code) }
        }

        static func report(flowsDirectory: String, databasePath: String, console: Console) async throws -> Int32 {
            try await report(flowsDirectory: flowsDirectory, database: .sqlite(databasePath), console: console)
        }

        static func report(flowsDirectory: String, database: ServerDatabaseLocation, console: Console) async throws -> Int32 {
            let stored = try await database.read(sqlite: { try await $0.experimentCounts() }, postgres: { try await $0.experimentCounts() })
            let flows = FlowLoader.load(directory: flowsDirectory).flowSet
            if flows == nil {
                console.errorLine("warning: the flows in \(flowsDirectory) have errors (run replyflow check \(flowsDirectory)); weights are taken as equal")
            }
            let results = ExperimentResult.all(flows: flows, storedKeys: stored.keys) { stored.counts[$0] ?? [:] }
            if results.isEmpty {
                console.line("No experiments: no flow has an 'experiment' and the database holds no exposures.")
                return 0
            }
            let style = ExperimentReport.Style(bold: { console.bold($0) }, warning: { console.red($0) }, dim: { console.dim($0) })
            for result in results {
                console.line(ExperimentReport.render(result, style: style))
                console.line()
            }
            return 0
        }
    }
}
