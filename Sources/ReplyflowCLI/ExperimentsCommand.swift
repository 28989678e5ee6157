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

    struct ReportCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Exposures, conversions, rates and the difference to the first variant, with a 95% interval and p-value.",
            discussion: "Reads the server's database (--db, default the DATABASE_PATH serve would use) and the flows for variant weights."
        )

        @OptionGroup var flowsOptions: FlowsOptions

        @OptionGroup var database: ServerDatabaseOptions

        func run() throws {
            let code = try Self.report(flowsDirectory: flowsOptions.flows, databasePath: try database.databasePath(), console: Console.standard())
            if code != 0 { throw ExitCode(code) }
        }

        static func report(flowsDirectory: String, databasePath: String, console: Console) throws -> Int32 {
            let database = try ServerDatabaseOptions.openExisting(databasePath)
            let flows = FlowLoader.load(directory: flowsDirectory).flowSet
            let queries = StateQueries(database: database)
            if flows == nil {
                console.errorLine("warning: the flows in \(flowsDirectory) have errors (run replyflow check \(flowsDirectory)); weights are taken as equal")
            }
            let results = try ExperimentResult.all(flows: flows, storedKeys: try queries.experimentKeys()) { try queries.experimentCounts(experiment: $0) }
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
