/// One step of a flow's `do:` list.
public struct Action: Sendable {
    public indirect enum Kind: Sendable {
        /// Send the message to the staff group; `text` overrides what staff see.
        case forwardToGroup(text: Template?)
        case push(title: Template?, text: Template)
        case greet(Template)
        case reply(Template)
        case transcribe
        /// Ask the AI; when it cannot answer, `onFailure` runs and the rest of the flow is skipped.
        case askAssistant(prompt: Template?, onFailure: [Action])
        case broadcast
        case setAutoMode(Bool)
        case stop
        /// `- if: {...} then: [...] else: [...]`
        case branch(conditions: [Condition], then: [Action], else: [Action])
    }

    public var kind: Kind
    public var location: SourceLocation

    public init(_ kind: Kind, at location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    /// The name used in flow files, traces and dry-run output.
    public var name: String {
        switch kind {
        case .forwardToGroup: "forward_to_group"
        case .push: "push"
        case .greet: "greet"
        case .reply: "reply"
        case .transcribe: "transcribe"
        case .askAssistant: "ask_assistant"
        case .broadcast: "broadcast"
        case .setAutoMode: "set_auto_mode"
        case .stop: "stop"
        case .branch: "if"
        }
    }
}
