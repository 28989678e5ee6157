import Foundation

/// State kept in dictionaries: for unit tests of the language, where SQLite adds nothing.
/// The CLI uses `Storage.BufferedStateStore`; the server commits outcomes to SQLite.
public final class InMemoryStateStore: FlowStateStore {
    public private(set) var messages: [StoredMessage] = []
    private var inboundCounts: [String: Int] = [:]
    private var autoModes: [String: Bool] = [:]
    private var markers: Set<String> = []
    private var forwards: [Int64: String] = [:]
    private var assignments: [String: String] = [:]
    private var exposures: [String: (String, Date)] = [:]
    private var conversions: Set<String> = []
    public private(set) var traces: [RunResult] = []

    public init() {}

    // MARK: StateView

    public func inboundCount(userID: String) -> Int { inboundCounts[userID, default: 0] }
    public func autoMode(source: ChatSource, userID: String) -> Bool? { autoModes[source.rawValue + "/" + userID] }
    public func hasMarker(userID: String, key: String, period: String) -> Bool { markers.contains("\(userID)\u{1}\(key)\u{1}\(period)") }
    public func userForGroupMessage(_ groupMessageID: Int64) -> String? { forwards[groupMessageID] }
    public func assignment(experiment: String, userID: String) -> String? { assignments[experiment + "/" + userID] }

    public func firstExposure(experiment: String, userID: String) -> (variant: String, at: Date)? {
        exposures[experiment + "/" + userID].map { (variant: $0.0, at: $0.1) }
    }

    public func hasConverted(experiment: String, userID: String) -> Bool { conversions.contains(experiment + "/" + userID) }

    // MARK: Outcomes

    public func apply(_ outcome: RunOutcome) {
        for write in outcome.writes {
            switch write {
            case let .noteUser(id, _, _, inbound):
                if inbound { inboundCounts[id, default: 0] += 1 }
            case let .setAutoMode(source, userID, on, _):
                autoModes[source.rawValue + "/" + userID] = on
            case let .setMarker(userID, key, period, _):
                markers.insert("\(userID)\u{1}\(key)\u{1}\(period)")
            case let .saveAssignment(experiment, userID, variant, _):
                assignments[experiment + "/" + userID] = variant
            case let .recordExposure(experiment, userID, variant, at):
                if exposures[experiment + "/" + userID] == nil { exposures[experiment + "/" + userID] = (variant, at) }
            case let .recordConversion(experiment, userID, _, _):
                conversions.insert(experiment + "/" + userID)
            }
        }
        messages += outcome.messages
        if outcome.keepsTrace { traces.append(outcome.result) }
    }

    public func saveGroupForward(groupMessageID: Int64, userID: String, at: Date) { forwards[groupMessageID] = userID }
}
