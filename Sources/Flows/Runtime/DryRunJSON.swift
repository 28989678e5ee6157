import Foundation

/// The dry-run JSON object (a contract: `actions` and `flows` with these fields), shared by
/// `replyflow dry-run --json`, `replay --json` and the flow studio's "try it".
public struct DryRunJSON: Encodable, Sendable {
    /// For replay: the input line this object answers (1-based), so output line N is input event N.
    public var line: Int?
    /// For replay: the event's user id, to find a user's events without reading the input.
    public var user: String?
    public var trigger: String?
    public var note: String?
    public var actions: [ActionJSON]
    public var flows: [FlowJSON]
    public var exposures: [ExperimentJSON]
    public var conversions: [ExperimentJSON]

    public struct ActionJSON: Encodable, Sendable {
        public var flow: String
        public var type: String
        public var text: String?
        public var title: String?
        public var value: String?
    }

    public struct FlowJSON: Encodable, Sendable {
        public var name: String
        public var result: String
        public var reason: String?
        public var variant: String?

        // `reason` is always present (null when the flow ran), as the contract lists it.
        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(result, forKey: .result)
            try container.encode(reason, forKey: .reason)
            try container.encodeIfPresent(variant, forKey: .variant)
        }

        enum CodingKeys: String, CodingKey { case name, result, reason, variant }
    }

    public struct ExperimentJSON: Encodable, Sendable {
        public var experiment: String
        public var variant: String
    }

    /// For replay: a line that is not an event, in its place in the output.
    public struct LineErrorJSON: Encodable, Sendable {
        public var line: Int
        public var column: Int
        public var error: String

        public init(line: Int, column: Int, error: String) {
            self.line = line
            self.column = column
            self.error = error
        }
    }

    public init(_ result: RunResult, line: Int? = nil) {
        self.line = line
        user = line == nil ? nil : result.userID
        trigger = result.trigger?.rawValue
        note = result.note
        actions = result.actions.map { ActionJSON(flow: $0.flow, type: $0.type, text: $0.text, title: $0.title, value: $0.value) }
        flows = result.flows.map { FlowJSON(name: $0.name, result: $0.result.rawValue, reason: $0.reason, variant: $0.variant) }
        exposures = result.exposures.map { ExperimentJSON(experiment: $0.experiment, variant: $0.variant) }
        conversions = result.conversions.map { ExperimentJSON(experiment: $0.experiment, variant: $0.variant) }
    }

    public static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
