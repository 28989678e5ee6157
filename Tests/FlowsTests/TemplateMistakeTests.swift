import Foundation
import Testing

@testable import Flows

// Template mistakes: each message names the tags involved and points into the text.

private func loadReply(_ text: String) -> [Diagnostic] {
    let flow = "name: A\non: app_message\ndo:\n  - reply: \(text)\n"
    return FlowLoader.load(files: [(path: "flow.yaml", data: Data(flow.utf8))]).diagnostics
}

/// The column of `needle` on line 4 (`  - reply: ` is 11 columns).
private func column(of needle: String, in text: String) -> Int {
    guard let range = text.range(of: needle) else { return 0 }
    return 12 + text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: range.lowerBound)
}

private func expectOne(
    _ diagnostics: [Diagnostic], _ severity: Diagnostic.Severity = .error, at column: Int, _ words: String..., hint: String? = nil,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    let here = diagnostics.filter { $0.severity == severity && $0.location.line == 4 && $0.location.column == column }
    guard here.count == 1, let diagnostic = here.first else {
        Issue.record("expected one \(severity) at 4:\(column); got:\n\(diagnostics.map(\.description).joined(separator: "\n"))", sourceLocation: sourceLocation)
        return
    }
    for word in words {
        #expect(diagnostic.message.contains(word), "'\(diagnostic.message)' should contain '\(word)'", sourceLocation: sourceLocation)
    }
    if let hint {
        #expect(diagnostic.hint?.contains(hint) == true, "hint '\(diagnostic.hint ?? "nil")' should contain '\(hint)'", sourceLocation: sourceLocation)
    }
}

@Suite("Template mistakes name the tags")
struct TemplateMistakeTests {
    @Test("an unclosed section names its closing tag, {{/user.name}}, at the opening tag")
    func unclosedSection() {
        let text = "\"Здравствуйте{{#user.name}}, {{user.name}}!\""
        expectOne(loadReply(text), at: column(of: "{{#", in: text), "'{{#user.name}}'", "never closed", "'{{/user.name}}'")
    }

    @Test("a missing brace at the end of a text says the tag is not closed, never 'overflow'")
    func missingBraceAtEnd() {
        let text = "\"Спасибо, {{user.name}\""
        let found = loadReply(text)
        expectOne(found, at: column(of: "{{", in: text), "a tag is not closed: expected '}}'")
        #expect(!found.contains { $0.message.contains("overflow") })
    }

    @Test("a missing brace in the middle of a text gets the same message")
    func missingBraceInMiddle() {
        let text = "\"Спасибо, {{user.name}!\""
        expectOne(loadReply(text), at: column(of: "{{", in: text), "a tag is not closed: expected '}}'")
    }

    @Test("an unknown variable points at the variable, not at the opening quote")
    func unknownVariable() {
        let text = "\"Привет, {{usr.name}}!\""
        expectOne(loadReply(text), at: column(of: "usr.name", in: text), "unknown template variable 'usr.name'", hint: "user.name")
    }

    @Test("a section closed with another name names both tags")
    func mismatchedClose() {
        let text = "\"{{#user.name}}x{{/user.id}}\""
        expectOne(loadReply(text), at: column(of: "{{/", in: text), "'{{#user.name}}'", "'{{/user.id}}'", "'{{/user.name}}'")
    }

    @Test("one brace short or too many is a warning with did-you-mean", arguments: ["{user.name}", "{user.name}}", "{{user.name}}}"])
    func strayBraces(written: String) {
        let text = "\"Привет, \(written)!\""
        expectOne(loadReply(text), .warning, at: column(of: written, in: text), "'\(written)'", "customer", hint: "did you mean '{{user.name}}'?")
    }

    @Test("the docs' multi-line text loads, and a mistake in it is pointed at on its own line")
    func multiLineText() {
        let good = "name: A\non: app_message\ndo:\n  - reply: |\n      Здравствуйте{{#user.name}}, {{user.name}}{{/user.name}}!\n      Мы работаем с 9:00 до 18:00 # по Москве.\n"
        let result = FlowLoader.load(files: [(path: "flow.yaml", data: Data(good.utf8))])
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let bad = "name: A\non: app_message\ndo:\n  - reply: |\n      Здравствуйте!\n      Ваш номер: {{usr.id}}\n"
        let found = FlowLoader.load(files: [(path: "flow.yaml", data: Data(bad.utf8))]).diagnostics
        #expect(found.contains { $0.location.line == 6 && $0.location.column == 20 && $0.message.contains("usr.id") }, "\(found)")
    }
}
