import Foundation

/// Writes an event and what the flows did with it as a step of a flow test file, in the
/// file's own syntax: what the studio's "save as test" adds to `flows/tests/`.
public enum FlowTestWriter {
    /// One step: the event (its YAML as given, a flow-style line or a block) and the
    /// actions it must produce; `expect: nothing` when there were none.
    public static func step(eventYAML: String, actions: [PerformedAction]) -> String {
        let event = eventYAML.trimmingCharacters(in: .whitespacesAndNewlines)
        var lines: [String] = []
        if event.contains("\n") {
            lines.append("  - event:")
            lines += event.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "      " + $0 }
        } else {
            lines.append("  - event: " + event)
        }
        if actions.isEmpty {
            lines.append("    expect: nothing")
        } else {
            lines.append("    expect:")
            for action in actions {
                lines.append("      - " + FlowTest.expectLine(type: action.type, text: action.text, title: action.title, value: action.value))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A new test file holding one step.
    public static func newFile(name: String, step: String) -> String {
        "name: \(FlowTest.quoted(name))\nsteps:\n" + step
    }

    /// `existing` with `step` added after its last step. The step list must be the file's
    /// last part (as `newFile` writes it); the caller checks the result reads as one more step.
    public static func appending(_ step: String, to existing: String) -> String {
        var text = existing
        if !text.isEmpty, !text.hasSuffix("\n") { text += "\n" }
        return text + step
    }
}
