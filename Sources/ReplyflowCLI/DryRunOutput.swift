import Flows
import Foundation

/// The human form of a run, for people checking a change.
enum DryRunText {
    static func render(_ result: RunResult, event: InboundEvent, console: Console) -> String {
        var lines: [String] = []
        let who = result.userID.map { "user \($0)" } ?? "no user"
        lines.append(console.bold("Event") + ": \(event.kind.rawValue) from \(who) at \(Timestamp.format(event.at))")
        guard let trigger = result.trigger else {
            lines.append("No flow runs: \(result.note ?? "no trigger")")
            return lines.joined(separator: "\n")
        }
        lines.append(console.bold("Trigger") + ": \(trigger.rawValue)")
        if result.flows.isEmpty {
            lines.append("No flow listens to \(trigger.rawValue).")
        }
        for flow in result.flows {
            switch flow.result {
            case .ran:
                var line = "  " + console.green("ran") + "      \(flow.name)"
                if let variant = flow.variant { line += " (variant \(variant))" }
                if let reason = flow.reason { line += ": \(reason)" }
                lines.append(line)
            case .skipped:
                lines.append("  " + console.yellow("skipped") + "  \(flow.name): \(flow.reason ?? "")")
            }
        }
        if result.actions.isEmpty {
            lines.append(console.bold("Actions") + ": none")
        } else {
            lines.append(console.bold("Actions") + ":")
            for action in result.actions {
                var line = "  \(action.type)"
                if let value = action.value { line += " \(value)" }
                if let title = action.title { line += " [\(title)]" }
                if let text = action.text { line += ": \"\(text)\"" }
                lines.append(line + console.dim("  (\(action.flow))"))
            }
        }
        for exposure in result.exposures { lines.append("Exposure: \(exposure.experiment) → \(exposure.variant)") }
        for conversion in result.conversions { lines.append("Conversion: \(conversion.experiment) → \(conversion.variant)") }
        return lines.joined(separator: "\n")
    }
}
