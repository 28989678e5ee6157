import Foundation
import Testing

@testable import Flows

// Words people write for the language's words: shortened names, everyday words, other
// tools' keys, autocorrect's long dash. Each gets a did-you-mean at the word itself.

private func diagnostics(_ text: String) -> [Diagnostic] {
    FlowLoader.load(files: [(path: "flow.yaml", data: Data(text.utf8))]).diagnostics
}

private func expectAt(
    _ found: [Diagnostic], _ line: Int, _ column: Int, _ words: String..., hint: String,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    let here = found.filter { $0.severity == .error && $0.location.line == line && $0.location.column == column }
    guard here.count == 1, let diagnostic = here.first else {
        Issue.record("expected one error at \(line):\(column); got:\n\(found.map(\.description).joined(separator: "\n"))", sourceLocation: sourceLocation)
        return
    }
    for word in words { #expect(diagnostic.message.contains(word), "'\(diagnostic.message)' lacks '\(word)'", sourceLocation: sourceLocation) }
    #expect(diagnostic.hint?.contains(hint) == true, "hint '\(diagnostic.hint ?? "nil")' lacks '\(hint)'", sourceLocation: sourceLocation)
}

private func flow(if condition: String) -> String {
    "name: A\non: app_message\nif:\n  \(condition)\ndo:\n  - reply: x\n"
}

@Suite("Did you mean")
struct DidYouMeanTests {
    @Test("on: history_first_fetch suggests history_first_fetch_today")
    func shortenedTrigger() {
        expectAt(
            diagnostics("name: A\non: history_first_fetch\ndo:\n  - greet: x\n"), 2, 5, "unknown trigger 'history_first_fetch'",
            hint: "did you mean 'history_first_fetch_today'?")
    }

    @Test("on: telegram_msg suggests telegram_message")
    func abbreviatedTrigger() {
        expectAt(
            diagnostics("name: A\non: telegram_msg\ndo:\n  - reply: x\n"), 2, 5, "unknown trigger 'telegram_msg'", hint: "did you mean 'telegram_message'?")
    }

    @Test("once_per_user: daily suggests day")
    func daily() {
        expectAt(
            diagnostics("name: A\non: app_message\nonce_per_user: daily\ndo:\n  - reply: x\n"), 3, 16, "'daily'", "once_per_user", hint: "did you mean 'day'?")
    }

    @Test("media: foto suggests photo")
    func foto() {
        expectAt(diagnostics(flow(if: "media: foto")), 4, 10, "'foto' is not a media kind", hint: "did you mean 'photo'?")
    }

    @Test("timezone: utc suggests UTC")
    func utc() {
        let found = diagnostics(flow(if: "time: { between: \"09:00-18:00\", timezone: utc }"))
        expectAt(found, 4, 45, "unknown time zone 'utc'", hint: "did you mean 'UTC'?")
    }

    @Test("an event of kind history_first_fetch_today is told the event is history_fetch")
    func triggerAsEventKind() {
        let (event, found) = EventFile.load(data: Data("kind: history_first_fetch_today\nuser: { id: \"1\" }\n".utf8), file: "event.yaml")
        #expect(event == nil)
        expectAt(found, 1, 7, "is a trigger", "not an event kind", hint: "did you mean 'history_fetch'?")
    }

    @Test("when: and actions: suggest on: and do:")
    func otherToolsKeys() {
        let found = diagnostics("name: A\nwhen: app_message\nactions:\n  - reply: x\n")
        expectAt(found, 2, 1, "unknown key 'when'", hint: "did you mean 'on'?")
        expectAt(found, 3, 1, "unknown key 'actions'", hint: "did you mean 'do'?")
    }

    @Test("an en dash in 09:00–18:00 says to type a plain hyphen")
    func enDash() {
        expectAt(diagnostics(flow(if: "time: { between: \"09:00–18:00\" }")), 4, 20, "long dash", "not a hyphen", hint: "did you mean \"09:00-18:00\"?")
    }

    @Test("18:00-18:00 is an empty window (LoaderTests covers the other malformed windows)")
    func emptyWindow() {
        expectAt(diagnostics(flow(if: "time: { between: \"18:00-18:00\" }")), 4, 20, "empty window", "same time", hint: "leave out 'time'")
    }

    @Test("a shortened word matches only when one candidate fits")
    func abbreviationIsUnambiguous() {
        #expect(Suggestions.closest(to: "telegram", in: Vocabulary.triggerNames) == nil)
        #expect(Suggestions.closest(to: "app", in: Vocabulary.triggerNames) == nil)
    }

    @Test("a misspelt command: the CLI's wording comes from here")
    func command() {
        #expect(Suggestions.unknownCommand("chek", commands: ["check", "test", "replay"]) == "'chek' is not a replyflow command (did you mean 'check'?)")
    }
}
