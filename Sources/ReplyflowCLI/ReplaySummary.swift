import Flows
import Foundation

/// Counts kept while replaying, printed at the end.
///
/// Flows and action types are few, so they are counted in short lists searched in
/// order: their names are the same strings event after event, and comparing those is
/// cheaper than hashing them for a dictionary on every event.
struct ReplaySummary {
    var events = 0
    var badLines = 0
    var triggers: [Trigger?: Int] = [:]
    /// In the order the flows first reported.
    var flowRuns: [(name: String, ran: Int, skipped: Int)] = []
    var actions: [(type: String, count: Int)] = []
    var exposures: [String: Int] = [:]
    var conversions: [String: Int] = [:]

    mutating func add(_ result: RunResult) {
        events += 1
        triggers[result.trigger, default: 0] += 1
        for flow in result.flows {
            let ran = flow.result == .ran
            if let index = flowRuns.firstIndex(where: { $0.name == flow.name }) {
                if ran { flowRuns[index].ran += 1 } else { flowRuns[index].skipped += 1 }
            } else {
                flowRuns.append((flow.name, ran ? 1 : 0, ran ? 0 : 1))
            }
        }
        for action in result.actions {
            if let index = actions.firstIndex(where: { $0.type == action.type }) {
                actions[index].count += 1
            } else {
                actions.append((action.type, 1))
            }
        }
        for exposure in result.exposures { exposures[exposure.experiment + " / " + exposure.variant, default: 0] += 1 }
        for conversion in result.conversions { conversions[conversion.experiment + " / " + conversion.variant, default: 0] += 1 }
    }

    func render(seconds: Double, console: Console) -> String {
        func number(_ value: Int) -> String {
            let digits = String(value)
            var result = ""
            for (index, character) in digits.reversed().enumerated() {
                if index > 0, index % 3 == 0 { result.append(",") }
                result.append(character)
            }
            return String(result.reversed())
        }
        func row(_ label: String, _ value: String) -> String {
            "  " + label.padding(toLength: max(label.count, 36), withPad: " ", startingAt: 0) + " " + value
        }
        var lines: [String] = []
        let rate = seconds > 0 ? Int(Double(events) / seconds) : 0
        lines.append(console.bold("Replayed \(number(events)) events") + String(format: " in %.2f s (%@ events/s)", seconds, number(rate)))
        if badLines > 0 { lines.append(console.red("\(number(badLines)) line\(badLines == 1 ? "" : "s") could not be read (see the errors above)")) }
        lines.append(console.bold("Events per trigger:"))
        let triggerCounts = triggers.map { (name: $0.key?.rawValue ?? "(no trigger)", count: $0.value) }
        for (trigger, count) in triggerCounts.sorted(by: { $0.name < $1.name }) { lines.append(row(trigger, number(count))) }
        lines.append(console.bold("Flows:"))
        if flowRuns.isEmpty { lines.append("  none ran") }
        for flow in flowRuns {
            lines.append(row(flow.name, "ran \(number(flow.ran)), skipped \(number(flow.skipped))"))
        }
        lines.append(console.bold("Actions:"))
        if actions.isEmpty { lines.append("  none") }
        for (type, count) in actions.sorted(by: { $0.type < $1.type }) { lines.append(row(type, number(count))) }
        if !exposures.isEmpty || !conversions.isEmpty {
            lines.append(console.bold("Experiments (exposures, conversions):"))
            for key in Set(exposures.keys).union(conversions.keys).sorted() {
                lines.append(row(key, "\(number(exposures[key] ?? 0)) exposures, \(number(conversions[key] ?? 0)) conversions"))
            }
        }
        return lines.joined(separator: "\n")
    }
}
