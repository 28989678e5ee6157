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
            try ServerDatabaseOptions.requireDatabase(at: databasePath)
            let flows = FlowLoader.load(directory: flowsDirectory).flowSet
            let queries = StateQueries(database: try ReplyflowDatabase(path: databasePath))
            var experiments: [(key: String, variants: [(String, Double)], flow: String?)] =
                flows?.experiments.map { pair in
                    (pair.experiment.key, pair.experiment.variants.map { ($0.name, $0.weight) }, pair.flow.name)
                } ?? []
            if flows == nil {
                console.errorLine("warning: the flows in \(flowsDirectory) have errors (run replyflow check \(flowsDirectory)); weights are taken as equal")
            }
            for key in try queries.experimentKeys() where !experiments.contains(where: { $0.key == key }) {
                let names = try queries.experimentCounts(experiment: key).keys.sorted()
                experiments.append((key, names.map { ($0, 1) }, nil))
            }
            if experiments.isEmpty {
                console.line("No experiments: no flow has an 'experiment' and the database holds no exposures.")
                return 0
            }
            for experiment in experiments {
                let counts = try queries.experimentCounts(experiment: experiment.key)
                let variants = experiment.variants.map { name, weight in
                    VariantCounts(name: name, weight: weight, exposures: counts[name]?.exposures ?? 0, conversions: counts[name]?.conversions ?? 0)
                }
                let state: ExperimentReport.FlowState = experiment.flow.map { .flow($0) } ?? (flows == nil ? .flowsHaveErrors : .gone)
                let style = ExperimentReport.Style(bold: { console.bold($0) }, warning: { console.red($0) }, dim: { console.dim($0) })
                console.line(ExperimentReport.render(key: experiment.key, flow: state, variants: variants, style: style))
                console.line()
            }
            return 0
        }
    }
}
