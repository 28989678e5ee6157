import Flows
import Foundation

/// How the editor shows "what would change": counts in words, then the events that came
/// out differently, by flow, each with the customer's text and what was done before and
/// would be done now.
enum ComparisonView {
    /// Action types as a person says them.
    static func label(_ type: String) -> String {
        switch type {
        case "greet": "Greetings"
        case "reply": "Replies"
        case "forward_to_group": "Forwards to the staff group"
        case "push": "Push notifications"
        case "hand_off": "Hand-offs to people (auto mode off)"
        case "set_auto_mode": "Auto mode switched on"
        case "ask_assistant": "Questions to the AI"
        case "transcribe": "Voice messages transcribed"
        case "broadcast": "Broadcasts"
        case "stop": "Stops"
        default: type
        }
    }

    static func values(_ outcome: FlowComparisonRun.Outcome, days: Int, time: DisplayTime) -> [String: Any] {
        let comparison = outcome.comparison
        let events = comparison.events
        var summary = "\(events) event\(events == 1 ? "" : "s") of the last \(days) day\(days == 1 ? "" : "s") run through both: "
        if events == 0 {
            summary = "No stored events in the last \(days) day\(days == 1 ? "" : "s"): there is nothing to compare on yet."
        } else if comparison.changedEvents == 0 {
            summary += "the draft does exactly what the live flows did."
        } else {
            summary += "\(comparison.changedEvents) would come out differently."
        }
        var values: [String: Any] = ["summary": summary + " Nothing was sent.", "changed": comparison.changedEvents > 0]
        if outcome.truncated { values["truncated"] = String(FlowComparisonRun.maximumEvents) }
        values["actions"] = comparison.shownActions.map { action -> [String: Any] in
            [
                "type": action.type, "label": label(action.type), "live": String(action.live), "draft": String(action.draft),
                "change": action.change == 0 ? "0" : String(format: "%+d", action.change),
                "changeClass": action.change == 0 ? "same" : action.change > 0 ? "more" : "fewer",
            ]
        }
        values["flows"] = comparison.flows.map { flow -> [String: Any] in
            var group: [String: Any] = [
                "flow": flow.flow, "events": String(flow.events),
                "examples": flow.examples.map { example -> [String: Any] in
                    var row: [String: Any] = [
                        "at": time.short(example.at), "atFull": time.full(example.at), "kind": example.kind.rawValue,
                        "before": example.before, "after": example.after, "beforeResult": example.beforeResult, "afterResult": example.afterResult,
                    ]
                    if let user = example.userID { row["user"] = user }
                    if let text = example.text, !text.isEmpty { row["text"] = text }
                    return row
                },
            ]
            if flow.events > flow.examples.count { group["more"] = String(flow.events - flow.examples.count) }
            return group
        }
        return values
    }
}
