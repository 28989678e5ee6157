import Flows
import Foundation

/// `replay --compare`'s report: the action counts of both sets, then the events that came
/// out differently, grouped by flow, with a few examples each. `--json` gives the same as
/// one JSON object.
enum ComparisonOutput {
    static func text(_ comparison: FlowSetComparison, badLines: Int, seconds: Double, console: Console) -> String {
        var lines: [String] = []
        let span = comparison.firstEventAt.map { first in
            " (\(Timestamp.format(first)) to \(Timestamp.format(comparison.lastEventAt ?? first)))"
        } ?? ""
        lines.append(
            console.bold("Compared \(comparison.events) event\(comparison.events == 1 ? "" : "s")") + span
                + String(format: " in %.2f s: ", seconds)
                + (comparison.changedEvents == 0
                    ? "the draft does the same as the live flows." : "\(comparison.changedEvents) would come out differently.")
                + " Nothing was sent.")
        if badLines > 0 { lines.append(console.red("\(badLines) line\(badLines == 1 ? "" : "s") could not be read (see the errors above)")) }
        lines.append("")
        let widths = [max(16, comparison.shownActions.map(\.type.count).max() ?? 0), 8, 8, 8]
        func row(_ cells: [String]) -> String {
            "  " + cells.enumerated().map { index, cell in
                index == 0 ? cell.padding(toLength: widths[0], withPad: " ", startingAt: 0) : String(repeating: " ", count: max(0, widths[index] - cell.count)) + cell
            }.joined(separator: " ")
        }
        lines.append(console.bold(row(["action", "live", "draft", "change"])))
        for action in comparison.shownActions {
            let change = action.change == 0 ? "0" : String(format: "%+d", action.change)
            lines.append(row([action.type, String(action.live), String(action.draft), action.change == 0 ? change : console.yellow(change)]))
        }
        for flow in comparison.flows {
            lines.append("")
            lines.append(console.bold("Flow '\(flow.flow)'") + ": \(flow.events) event\(flow.events == 1 ? "" : "s") differ")
            for example in flow.examples {
                let who = example.userID.map { " user \($0)" } ?? ""
                let said = example.text.map { $0.isEmpty ? "" : ": " + Self.quoted($0) } ?? ""
                lines.append("  \(Timestamp.format(example.at)) \(example.kind.rawValue)\(who)\(said)")
                lines.append("    before: " + (example.before.isEmpty ? console.dim("nothing (\(example.beforeResult))") : example.before.joined(separator: "; ")))
                lines.append("    after:  " + (example.after.isEmpty ? console.dim("nothing (\(example.afterResult))") : example.after.joined(separator: "; ")))
            }
            if flow.events > flow.examples.count { lines.append(console.dim("  … and \(flow.events - flow.examples.count) more")) }
        }
        return lines.joined(separator: "\n")
    }

    /// A customer's text on one line, cut short: an example, not the transcript.
    static func quoted(_ text: String) -> String {
        let line = text.replacingOccurrences(of: "\n", with: " ")
        return "\"" + (line.count > 80 ? String(line.prefix(79)) + "…" : line) + "\""
    }

    /// The comparison for machines.
    struct JSON: Encodable {
        var events: Int
        var changed_events: Int
        var bad_lines: Int
        var first_event_at: String?
        var last_event_at: String?
        var actions: [Action]
        var flows: [Flow]

        struct Action: Encodable {
            var type: String
            var live: Int
            var draft: Int
        }

        struct Flow: Encodable {
            var flow: String
            var events: Int
            var examples: [Example]
        }

        struct Example: Encodable {
            var at: String
            var kind: String
            var user: String?
            var text: String?
            var before: [String]
            var after: [String]
            var before_result: String
            var after_result: String
        }

        init(_ comparison: FlowSetComparison, badLines: Int) {
            events = comparison.events
            changed_events = comparison.changedEvents
            bad_lines = badLines
            first_event_at = comparison.firstEventAt.map(Timestamp.format)
            last_event_at = comparison.lastEventAt.map(Timestamp.format)
            actions = comparison.shownActions.map { Action(type: $0.type, live: $0.live, draft: $0.draft) }
            flows = comparison.flows.map { flow in
                Flow(
                    flow: flow.flow, events: flow.events,
                    examples: flow.examples.map {
                        Example(
                            at: Timestamp.format($0.at), kind: $0.kind.rawValue, user: $0.userID, text: $0.text, before: $0.before, after: $0.after,
                            before_result: $0.beforeResult, after_result: $0.afterResult)
                    })
            }
        }
    }
}
