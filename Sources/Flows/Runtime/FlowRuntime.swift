import Foundation

/// Runs flows: turns a raw input into a trigger, runs the flows listening to it over a
/// view of the state, and returns what they decided (`RunOutcome`). The server, dry-run,
/// tests and replay all use this one runtime; only the view and the services differ.
public struct FlowRuntime: Sendable {
    public var flowSet: FlowSet
    /// The zone of "today": greetings, once-per-user periods, time windows without a zone.
    public var timeZone: TimeZone
    /// The auto mode of a chat never seen before.
    public var autoModeDefault: Bool
    /// Whether outcomes ask for their trace to be kept.
    public var recordsTraces = true

    public init(flowSet: FlowSet, timeZone: TimeZone = TimeZone(identifier: "UTC")!, autoModeDefault: Bool = true) {
        self.flowSet = flowSet
        self.timeZone = timeZone
        self.autoModeDefault = autoModeDefault
    }

    /// Runs one event to completion over `view`, which it only reads.
    /// Runs on the caller's executor (`nonisolated(nonsending)`).
    public nonisolated(nonsending) func run<View: StateView>(_ event: InboundEvent, view: View, services: any FlowServices) async -> RunOutcome {
        var context = RunContext(event: event, runtime: self, view: view, services: services)
        await context.run()
        // A history fetch that is not the day's first is routine, not worth a trace row.
        context.outcome.keepsTrace = recordsTraces && !(event.kind == .historyFetch && context.outcome.result.trigger == nil)
        return context.outcome
    }

    /// What a run of `event` may read, for loading a `StateSnapshot` before it runs.
    public func reads(for event: InboundEvent) -> StateReads {
        let local = LocalTime(event.at, in: timeZone)
        let today = local.dayString
        var markers: [StateReads.MarkerKey] = []
        if event.kind == .historyFetch { markers.append(.init(key: RunContext<StateSnapshot>.historyFetchMarker, period: today)) }
        if let trigger = Self.trigger(of: event.kind) {
            for flow in flowSet.flows(for: trigger) {
                guard let period = flow.oncePerUser else { continue }
                markers.append(
                    .init(key: RunContext<StateSnapshot>.onceKey(flow), period: RunContext<StateSnapshot>.periodKey(period, local: local, today: today)))
            }
        }
        return StateReads(
            userID: event.userID.flatMap { $0.isEmpty ? nil : $0 },
            groupMessageID: event.kind == .telegramReply && event.userID == nil ? event.replyTo : nil,
            source: event.kind.source, markers: markers, experiments: flowSet.experiments.map(\.experiment.key))
    }

    /// The trigger an event kind fires when it fires one.
    static func trigger(of kind: EventKind) -> Trigger? {
        switch kind {
        case .historyFetch: .historyFirstFetchToday
        case .appMessage: .appMessage
        case .telegramReply: .telegramReply
        case .telegramMessage: .telegramMessage
        case .instagramDM: .instagramDM
        }
    }
}

/// The state of one event's run: derived trigger, what it read, what it decided.
struct RunContext<View: StateView> {
    let event: InboundEvent
    let runtime: FlowRuntime
    let view: View
    let services: any FlowServices
    let source: ChatSource
    let local: LocalTime
    var userID = ""
    var outcome: RunOutcome
    var isFirstMessage = false
    /// Read from the view only when a condition or template asks; set by the run.
    private var cachedAutoMode: Bool?
    /// The event's local day, formatted when first needed.
    private var cachedToday: String?
    var stopped = false

    static var historyFetchMarker: String { "history_fetch" }
    static func onceKey(_ flow: Flow) -> String { "once:" + flow.name }

    init(event: InboundEvent, runtime: FlowRuntime, view: View, services: any FlowServices) {
        self.event = event
        self.runtime = runtime
        self.view = view
        self.services = services
        self.source = event.kind.source
        self.local = LocalTime(event.at, in: runtime.timeZone)
        self.outcome = RunOutcome(event: event, result: RunResult(trigger: nil, userID: nil), keepsTrace: runtime.recordsTraces)
    }

    /// The outcome's trace, modified in place (a get and set would copy it, arrays and
    /// all, on every append).
    var result: RunResult {
        get { outcome.result }
        _modify { yield &outcome.result }
    }

    /// The event's local day, `YYYY-MM-DD`.
    mutating func today() -> String {
        if let cachedToday { return cachedToday }
        let text = local.dayString
        cachedToday = text
        return text
    }

    mutating func autoMode() -> Bool {
        if let cachedAutoMode { return cachedAutoMode }
        let value = view.autoMode(source: source, userID: userID) ?? runtime.autoModeDefault
        cachedAutoMode = value
        return value
    }

    mutating func setAutoMode(_ on: Bool) {
        outcome.writes.append(.setAutoMode(source: source, userID: userID, on: on, at: event.at))
        cachedAutoMode = on
    }

    // MARK: State read through the run's own writes

    func hasMarker(key: String, period: String) -> Bool {
        for write in outcome.writes {
            if case .setMarker(_, key, period, _) = write { return true }
        }
        return view.hasMarker(userID: userID, key: key, period: period)
    }

    mutating func setMarker(key: String, period: String) {
        outcome.writes.append(.setMarker(userID: userID, key: key, period: period, at: event.at))
    }

    func assignment(_ experiment: String) -> String? {
        for write in outcome.writes.reversed() {
            if case .saveAssignment(experiment, _, let variant, _) = write { return variant }
        }
        return view.assignment(experiment: experiment, userID: userID)
    }

    func firstExposure(_ experiment: String) -> (variant: String, at: Date)? {
        if let stored = view.firstExposure(experiment: experiment, userID: userID) { return stored }
        for write in outcome.writes {
            if case .recordExposure(experiment, _, let variant, let at) = write { return (variant, at) }
        }
        return nil
    }

    func hasConverted(_ experiment: String) -> Bool {
        for write in outcome.writes {
            if case .recordConversion(experiment, _, _, _) = write { return true }
        }
        return view.hasConverted(experiment: experiment, userID: userID)
    }

    /// Adds a message to the outcome; returns its index there.
    @discardableResult mutating func store(_ message: StoredMessage) -> Int {
        outcome.messages.append(message)
        return outcome.messages.count - 1
    }

    // MARK: Trigger

    /// Derives the trigger and stores the inbound message; nil (with a note) when nothing fires.
    mutating func deriveTrigger() -> Trigger? {
        switch event.kind {
        case .telegramReply:
            if let id = event.userID {
                userID = id
            } else if let replyTo = event.replyTo {
                guard let owner = view.userForGroupMessage(replyTo) else {
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
            let day = today()
            if hasMarker(key: Self.historyFetchMarker, period: day) {
                result.note = "not the first history fetch of \(day) for this user"
                return nil
            }
            setMarker(key: Self.historyFetchMarker, period: day)
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
        let earlier = view.inboundCount(userID: userID)
        outcome.writes.append(.noteUser(id: userID, name: event.userName, at: event.at, inbound: direction == .user))
        // A staff reply says which staff member wrote it.
        let staffName = direction == .support ? event.staffName : nil
        isFirstMessage = direction == .user && earlier == 0
        // A new chat starts in the default auto mode, kept with it: changing the default
        // later applies to chats that start after, not to those already under way.
        if direction == .user && cachedAutoMode == nil && view.autoMode(source: source, userID: userID) == nil {
            setAutoMode(runtime.autoModeDefault)
        }
        var own = StoredMessage(
            userID: userID, source: source, direction: direction, text: event.text ?? "", media: event.media, at: event.at,
            photoURL: event.photoURLs.first ?? event.linkedFiles.first?.url, platformMessageID: event.platformMessageID,
            senderName: staffName)
        own.audioLocation = event.audio?.location
        let first = store(own)
        // A history item (and a socket.io `new_message`) carries one `photo_url`, so, as the
        // seed server stored them, every further photo is a message of its own right after
        // the first, with no text: the app shows each of them.
        for photoURL in event.photoURLs.dropFirst() {
            store(
                StoredMessage(
                    userID: userID, source: source, direction: direction, text: "", media: .photo, at: event.at, photoURL: photoURL,
                    platformMessageID: event.platformMessageID, senderName: staffName))
        }
        outcome.inboundMessages = first..<outcome.messages.count
    }

    // MARK: Run

    nonisolated(nonsending) mutating func run() async {
        guard let trigger = deriveTrigger() else { return }
        result.trigger = trigger
        recordConversions(for: trigger)
        for flow in runtime.flowSet.flows(for: trigger) {
            if stopped {
                result.flows.append(FlowOutcome(name: flow.name, result: .skipped, reason: "an earlier flow stopped this event"))
                continue
            }
            await run(flow)
        }
    }

    private mutating func recordConversions(for trigger: Trigger) {
        guard let experiments = runtime.flowSet.goalsByTrigger[trigger] else { return }
        for experiment in experiments {
            guard let goal = experiment.goal, let exposure = firstExposure(experiment.key) else { continue }
            let elapsed = event.at.timeIntervalSince(exposure.at)
            guard elapsed >= 0, elapsed <= goal.withinSeconds else { continue }
            if !hasConverted(experiment.key) {
                outcome.writes.append(.recordConversion(experiment: experiment.key, userID: userID, variant: exposure.variant, at: event.at))
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
            let key = Self.onceKey(flow)
            let periodKey = Self.periodKey(period, local: local, today: today())
            if hasMarker(key: key, period: periodKey) {
                result.flows.append(
                    FlowOutcome(
                        name: flow.name, result: .skipped, reason: "already ran for this user \(Self.describe(period)) (once_per_user: \(period.rawValue))"))
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
                outcome.writes.append(.recordExposure(experiment: experiment.key, userID: userID, variant: variant, at: event.at))
                result.exposures.append(ExperimentEvent(experiment: experiment.key, variant: variant))
            }
        }
        if let onceKey { setMarker(key: onceKey.key, period: onceKey.period) }
        result.flows.append(FlowOutcome(name: flow.name, result: .ran, reason: reason, variant: variant))
        var outputs = Outputs(variant: variant)
        _ = await perform(actions, flow: flow, outputs: &outputs)
    }

    /// The sticky variant for this user: stored once, then never moved by weight changes.
    private mutating func assignVariant(_ experiment: Experiment) -> String? {
        if let stored = assignment(experiment.key),
            experiment.variants.contains(where: { $0.name == stored })
        {
            return stored
        }
        let weights = experiment.variants.map(\.weight)
        let total = weights.reduce(0, +)
        let ranges = GrowthBookBucketing.bucketRanges(count: weights.count, coverage: 1, weights: weights.map { $0 / total })
        guard let bucket = GrowthBookBucketing.hash(seed: experiment.key, value: userID, version: 2) else { return nil }
        let index = GrowthBookBucketing.chooseVariation(bucket: bucket, ranges: ranges)
        guard index >= 0 else { return nil }
        let name = experiment.variants[index].name
        outcome.writes.append(.saveAssignment(experiment: experiment.key, userID: userID, variant: name, at: event.at))
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
