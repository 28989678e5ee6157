import Foundation

/// What a run of one event will read, so the server can load it before the run
/// (`FlowRuntime.reads(for:)`): the user (or the group message naming them), the chat,
/// the markers the flows may test and the experiments they may touch.
public struct StateReads: Sendable, Equatable {
    /// The event's user, when the event names one.
    public var userID: String?
    /// For a staff reply without a user: the group message it answers.
    public var groupMessageID: Int64?
    public var source: ChatSource
    /// (key, period) pairs the run may test for its user.
    public var markers: [MarkerKey]
    /// Experiment keys whose assignment, exposure and conversion the run may read.
    public var experiments: [String]

    public struct MarkerKey: Sendable, Hashable {
        public var key: String
        public var period: String

        public init(key: String, period: String) {
            self.key = key
            self.period = period
        }
    }

    public init(userID: String?, groupMessageID: Int64? = nil, source: ChatSource, markers: [MarkerKey], experiments: [String]) {
        self.userID = userID
        self.groupMessageID = groupMessageID
        self.source = source
        self.markers = markers
        self.experiments = experiments
    }
}

/// The state one run reads, loaded before it runs (the server's view).
///
/// Answers only what `StateReads` asked for; a question about anything else is a bug in
/// `FlowRuntime.reads(for:)` and is answered as "nothing stored" after a failed assertion.
public struct StateSnapshot: StateView, Sendable {
    public var userID: String?
    public var source: ChatSource
    public var groupMessageID: Int64?
    /// The owner of `groupMessageID`, when it is a forwarded user message.
    public var groupMessageOwner: String?
    public var inboundCount = 0
    public var autoMode: Bool?
    public var markers: Set<StateReads.MarkerKey> = []
    public var assignments: [String: String] = [:]
    public var exposures: [String: (variant: String, at: Date)] = [:]
    public var conversions: Set<String> = []
    /// What was asked for: a marker or experiment outside these was not loaded, and
    /// "not stored" would be a guess.
    private let askedMarkers: Set<StateReads.MarkerKey>
    private let askedExperiments: Set<String>

    /// An empty snapshot for `reads`, to be filled by whoever loads it.
    public init(for reads: StateReads) {
        userID = reads.userID
        source = reads.source
        groupMessageID = reads.groupMessageID
        askedMarkers = Set(reads.markers)
        askedExperiments = Set(reads.experiments)
    }

    private func isLoaded(_ userID: String) -> Bool {
        userID == self.userID || (self.userID == nil && userID == groupMessageOwner)
    }

    public func inboundCount(userID: String) -> Int {
        assert(isLoaded(userID), "the snapshot was not loaded for user \(userID)")
        return isLoaded(userID) ? inboundCount : 0
    }

    public func autoMode(source: ChatSource, userID: String) -> Bool? {
        assert(isLoaded(userID) && source == self.source, "the snapshot was not loaded for \(source.rawValue) chat \(userID)")
        return isLoaded(userID) && source == self.source ? autoMode : nil
    }

    public func hasMarker(userID: String, key: String, period: String) -> Bool {
        let marker = StateReads.MarkerKey(key: key, period: period)
        assert(askedMarkers.contains(marker), "the snapshot was not loaded with marker \(key) for \(period)")
        return isLoaded(userID) && markers.contains(marker)
    }

    public func userForGroupMessage(_ groupMessageID: Int64) -> String? {
        groupMessageID == self.groupMessageID ? groupMessageOwner : nil
    }

    public func assignment(experiment: String, userID: String) -> String? {
        assert(askedExperiments.contains(experiment), "the snapshot was not loaded with experiment \(experiment)")
        return isLoaded(userID) ? assignments[experiment] : nil
    }

    public func firstExposure(experiment: String, userID: String) -> (variant: String, at: Date)? {
        assert(askedExperiments.contains(experiment), "the snapshot was not loaded with experiment \(experiment)")
        return isLoaded(userID) ? exposures[experiment] : nil
    }

    public func hasConverted(experiment: String, userID: String) -> Bool {
        assert(askedExperiments.contains(experiment), "the snapshot was not loaded with experiment \(experiment)")
        return isLoaded(userID) && conversions.contains(experiment)
    }
}
