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
            guard FileManager.default.fileExists(atPath: databasePath) else {
                throw CommandFailure("no database at \(databasePath); run the server or `replyflow replay --db \(databasePath)` first, or pass --db")
            }
            let kind = FileKind.of(databasePath)
            // An empty file is a database SQLite has not written to yet.
            let size = (try? FileManager.default.attributesOfItem(atPath: databasePath)[.size] as? Int) ?? 0
            if kind != .database, size > 0 {
                throw CommandFailure(FileKind.wrongPathMessage(databasePath, kind: kind, wanted: "the server's SQLite database (--db)"))
            }
            let flows = FlowLoader.load(directory: flowsDirectory).flowSet
            let queries = StateQueries(database: try ReplyflowDatabase(path: databasePath))
            var experiments: [(key: String, variants: [(String, Double)], flow: String?)] =
                flows?.experiments.map { pair in
                    (pair.experiment.key, pair.experiment.variants.map { ($0.name, $0.weight) }, pair.flow.name)
                } ?? []
            if flows == nil { console.errorLine("warning: the flows in \(flowsDirectory) could not be loaded; weights are taken as equal") }
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
                console.line(ExperimentReport.render(key: experiment.key, flow: experiment.flow, variants: variants, console: console))
                console.line()
            }
            return 0
        }
    }
}

/// The report table of one experiment.
enum ExperimentReport {
    static func render(key: String, flow: String?, variants: [VariantCounts], console: Console) -> String {
        var lines = [console.bold("Experiment \(key)") + (flow.map { " (flow '\($0)')" } ?? " (no longer in the flows)")]
        let comparisons = ExperimentStatistics.compare(variants)
        func percent(_ value: Double?) -> String { value.map { String(format: "%.2f%%", $0 * 100) } ?? "—" }
        func signed(_ value: Double) -> String { String(format: "%+.2f pp", value * 100) }
        let header = ["variant", "exposures", "conversions", "rate", "vs " + (variants.first?.name ?? "first"), "95% interval", "p-value"]
        var rows = [header]
        for comparison in comparisons {
            let interval = comparison.interval95.map { "[\(signed($0.lowerBound)), \(signed($0.upperBound))]" } ?? "—"
            let difference = comparison.difference.map(signed) ?? (comparison.name == variants.first?.name ? "(baseline)" : "—")
            let p = comparison.pValue.map { $0 < 0.0001 ? "<0.0001" : String(format: "%.4f", $0) } ?? "—"
            rows.append([comparison.name, String(comparison.exposures), String(comparison.conversions), percent(comparison.rate), difference, interval, p])
        }
        let widths = (0..<header.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            lines.append("  " + row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
        if let check = ExperimentStatistics.sampleRatio(variants) {
            if check.mismatch {
                lines.append(
                    console.red("  Warning: sample ratio mismatch")
                        + String(
                            format: " (chi-square %.2f, p = %.2g): exposures do not follow the weights; check assignment before trusting these results.",
                            check.chiSquare, check.pValue))
            } else {
                lines.append(console.dim(String(format: "  Sample ratio OK (p = %.3f).", check.pValue)))
            }
        } else {
            lines.append(console.dim("  No exposures yet."))
        }
        return lines.joined(separator: "\n")
    }
}
