import Flows
import Foundation
import Storage

/// How the traces page shows its filters and rows. Values are left out rather than empty:
/// Mustache shows a section for an empty text too.
struct TracesView {
    let time: DisplayTime
    /// Flow names to their file in the flows folder, for links to the editor: only flows
    /// the server runs whose file is there.
    let flowFiles: [String: String]

    static func resultLabel(_ result: TraceResult) -> String {
        switch result {
        case .ran: "ran"
        case .skipped: "skipped"
        case .noFlow: "no flow"
        }
    }

    func row(_ trace: TraceRow) -> [String: Any] {
        var values: [String: Any] = [
            "atShort": time.short(trace.at), "atFull": time.full(trace.at), "atISO": time.iso(trace.at),
            "result": Self.resultLabel(trace.result), "resultClass": trace.result.rawValue, "actions": trace.actions,
        ]
        let optional: [String: String?] = [
            "trigger": trace.trigger, "user": trace.userID, "flow": trace.flow, "reason": trace.reason, "note": trace.note, "variant": trace.variant,
        ]
        values.merge(optional.compactMapValues { $0?.isEmpty == false ? $0 : nil }) { _, new in new }
        // The event's kind, under its trigger when it says more (a history fetch that fired
        // nothing, a staff message that answers no forwarded one).
        if trace.event != trace.trigger { values["event"] = trace.event }
        if let chat = trace.chatID { values["chatHref"] = "/admin/chats/\(chat)" }
        if let flow = trace.flow, let file = flowFiles[flow] { values["flowHref"] = "/admin/flows/\(file)" }
        return values
    }

    /// The filter form: the running flows (and the one asked for, if it no longer runs),
    /// results, triggers and periods, with the current ones selected.
    static func form(_ request: TracesRequest, flows: [String]) -> [String: Any] {
        var names = flows
        if let flow = request.query.flow, !names.contains(flow) { names.append(flow) }
        func options(_ choices: [(String, String)], selected: String?) -> [[String: Any]] {
            choices.map { value, label in ["value": value, "label": label, "selected": value == (selected ?? "")] }
        }
        var values: [String: Any] = [
            "flows": options([("", "Any flow")] + names.sorted().map { ($0, $0) }, selected: request.query.flow),
            "results": options(
                [("", "Any result")] + TraceResult.allCases.map { ($0.rawValue, resultLabel($0)) }, selected: request.query.result?.rawValue),
            "triggers": options([("", "Any trigger")] + Trigger.allCases.map { ($0.rawValue, $0.rawValue) }, selected: request.query.trigger?.rawValue),
            "periods": options(TracesRequest.periods, selected: request.last),
        ]
        let texts: [String: String?] = ["user": request.text.user, "since": request.text.since, "until": request.text.until]
        values.merge(texts.compactMapValues { $0 }) { _, new in new }
        return values
    }
}
