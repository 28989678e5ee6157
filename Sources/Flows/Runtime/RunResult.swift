/// What one event did: the trigger, each flow's outcome and the actions taken.
/// This is the trace people read to learn why a message was (not) answered.
public struct RunResult: Sendable {
    public var trigger: Trigger?
    /// Why no trigger fired (for example: not the first history fetch of the day).
    public var note: String?
    public var userID: String?
    /// The id under which the event's own message was stored, once the server committed it.
    public var inboundMessageID: Int64?
    public var flows: [FlowOutcome] = []
    public var actions: [PerformedAction] = []
    public var exposures: [ExperimentEvent] = []
    public var conversions: [ExperimentEvent] = []

    public init(trigger: Trigger?, note: String? = nil, userID: String?) {
        self.trigger = trigger
        self.note = note
        self.userID = userID
    }

    /// What `flow` did, one action a line (`reply: Hello!`), as the run's trace keeps it for
    /// "why did the bot answer?"; nil when it did nothing.
    public func actionLines(of flow: String) -> String? {
        let lines = actions.filter { $0.flow == flow }.map(\.traceLine)
        return lines.isEmpty ? nil : lines.joined(separator: "\n")
    }
}

/// One flow's result for one event.
public struct FlowOutcome: Sendable, Equatable {
    public enum Result: String, Sendable { case ran, skipped }
    public var name: String
    public var result: Result
    /// For a skip: the condition that failed, with the actual and wanted values.
    public var reason: String?
    public var variant: String?

    /// The flow's `if` did not hold and its `else` ran (the reason says which condition failed).
    public var ranElse: Bool { result == .ran && reason?.hasPrefix("ran 'else'") == true }

    public init(name: String, result: Result, reason: String? = nil, variant: String? = nil) {
        self.name = name
        self.result = result
        self.reason = reason
        self.variant = variant
    }
}

/// An action a flow performed, as dry-run and tests report it.
public struct PerformedAction: Sendable, Equatable {
    public var flow: String
    public var type: String
    /// The rendered text, where the action has one.
    public var text: String?
    /// For `set_auto_mode`: on or off.
    public var value: String?
    public var title: String?

    /// `type: text` (or `type: value`, or the type alone), on one line.
    public var traceLine: String {
        let detail = [title, text ?? value].compactMap { $0 }.joined(separator: " · ")
        return (detail.isEmpty ? type : "\(type): \(detail)").replacingOccurrences(of: "\n", with: " ")
    }

    public init(flow: String, type: String, text: String? = nil, value: String? = nil, title: String? = nil) {
        self.flow = flow
        self.type = type
        self.text = text
        self.value = value
        self.title = title
    }
}

/// An exposure or a conversion in an experiment.
public struct ExperimentEvent: Sendable, Equatable {
    public var experiment: String
    public var variant: String
}
