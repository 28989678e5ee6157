import Foundation
import Testing

@testable import Flows

// The YAML mistakes people who are not programmers make, one test each: the message is at
// the place the fix goes and names the fix, in plain words.

private func loadFlow(_ text: String) -> [Diagnostic] {
    FlowLoader.load(files: [(path: "flow.yaml", data: Data(text.utf8))]).diagnostics
}

/// Expects one diagnostic of `severity` at `line:column` whose message (and hint, when
/// given) contain the given words. Shows every diagnostic when none matches.
private func expectMessage(
    _ diagnostics: [Diagnostic], _ severity: Diagnostic.Severity = .error, at line: Int, _ column: Int, _ words: String..., hint: String? = nil,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    let here = diagnostics.filter { $0.severity == severity && $0.location.line == line && $0.location.column == column }
    guard here.count == 1, let diagnostic = here.first else {
        Issue.record("expected one \(severity) at \(line):\(column); got:\n\(diagnostics.map(\.description).joined(separator: "\n"))", sourceLocation: sourceLocation)
        return
    }
    for word in words {
        #expect(diagnostic.message.contains(word), "'\(diagnostic.message)' should contain '\(word)'", sourceLocation: sourceLocation)
    }
    if let hint {
        #expect(diagnostic.hint?.contains(hint) == true, "hint '\(diagnostic.hint ?? "nil")' should contain '\(hint)'", sourceLocation: sourceLocation)
    }
}

private let head = "name: A\non: app_message\ndo:\n"

@Suite("YAML mistakes get a plain fix")
struct YAMLMistakeTests {
    @Test("an unquoted text with ': ' says to put the whole text in double quotes, at the text")
    func colonInText() {
        let found = loadFlow(head + "  - greet: Здравствуйте! Часы работы: 9-18\n")
        expectMessage(found, at: 4, 12, "': '", hint: "double quotes: greet: \"Здравствуйте! Часы работы: 9-18\"")
    }

    @Test("an unquoted text starting with {{ followed by more text says to quote it")
    func templateThenText() {
        let found = loadFlow(head + "  - greet: {{user.name}}, здравствуйте!\n")
        expectMessage(found, at: 4, 12, "'{{'", "double quotes", hint: "greet: \"{{user.name}}, здравствуйте!\"")
        #expect(!found.contains { $0.message.contains("must be a text") })
    }

    @Test("text: {{message.text}} under push (valid YAML: a map) says to quote it, not 'found a map'")
    func templateAloneUnderPush() {
        let found = loadFlow(head + "  - push:\n      text: {{message.text}}\n")
        expectMessage(found, at: 5, 13, "'{{'", "double quotes", hint: "text: \"{{message.text}}\"")
        #expect(!found.contains { $0.message.contains("found a map") })
    }

    @Test("a quote inside a quoted text points at the quote that ends it early")
    func quoteInsideQuotes() {
        let found = loadFlow(head + "  - reply: \"Say \"hi\" now\"\n")
        expectMessage(found, at: 4, 17, "ends the text early", hint: "\\\"")
    }

    @Test("a missing closing quote is reported at the opening quote, inside the file")
    func missingClosingQuote() {
        let found = loadFlow(head + "  - reply: \"Say hi now\n")
        expectMessage(found, at: 4, 12, "never closes", hint: "end the text with \"")
        #expect(found.allSatisfy { $0.location.line <= 4 }, "no position past the end of the file")
    }

    @Test("a backslash escape in double quotes ('^\\d{6}$') says to double it or use single quotes")
    func backslashInDoubleQuotes() {
        let found = loadFlow("name: A\non: app_message\nif:\n  text_matches: \"^\\d{6}$\"\ndo:\n  - reply: x\n")
        expectMessage(found, at: 4, 19, "'\\d'", hint: "\\\\d")
        #expect(found.first?.hint?.contains("'^\\d{6}$'") == true)
    }

    @Test("a text in typographic quotes is a warning: the customer would see them")
    func typographicQuotes() {
        let found = loadFlow(head + "  - reply: “Спасибо!”\n")
        expectMessage(found, .warning, at: 4, 12, "curly quote", "customer", hint: "straight double quotes")
    }

    @Test("' #' in an unquoted text is a warning: the rest of the line is a comment")
    func hashInText() {
        let found = loadFlow(head + "  - reply: Ваш заказ #123 готов\n  - reply: Пункт#2 готов\n")
        expectMessage(found, .warning, at: 4, 22, "comment", "'Ваш заказ'", hint: "double quotes: \"Ваш заказ #123 готов\"")
        #expect(!found.contains { $0.location.line == 5 }, "a '#' right after a word is text, not a comment")
    }

    @Test("a key indented one space more than the key above names that key and its indentation")
    func indentationOneSpaceOff() {
        let found = loadFlow("name: A\non: app_message\nif:\n  auto_mode: on\n   media: voice\ndo:\n  - reply: x\n")
        expectMessage(found, at: 5, 4, "indented 3 spaces", "'auto_mode' on line 4", hint: "indent it by 2 spaces")
    }

    @Test("a key indented one space less than the key above names that key")
    func indentationOneSpaceLess() {
        let found = loadFlow("name: A\non: app_message\nif:\n  auto_mode: on\n media: voice\ndo:\n  - reply: x\n")
        expectMessage(found, at: 5, 2, "indented 1 space", "line 4", hint: "indent it by 2 spaces")
    }

    @Test("a list item deeper than the item above says to line up the '-'", arguments: [3, 4])
    func listItemTooDeep(spaces: Int) {
        let found = loadFlow(head + "  - reply: x\n" + String(repeating: " ", count: spaces) + "- greet: y\n")
        expectMessage(found, at: 5, spaces + 1, "deeper than the '- ' item on line 4", hint: "under the '-' on line 4")
    }

    @Test("'- greet:\"Hi\"' says a space is needed after the colon, at the colon")
    func missingSpaceAfterColon() {
        let found = loadFlow(head + "  - greet:\"Hi\"\n")
        expectMessage(found, at: 4, 10, "space after the colon", hint: "greet: \"Hi\"")
    }

    @Test("a tab after '-' says to use a space, and the rest of the file is still checked")
    func tabAfterDash() {
        let found = loadFlow(head + "  -\treply: x\n  - replyy: y\n")
        expectMessage(found, at: 4, 4, "tab after '-'", hint: "space")
        expectMessage(found, at: 5, 5, "unknown action 'replyy'")
    }

    @Test("a YAML error does not hide the file's other errors; they come sorted by line")
    func otherErrorsStillFound() {
        let text = "name: A\non: app_mesage\ndo:\n  - greet: Часы работы: 9-18\n  - replyy: x\n"
        let found = loadFlow(text)
        expectMessage(found, at: 2, 5, "unknown trigger", hint: "app_message")
        expectMessage(found, at: 4, 12, "': '")
        expectMessage(found, at: 5, 5, "unknown action")
        #expect(found.map(\.location.line) == found.map(\.location.line).sorted())
        #expect(FlowLoader.load(files: [(path: "flow.yaml", data: Data(text.utf8))]).flowSet == nil)
    }

    @Test("a duplicate key names both lines")
    func duplicateKey() {
        let found = loadFlow("name: A\non: app_message\ndo:\n  - reply: x\non: telegram_message\n")
        expectMessage(found, at: 5, 1, "'on' appears twice", "line 2", "line 5")
    }
}
