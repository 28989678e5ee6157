import Flows
import Foundation

/// Counts kept while replaying, printed at the end.
struct ReplaySummary {
    var events = 0
    var badLines = 0
    var triggers: [String: Int] = [:]
    var flowRuns: [String: (ran: Int, skipped: Int)] = [:]
    var flowOrder: [String] = []
    var actions: [String: Int] = [:]
    var exposures: [String: Int] = [:]
    var conversions: [String: Int] = [:]

    mutating func add(_ result: RunResult) {
        events += 1
        triggers[result.trigger?.rawValue ?? "(no trigger)", default: 0] += 1
        for flow in result.flows {
            if flowRuns[flow.name] == nil { flowOrder.append(flow.name) }
            if flow.result == .ran { flowRuns[flow.name, default: (0, 0)].ran += 1 } else { flowRuns[flow.name, default: (0, 0)].skipped += 1 }
        }
        for action in result.actions { actions[action.type, default: 0] += 1 }
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
        for (trigger, count) in triggers.sorted(by: { $0.key < $1.key }) { lines.append(row(trigger, number(count))) }
        lines.append(console.bold("Flows:"))
        if flowOrder.isEmpty { lines.append("  none ran") }
        for name in flowOrder {
            let counts = flowRuns[name]!
            lines.append(row(name, "ran \(number(counts.ran)), skipped \(number(counts.skipped))"))
        }
        lines.append(console.bold("Actions:"))
        if actions.isEmpty { lines.append("  none") }
        for (type, count) in actions.sorted(by: { $0.key < $1.key }) { lines.append(row(type, number(count))) }
        if !exposures.isEmpty || !conversions.isEmpty {
            lines.append(console.bold("Experiments (exposures, conversions):"))
            for key in Set(exposures.keys).union(conversions.keys).sorted() {
                lines.append(row(key, "\(number(exposures[key] ?? 0)) exposures, \(number(conversions[key] ?? 0)) conversions"))
            }
        }
        return lines.joined(separator: "\n")
    }
}
