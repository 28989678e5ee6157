import Foundation
import Yams

/// A flow test: a named list of steps, each an event and the actions it must produce.
/// State carries from step to step, as it would in the server.
public struct FlowTest: Sendable {
    public var name: String
    public var file: String
    public var steps: [Step]
    /// `timezone:` of the test file, so it passes the same on every machine; nil: the configured zone.
    public var timeZone: TimeZone?

    public struct Step: Sendable {
        public var event: InboundEvent
        /// nil when the step checks nothing; empty for `expect: nothing`.
        public var expected: [ExpectedAction]?
        public var location: SourceLocation
    }

    /// One expected action; nil fields match anything.
    public struct ExpectedAction: Sendable, CustomStringConvertible {
        public var type: String
        public var text: String?
        public var title: String?
        public var value: String?
        public var location: SourceLocation

        func matches(_ action: PerformedAction) -> Bool {
            action.type == type && (text == nil || action.text == text) && (title == nil || action.title == title) && (value == nil || action.value == value)
        }

        /// As a test file writes it (`reply: "Hi"`), so it can be pasted back.
        public var description: String { FlowTest.expectLine(type: type, text: text, title: title, value: value) }
    }

    /// One `expect` item in the test file's own syntax: `transcribe`, `set_auto_mode: off`,
    /// `reply: "Hi"`, `push: { title: "T", text: "B" }`.
    public static func expectLine(type: String, text: String?, title: String?, value: String?) -> String {
        if let title { return "\(type): { title: \(quoted(title))" + (text.map { ", text: \(quoted($0))" } ?? "") + " }" }
        if let text { return "\(type): \(quoted(text))" }
        if let value { return "\(type): \(value)" }
        return type
    }

    /// A YAML double-quoted text: quotes, backslashes and line breaks escaped.
    static func quoted(_ text: String) -> String {
        "\""
            + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\t", with: "\\t") + "\""
    }

    static let expectableActions = ["forward_to_group", "push", "greet", "reply", "transcribe", "ask_assistant", "broadcast", "set_auto_mode", "stop"]
}

/// Reads test files (`flows/tests/*.yaml`).
public enum FlowTestLoader {
    /// Test files of a flows directory: `DIR/tests/*.yaml`, sorted.
    public static func testFiles(in directory: String) -> [String] {
        let testsDirectory = FlowLoader.join(directory, "tests")
        return ((try? FlowLoader.flowFiles(in: testsDirectory)) ?? [])
    }

    public static func load(data: Data, file: String, now: Date = Date()) -> (FlowTest?, [Diagnostic]) {
        var bag = DiagnosticBag()
        guard let text = YAMLReader.text(of: data, file: file, into: &bag),
            let composed = YAMLReader.composeRecovering(text: text, file: file, into: &bag)
        else { return (nil, bag.items) }
        var reader = NodeReader(file: file, source: text)
        let test = decode(composed.node, reader: &reader, now: now)
        let found = reader.bag.items.filter { !composed.repairedLines.contains($0.location.line) }
        let diagnostics = FlowLoader.sortedByPosition(bag.items + found)
        return (diagnostics.contains { $0.severity == .error } ? nil : test, diagnostics)
    }

    static func decode(_ root: Node, reader: inout NodeReader, now: Date) -> FlowTest? {
        guard let entries = reader.mapping(root, "a test file") else { return nil }
        reader.rejectUnknownKeys(entries, allowed: ["name", "timezone", "steps"], in: "a test")
        var zone: TimeZone?
        if let zoneEntry = entries.first(where: { $0.key == "timezone" }), let identifier = reader.string(zoneEntry.value, "'timezone'") {
            zone = TimeZone(identifier: identifier)
            if zone == nil {
                reader.error(
                    zoneEntry.value, "unknown time zone '\(identifier)'",
                    hint: Suggestions.closest(to: identifier, in: TimeZone.knownTimeZoneIdentifiers + ["UTC"]).map { "did you mean '\($0)'?" }
                        ?? "use a name from the IANA time zone database, such as Europe/Moscow")
            }
        }
        let name = entries.first { $0.key == "name" }.flatMap { reader.string($0.value, "'name'") }
        if name == nil, !entries.contains(where: { $0.key == "name" }) { reader.error(root, "a test needs a 'name'") }
        guard let stepsEntry = entries.first(where: { $0.key == "steps" }) else {
            reader.error(root, "a test needs 'steps': a list of events and what they must produce")
            return nil
        }
        guard let items = reader.sequence(stepsEntry.value, "'steps'") else { return nil }
        if items.isEmpty { reader.error(stepsEntry.value, "'steps' is empty") }
        var steps: [FlowTest.Step] = []
        for item in items {
            guard let fields = reader.mapping(item, "a step") else { continue }
            reader.rejectUnknownKeys(fields, allowed: ["event", "expect"], in: "a step")
            guard let eventEntry = fields.first(where: { $0.key == "event" }) else {
                reader.error(item, "a step needs an 'event'")
                continue
            }
            let event = EventReader.read(eventEntry.value, reader: &reader, now: now)
            let expected = fields.first { $0.key == "expect" }.flatMap { expectations($0.value, reader: &reader) }
            if let event { steps.append(FlowTest.Step(event: event, expected: expected, location: reader.location(item))) }
        }
        guard let name else { return nil }
        return FlowTest(name: name, file: reader.file, steps: steps, timeZone: zone)
    }

    /// `nothing`, or a list of `- action: text` / `- action: { text, title, value }` / `- action`.
    static func expectations(_ node: Node, reader: inout NodeReader) -> [FlowTest.ExpectedAction]? {
        if case .scalar(let scalar) = node, scalar.string == "nothing" { return [] }
        guard case .sequence = node else {
            reader.error(
                node, "'expect' must be 'nothing' or a list of actions, found \(NodeReader.kindName(node))",
                hint: "for example: expect: [ { greet: \"Здравствуйте!\" } ]")
            return nil
        }
        guard let items = reader.sequence(node, "'expect'") else { return nil }
        var result: [FlowTest.ExpectedAction] = []
        for item in items {
            let at = reader.location(item)
            var type: String
            var value: Node?
            if case .scalar(let scalar) = item {
                type = scalar.string
            } else {
                guard let fields = reader.mapping(item, "an expected action"), fields.count == 1 else {
                    reader.error(item, "each expected action is one '- action: text' line")
                    continue
                }
                type = fields[0].key
                value = fields[0].value
            }
            guard FlowTest.expectableActions.contains(type) else {
                reader.error(item, "unknown action '\(type)'", hint: Suggestions.hint(for: type, in: FlowTest.expectableActions))
                continue
            }
            var expected = FlowTest.ExpectedAction(type: type, location: at)
            if let value {
                switch value {
                case .scalar where NodeReader.isNull(value):
                    break
                case .scalar:
                    let text = reader.string(value, "the expected text", allowEmpty: true)
                    if type == "set_auto_mode" {
                        expected.value = reader.bool(value, "'set_auto_mode'", style: "on or off").map { $0 ? "on" : "off" }
                    } else {
                        expected.text = text
                    }
                case .mapping:
                    guard let fields = reader.mapping(value, "'\(type)'") else { continue }
                    reader.rejectUnknownKeys(fields, allowed: ["text", "title", "value"], in: "an expected action")
                    for field in fields {
                        let text = reader.string(field.value, "'\(field.key)'", allowEmpty: true)
                        switch field.key {
                        case "text": expected.text = text
                        case "title": expected.title = text
                        default: expected.value = text
                        }
                    }
                default:
                    reader.error(value, "an expected action's value must be a text or a map")
                }
            }
            result.append(expected)
        }
        return result
    }
}
