import Foundation

/// State kept in dictionaries: for unit tests of the language, where SQLite adds nothing.
/// The CLI and the server use `Storage.SQLiteStateStore`.
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

    public func noteUser(id: String, name: String?, at: Date, inbound: Bool) -> Int {
        let earlier = inboundCounts[id, default: 0]
        if inbound { inboundCounts[id] = earlier + 1 }
        return earlier
    }

    public func autoMode(source: ChatSource, userID: String) -> Bool? { autoModes[source.rawValue + "/" + userID] }

    public func setAutoMode(_ on: Bool, source: ChatSource, userID: String, at: Date) {
        autoModes[source.rawValue + "/" + userID] = on
    }

    public func hasMarker(userID: String, key: String, period: String) -> Bool { markers.contains("\(userID)\u{1}\(key)\u{1}\(period)") }

    public func setMarker(userID: String, key: String, period: String, at: Date) {
        markers.insert("\(userID)\u{1}\(key)\u{1}\(period)")
    }

    @discardableResult public func storeMessage(_ message: StoredMessage) -> Int64 {
        messages.append(message)
        return Int64(messages.count)
    }

    public func saveGroupForward(groupMessageID: Int64, userID: String, at: Date) { forwards[groupMessageID] = userID }
    public func userForGroupMessage(_ groupMessageID: Int64) -> String? { forwards[groupMessageID] }

    public func assignment(experiment: String, userID: String) -> String? { assignments[experiment + "/" + userID] }

    public func saveAssignment(experiment: String, userID: String, variant: String, at: Date) {
        assignments[experiment + "/" + userID] = variant
    }

    public func recordExposure(experiment: String, variant: String, userID: String, at: Date) {
        if exposures[experiment + "/" + userID] == nil { exposures[experiment + "/" + userID] = (variant, at) }
    }

    public func firstExposure(experiment: String, userID: String) -> (variant: String, at: Date)? {
        exposures[experiment + "/" + userID].map { (variant: $0.0, at: $0.1) }
    }

    public func recordConversion(experiment: String, variant: String, userID: String, at: Date) -> Bool {
        conversions.insert(experiment + "/" + userID).inserted
    }

    public func recordTrace(_ result: RunResult, event: InboundEvent) { traces.append(result) }
}
