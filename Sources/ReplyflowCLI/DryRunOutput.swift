import Flows
import Foundation

/// The dry-run JSON object (a contract: `actions` and `flows` with these fields).
struct DryRunJSON: Encodable {
    /// For replay: the input line this object answers (1-based), so output line N is input event N.
    var line: Int?
    /// For replay: the event's user id, to find a user's events without reading the input.
    var user: String?
    var trigger: String?
    var note: String?
    var actions: [ActionJSON]
    var flows: [FlowJSON]
    var exposures: [ExperimentJSON]
    var conversions: [ExperimentJSON]

    struct ActionJSON: Encodable {
        var flow: String
        var type: String
        var text: String?
        var title: String?
        var value: String?
    }

    struct FlowJSON: Encodable {
        var name: String
        var result: String
        var reason: String?
        var variant: String?

        // `reason` is always present (null when the flow ran), as the contract lists it.
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(result, forKey: .result)
            try container.encode(reason, forKey: .reason)
            try container.encodeIfPresent(variant, forKey: .variant)
        }

        enum CodingKeys: String, CodingKey { case name, result, reason, variant }
    }

    struct ExperimentJSON: Encodable {
        var experiment: String
        var variant: String
    }

    /// For replay: a line that is not an event, in its place in the output.
    struct LineErrorJSON: Encodable {
        var line: Int
        var column: Int
        var error: String
    }

    init(_ result: RunResult, line: Int? = nil) {
        self.line = line
        user = line == nil ? nil : result.userID
        trigger = result.trigger?.rawValue
        note = result.note
        actions = result.actions.map { ActionJSON(flow: $0.flow, type: $0.type, text: $0.text, title: $0.title, value: $0.value) }
        flows = result.flows.map { FlowJSON(name: $0.name, result: $0.result.rawValue, reason: $0.reason, variant: $0.variant) }
        exposures = result.exposures.map { ExperimentJSON(experiment: $0.experiment, variant: $0.variant) }
        conversions = result.conversions.map { ExperimentJSON(experiment: $0.experiment, variant: $0.variant) }
    }

    static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

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
