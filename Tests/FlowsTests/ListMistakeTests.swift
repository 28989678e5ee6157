import Foundation
import Testing

@testable import Flows

// Values that take a list, written with commas: the message shows the list form.

private func diagnostics(_ text: String) -> [Diagnostic] {
    FlowLoader.load(files: [(path: "flow.yaml", data: Data(text.utf8))]).diagnostics
}

private func expectAt(
    _ found: [Diagnostic], _ line: Int, _ column: Int, _ words: String..., severity: Diagnostic.Severity = .error, hint: String,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    let here = found.filter { $0.severity == severity && $0.location.line == line && $0.location.column == column }
    guard here.count == 1, let diagnostic = here.first else {
        Issue.record("expected one \(severity) at \(line):\(column); got:\n\(found.map(\.description).joined(separator: "\n"))", sourceLocation: sourceLocation)
        return
    }
    for word in words { #expect(diagnostic.message.contains(word), "'\(diagnostic.message)' lacks '\(word)'", sourceLocation: sourceLocation) }
    #expect(diagnostic.hint?.contains(hint) == true, "hint '\(diagnostic.hint ?? "nil")' lacks '\(hint)'", sourceLocation: sourceLocation)
}

@Suite("Lists written with commas")
struct ListMistakeTests {
    @Test("text_contains with commas warns that it is one phrase and shows the list form")
    func textContainsPhrase() {
        let found = diagnostics("name: A\non: app_message\nif:\n  text_contains: возврат, вернуть\ndo:\n  - reply: x\n")
        expectAt(found, 4, 18, "one phrase", severity: .warning, hint: "text_contains: [возврат, вернуть]")
        #expect(!found.contains { $0.severity == .error })
    }

    @Test("media: voice, audio says to write a list")
    func mediaWithCommas() {
        let found = diagnostics("name: A\non: app_message\nif:\n  media: voice, audio\ndo:\n  - reply: x\n")
        expectAt(found, 4, 10, "write a list: [voice, audio]", hint: "media: [voice, audio]")
    }

    @Test("source: app, telegram says to write a list")
    func sourceWithCommas() {
        let found = diagnostics("name: A\non: app_message\nif:\n  source: app, telegram\ndo:\n  - reply: x\n")
        expectAt(found, 4, 11, "write a list: [app, telegram]", hint: "source: [app, telegram]")
    }

    @Test("on: app_message, telegram_message says to write a list")
    func triggersWithCommas() {
        let found = diagnostics("name: A\non: app_message, telegram_message\ndo:\n  - reply: x\n")
        expectAt(found, 2, 5, "write a list: [app_message, telegram_message]", hint: "on: [app_message, telegram_message]")
    }

    @Test("days: sat,sun inside { } explains that the comma separates keys; [sat, sun] loads")
    func daysInFlowStyle() {
        let text = "name: A\non: app_message\nif:\n  time: { between: \"10:00-16:00\", days: sat,sun }\ndo:\n  - reply: x\n"
        expectAt(diagnostics(text), 4, 45, "'sun'", "comma separates keys", hint: "days: [sat, sun]")
        let fixed = text.replacingOccurrences(of: "sat,sun", with: "[sat, sun]")
        #expect(diagnostics(fixed).isEmpty)
    }
}
