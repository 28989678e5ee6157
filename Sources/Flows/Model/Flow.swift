import Foundation

/// One flow: when a trigger fires and the conditions hold, run the actions.
public struct Flow: Sendable {
    public var name: String
    public var description: String?
    public var triggers: [Trigger]
    /// Lower runs first; ties are broken by file name.
    public var priority: Int
    public var enabled: Bool
    public var oncePerUser: OncePeriod?
    /// All of these must hold (the `if:` map); empty means always.
    public var conditions: [Condition]
    public var actions: [Action]
    public var elseActions: [Action]
    public var experiment: Experiment?
    /// The file the flow came from, as given to the loader.
    public var file: String
    public var location: SourceLocation

    public init(
        name: String, description: String? = nil, triggers: [Trigger], priority: Int = 100, enabled: Bool = true,
        oncePerUser: OncePeriod? = nil, conditions: [Condition] = [], actions: [Action], elseActions: [Action] = [],
        experiment: Experiment? = nil, file: String, location: SourceLocation
    ) {
        self.name = name
        self.description = description
        self.triggers = triggers
        self.priority = priority
        self.enabled = enabled
        self.oncePerUser = oncePerUser
        self.conditions = conditions
        self.actions = actions
        self.elseActions = elseActions
        self.experiment = experiment
        self.file = file
        self.location = location
    }
}

/// An A/B test inside a flow: users are split between variants, each with its own actions.
public struct Experiment: Sendable {
    public var key: String
    public var goal: Goal?
    public var variants: [Variant]
    public var location: SourceLocation

    /// The event that counts as a conversion, within a window after the first exposure.
    public struct Goal: Sendable {
        public var trigger: Trigger
        public var withinSeconds: Double
    }

    public init(key: String, goal: Goal?, variants: [Variant], location: SourceLocation) {
        self.key = key
        self.goal = goal
        self.variants = variants
        self.location = location
    }
}

/// One arm of an experiment.
public struct Variant: Sendable {
    public var name: String
    public var weight: Double
    public var actions: [Action]

    public init(name: String, weight: Double, actions: [Action]) {
        self.name = name
        self.weight = weight
        self.actions = actions
    }
}

/// A validated, ordered set of flows: what the runtime executes.
public struct FlowSet: Sendable {
    /// Flows in run order: priority, then file name.
    public let flows: [Flow]
    /// For each trigger, the flows listening to it, in run order: built once, since every
    /// event asks and building the list per event copied each flow.
    let flowsByTrigger: [Trigger: [Flow]]
    /// Experiments whose goal is each trigger, for conversion tracking.
    let goalsByTrigger: [Trigger: [Experiment]]
    /// The files the set was loaded from, as read (empty for a set built in code): what the
    /// server's `/health` fingerprints, so instances can be seen to run the same flows.
    public internal(set) var sources: [FlowSource] = []

    public init(flows: [Flow]) {
        let ordered = flows.sorted { ($0.priority, $0.file, $0.name) < ($1.priority, $1.file, $1.name) }
        self.flows = ordered
        var byTrigger: [Trigger: [Flow]] = [:]
        var goals: [Trigger: [Experiment]] = [:]
        for flow in ordered {
            for trigger in flow.triggers { byTrigger[trigger, default: []].append(flow) }
            if let experiment = flow.experiment, let goal = experiment.goal {
                goals[goal.trigger, default: []].append(experiment)
            }
        }
        self.flowsByTrigger = byTrigger
        self.goalsByTrigger = goals
    }

    /// The flows listening to a trigger, in run order.
    public func flows(for trigger: Trigger) -> [Flow] {
        flowsByTrigger[trigger] ?? []
    }

    /// Every experiment, with the flow it belongs to.
    public var experiments: [(flow: Flow, experiment: Experiment)] {
        flows.compactMap { flow in flow.experiment.map { (flow, $0) } }
    }
}

/// One file a flow set was loaded from: its name in the flows folder and its bytes.
public struct FlowSource: Sendable, Equatable {
    public var name: String
    public var data: Data

    public init(name: String, data: Data) {
        self.name = name
        self.data = data
    }
}
