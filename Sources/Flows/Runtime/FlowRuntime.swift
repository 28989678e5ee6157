import Foundation

/// Runs flows: turns a raw input into a trigger, runs the flows listening to it, and
/// hands the actions' effects to `FlowEffects`. The server, dry-run, tests and replay all
/// use this one runtime; only the effects object differs.
public final class FlowRuntime {
    public var flowSet: FlowSet
    public let state: FlowStateStore
    public let effects: FlowEffects
    /// The zone of "today": greetings, once-per-user periods, time windows without a zone.
    public var timeZone: TimeZone
    /// The auto mode of a chat never seen before.
    public var autoModeDefault: Bool
    /// Whether to keep run traces in the state store.
    public var recordsTraces = true
    /// The local day last formatted: events come in time order, so nearly every event
    /// asks for the same day as the one before.
    private var lastDay: (number: Int, text: String)?

    public init(flowSet: FlowSet, state: FlowStateStore, effects: FlowEffects, timeZone: TimeZone = TimeZone(identifier: "UTC")!, autoModeDefault: Bool = true) {
        self.flowSet = flowSet
        self.state = state
        self.effects = effects
        self.timeZone = timeZone
        self.autoModeDefault = autoModeDefault
    }

    /// Runs one event to completion.
    /// Runs on the caller's executor (`nonisolated(nonsending)`), so an actor owning the
    /// runtime keeps the state store to itself even while an action awaits a service.
    public nonisolated(nonsending) func run(_ event: InboundEvent) async -> RunResult {
        var context = RunContext(event: event, runtime: self)
        let result = await context.run()
        // A history fetch that is not the day's first is routine, not worth a trace row.
        if recordsTraces && !(event.kind == .historyFetch && result.trigger == nil) { state.recordTrace(result, event: event) }
        return result
    }

    /// `YYYY-MM-DD` of a local time.
    func dayString(_ local: LocalTime) -> String {
        if let lastDay, lastDay.number == local.dayNumber { return lastDay.text }
        let text = local.dayString
        lastDay = (local.dayNumber, text)
        return text
    }
}

/// The state of one event's run: derived trigger, lazily read chat state, outputs.
struct RunContext {
    let event: InboundEvent
    unowned let runtime: FlowRuntime
    let source: ChatSource
    let local: LocalTime
    var userID = ""
    var result = RunResult(trigger: nil, userID: nil)
    var isFirstMessage = false
    /// Read from state only when a condition or template asks.
    private var cachedAutoMode: Bool?
    var stopped = false

    init(event: InboundEvent, runtime: FlowRuntime) {
        self.event = event
        self.runtime = runtime
        self.source = event.kind.source
        self.local = LocalTime(event.at, in: runtime.timeZone)
    }

    var state: FlowStateStore { runtime.state }

    /// The event's local day, `YYYY-MM-DD`.
    var today: String { runtime.dayString(local) }

    mutating func autoMode() -> Bool {
        if let cachedAutoMode { return cachedAutoMode }
        let value = state.autoMode(source: source, userID: userID) ?? runtime.autoModeDefault
        cachedAutoMode = value
        return value
    }

    mutating func setAutoMode(_ on: Bool) {
        state.setAutoMode(on, source: source, userID: userID, at: event.at)
        cachedAutoMode = on
    }

    // MARK: Trigger

    /// Derives the trigger and stores the inbound message; nil (with a note) when nothing fires.
    mutating func deriveTrigger() -> Trigger? {
        switch event.kind {
        case .telegramReply:
            if let id = event.userID {
                userID = id
            } else if let replyTo = event.replyTo {
                guard let owner = state.userForGroupMessage(replyTo) else {
                    result.note = "staff replied to group message \(replyTo), which is not a forwarded user message"
                    return nil
                }
                userID = owner
            } else {
                result.note = "a staff message that is not a reply to a forwarded user message"
                return nil
            }
        default:
            guard let id = event.userID, !id.isEmpty else {
                result.note = "the event has no user id"
                return nil
            }
            userID = id
        }
        result.userID = userID
        if let autoMode = event.autoMode { setAutoMode(autoMode) }

        switch event.kind {
        case .historyFetch:
            let day = today
            if state.hasMarker(userID: userID, key: "history_fetch", period: day) {
                result.note = "not the first history fetch of \(day) for this user"
                return nil
            }
            state.setMarker(userID: userID, key: "history_fetch", period: day, at: event.at)
            return .historyFirstFetchToday
        case .appMessage:
            storeInbound(direction: .user)
            return .appMessage
        case .telegramReply:
            storeInbound(direction: .support)
            return .telegramReply
        case .telegramMessage:
            storeInbound(direction: .user)
            return .telegramMessage
        case .instagramDM:
            storeInbound(direction: .user)
            return .instagramDM
        }
    }

    /// Inbound messages are stored before any flow runs, so no flow can lose history.
    private mutating func storeInbound(direction: StoredMessage.Direction) {
        let earlier = state.noteUser(id: userID, name: event.userName, at: event.at, inbound: direction == .user)
        isFirstMessage = direction == .user && earlier == 0
        // A new chat starts in the default auto mode, kept with it: changing the default
        // later applies to chats that start after, not to those already under way.
        if direction == .user && cachedAutoMode == nil && state.autoMode(source: source, userID: userID) == nil {
            setAutoMode(runtime.autoModeDefault)
        }
        result.inboundMessageID = state.storeMessage(StoredMessage(userID: userID, source: source, direction: direction, text: event.text ?? "", media: event.media, at: event.at, photoURL: event.photoURLs.first ?? event.linkedFiles.first?.url, platformMessageID: event.platformMessageID))
    }

    // MARK: Run

    nonisolated(nonsending) mutating func run() async -> RunResult {
        guard let trigger = deriveTrigger() else { return result }
        result.trigger = trigger
        recordConversions(for: trigger)
        for flow in runtime.flowSet.flows(for: trigger) {
            if stopped {
                result.flows.append(FlowOutcome(name: flow.name, result: .skipped, reason: "an earlier flow stopped this event"))
                continue
            }
            await run(flow)
        }
        return result
    }

    private mutating func recordConversions(for trigger: Trigger) {
        guard let experiments = runtime.flowSet.goalsByTrigger[trigger] else { return }
        for experiment in experiments {
            guard let goal = experiment.goal, let exposure = state.firstExposure(experiment: experiment.key, userID: userID) else { continue }
            let elapsed = event.at.timeIntervalSince(exposure.at)
            guard elapsed >= 0, elapsed <= goal.withinSeconds else { continue }
            if state.recordConversion(experiment: experiment.key, variant: exposure.variant, userID: userID, at: event.at) {
                result.conversions.append(ExperimentEvent(experiment: experiment.key, variant: exposure.variant))
            }
        }
    }

    private nonisolated(nonsending) mutating func run(_ flow: Flow) async {
        guard flow.enabled else {
            result.flows.append(FlowOutcome(name: flow.name, result: .skipped, reason: "the flow is disabled (enabled: false)"))
            return
        }
        var onceKey: (key: String, period: String)?
        if let period = flow.oncePerUser {
            let key = "once:" + flow.name
            let periodKey = Self.periodKey(period, local: local, today: today)
            if state.hasMarker(userID: userID, key: key, period: periodKey) {
                result.flows.append(FlowOutcome(name: flow.name, result: .skipped, reason: "already ran for this user \(Self.describe(period)) (once_per_user: \(period.rawValue))"))
                return
            }
            onceKey = (key, periodKey)
        }

        var variant: String?
        if let experiment = flow.experiment { variant = assignVariant(experiment) }

        var actions: [Action]
        var reason: String?
        if let failure = firstFailure(flow.conditions, variant: variant) {
            guard !flow.elseActions.isEmpty else {
                result.flows.append(FlowOutcome(name: flow.name, result: .skipped, reason: failure, variant: nil))
                return
            }
            actions = flow.elseActions
            reason = "ran 'else': \(failure)"
        } else {
            actions = flow.actions
            if let experiment = flow.experiment, let variant, let chosen = experiment.variants.first(where: { $0.name == variant }) {
                actions += chosen.actions
                state.recordExposure(experiment: experiment.key, variant: variant, userID: userID, at: event.at)
                result.exposures.append(ExperimentEvent(experiment: experiment.key, variant: variant))
            }
        }
        if let onceKey { state.setMarker(userID: userID, key: onceKey.key, period: onceKey.period, at: event.at) }
        result.flows.append(FlowOutcome(name: flow.name, result: .ran, reason: reason, variant: variant))
        var outputs = Outputs(variant: variant)
        _ = await perform(actions, flow: flow, outputs: &outputs)
    }

    /// The sticky variant for this user: stored once, then never moved by weight changes.
    private mutating func assignVariant(_ experiment: Experiment) -> String? {
        if let stored = state.assignment(experiment: experiment.key, userID: userID),
           experiment.variants.contains(where: { $0.name == stored }) {
            return stored
        }
        let weights = experiment.variants.map(\.weight)
        let total = weights.reduce(0, +)
        let ranges = GrowthBookBucketing.bucketRanges(count: weights.count, coverage: 1, weights: weights.map { $0 / total })
        guard let bucket = GrowthBookBucketing.hash(seed: experiment.key, value: userID, version: 2) else { return nil }
        let index = GrowthBookBucketing.chooseVariation(bucket: bucket, ranges: ranges)
        guard index >= 0 else { return nil }
        let name = experiment.variants[index].name
        state.saveAssignment(experiment: experiment.key, userID: userID, variant: name, at: event.at)
        return name
    }

    static func periodKey(_ period: OncePeriod, local: LocalTime, today: String) -> String {
        switch period {
        case .hour: return "\(today)T\(local.minuteOfDay / 60)"
        case .day: return today
        case .week: return "week-of-" + LocalTime.format(day: local.dayNumber - local.weekday)
        case .ever: return "ever"
        }
    }

    static func describe(_ period: OncePeriod) -> String {
        switch period {
        case .hour: "this hour"
        case .day: "today"
        case .week: "this week"
        case .ever: "before"
        }
    }
}
