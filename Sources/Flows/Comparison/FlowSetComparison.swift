import Foundation

/// What a changed flow set would have done differently on the same events: the live set's
/// run and the draft's run of each event, taken in pairs, summed up as counts per action
/// and grouped by flow with a few examples each.
///
/// Shared by `replyflow replay --compare` and the flow studio's comparison, so both say
/// the same thing of the same events. It keeps counts and a bounded number of examples,
/// never the events themselves: memory stays flat on a million events.
public struct FlowSetComparison: Sendable {
    /// The action types people ask about first, in the order they are shown (`hand_off`
    /// is `set_auto_mode: off`, a chat handed from the bot to people); the others follow
    /// in the order they were first seen.
    public static let headlineActions = ["greet", "reply", "forward_to_group", "push", "hand_off"]

    /// Examples kept per flow: enough to see what changes, few enough to read.
    public let examplesPerFlow: Int
    public private(set) var events = 0
    public private(set) var changedEvents = 0
    public private(set) var firstEventAt: Date?
    public private(set) var lastEventAt: Date?
    /// Actions per type, live and draft, in `headlineActions` order first.
    public private(set) var actions: [ActionCount] = FlowSetComparison.headlineActions.map { ActionCount(type: $0) }
    /// Flows whose actions differed on at least one event, in the order first seen.
    public private(set) var flows: [FlowChanges] = []

    public init(examplesPerFlow: Int = 5) {
        self.examplesPerFlow = examplesPerFlow
    }

    /// How often one action type was done by each set; hand-offs (`set_auto_mode: off`)
    /// are counted apart from `set_auto_mode: on`, as that is what people mean by them.
    public struct ActionCount: Sendable, Equatable {
        public var type: String
        public var live = 0
        public var draft = 0
        public var change: Int { draft - live }
    }

    /// One flow's events that came out differently.
    public struct FlowChanges: Sendable {
        public var flow: String
        public var events = 0
        public var examples: [Example] = []
    }

    /// One event that came out differently, as a person reads it.
    public struct Example: Sendable {
        public var at: Date
        public var kind: EventKind
        public var userID: String?
        /// What the customer (or staff, for a staff reply) wrote.
        public var text: String?
        /// The flow's actions, one line each (`greet: Hello!`); empty when it did nothing.
        public var before: [String]
        public var after: [String]
        /// Why the flow ran or not, live and draft: `ran`, or the reason it was skipped.
        public var beforeResult: String
        public var afterResult: String
    }

    /// Takes one event's two runs.
    public mutating func add(_ event: InboundEvent, live: RunResult, draft: RunResult) {
        events += 1
        if firstEventAt == nil { firstEventAt = event.at }
        lastEventAt = event.at
        count(live.actions, draft: false)
        count(draft.actions, draft: true)
        // Most events come out the same: one comparison of the whole lists settles them.
        if live.actions == draft.actions && Self.sameFlowResults(live.flows, draft.flows) { return }
        var changed = false
        for name in Self.flowNames(live, draft) {
            let before = live.actions.filter { $0.flow == name }
            let after = draft.actions.filter { $0.flow == name }
            let beforeResult = Self.result(of: name, in: live)
            let afterResult = Self.result(of: name, in: draft)
            // A flow that did the same things counts as unchanged even if its reason for
            // doing nothing changed: the comparison is about what customers would see.
            guard before != after else { continue }
            changed = true
            let index: Int
            if let found = flows.firstIndex(where: { $0.flow == name }) {
                index = found
            } else {
                flows.append(FlowChanges(flow: name))
                index = flows.count - 1
            }
            flows[index].events += 1
            if flows[index].examples.count < examplesPerFlow {
                flows[index].examples.append(
                    Example(
                        at: event.at, kind: event.kind, userID: live.userID ?? draft.userID ?? event.userID, text: event.text,
                        before: before.map(\.traceLine), after: after.map(\.traceLine), beforeResult: beforeResult, afterResult: afterResult))
            }
        }
        if changed { changedEvents += 1 }
    }

    private mutating func count(_ performed: [PerformedAction], draft: Bool) {
        for action in performed {
            let type = action.type == "set_auto_mode" && action.value == "off" ? "hand_off" : action.type
            let index: Int
            if let found = actions.firstIndex(where: { $0.type == type }) {
                index = found
            } else {
                actions.append(ActionCount(type: type))
                index = actions.count - 1
            }
            if draft { actions[index].draft += 1 } else { actions[index].live += 1 }
        }
    }

    /// The action counts worth showing: the headline ones always, the rest when either set did them.
    public var shownActions: [ActionCount] {
        actions.filter { Self.headlineActions.contains($0.type) || $0.live > 0 || $0.draft > 0 }
    }

    static func sameFlowResults(_ live: [FlowOutcome], _ draft: [FlowOutcome]) -> Bool {
        live.count == draft.count && zip(live, draft).allSatisfy { $0.name == $1.name && $0.result == $1.result }
    }

    /// The flows either set ran or skipped for this event, live ones first.
    static func flowNames(_ live: RunResult, _ draft: RunResult) -> [String] {
        var names = live.flows.map(\.name)
        for flow in draft.flows where !names.contains(flow.name) { names.append(flow.name) }
        for action in live.actions + draft.actions where !names.contains(action.flow) { names.append(action.flow) }
        return names
    }

    static func result(of flow: String, in run: RunResult) -> String {
        guard let outcome = run.flows.first(where: { $0.name == flow }) else {
            return run.trigger == nil ? (run.note ?? "no trigger fired") : "not in this set"
        }
        switch outcome.result {
        case .ran: return outcome.reason ?? "ran"
        case .skipped: return "skipped: " + (outcome.reason ?? "")
        }
    }
}
