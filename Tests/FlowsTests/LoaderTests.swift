import Foundation
import Testing

@testable import Flows

// Loading flows: every problem is reported with `file:line:col`, a message that says what
// is wrong, and a hint where one helps. A file with an error never becomes part of a flow set.

/// Loads in-memory files as the CLI and the server would load a directory.
private func load(_ files: [(String, String)]) -> FlowLoadResult {
    FlowLoader.load(files: files.map { (path: $0.0, data: Data($0.1.utf8)) })
}

private func load(_ text: String, path: String = "flow.yaml") -> FlowLoadResult {
    load([(path, text)])
}

/// The 1-based line and column of the `occurrence`-th appearance of `needle` in `text`,
/// counted in characters as editors count them. Positions in the tests are computed from
/// the input, so a test states *what* is pointed at, not a magic number.
private func position(of needle: String, in text: String, occurrence: Int = 1) -> (line: Int, column: Int) {
    var seen = 0
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        var searchStart = line.startIndex
        while let range = line[searchStart...].range(of: needle) {
            seen += 1
            if seen == occurrence {
                return (index + 1, line.distance(from: line.startIndex, to: range.lowerBound) + 1)
            }
            searchStart = range.upperBound
        }
    }
    Issue.record("'\(needle)' does not occur \(occurrence) time(s) in the test input")
    return (0, 0)
}

/// Expects exactly one diagnostic of `severity` at `file:line:col` whose message contains
/// every one of `message`, and (when given) whose hint contains `hint`. Returns it.
@discardableResult
private func expectDiagnostic(
    _ result: FlowLoadResult,
    _ severity: Diagnostic.Severity = .error,
    file: String = "flow.yaml",
    at position: (line: Int, column: Int),
    _ message: String...,
    hint: String? = nil,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) -> Diagnostic? {
    let matching = result.diagnostics.filter {
        $0.severity == severity && $0.location.file == file && $0.location.line == position.line && $0.location.column == position.column
    }
    guard let diagnostic = matching.first else {
        let got = result.diagnostics.map(\.description).joined(separator: "\n")
        Issue.record("no \(severity) at \(file):\(position.line):\(position.column); got:\n\(got)", sourceLocation: sourceLocation)
        return nil
    }
    #expect(matching.count == 1, "more than one \(severity) at the same place: \(matching)", sourceLocation: sourceLocation)
    for part in message {
        #expect(diagnostic.message.contains(part), "message '\(diagnostic.message)' should contain '\(part)'", sourceLocation: sourceLocation)
    }
    if let hint {
        #expect(diagnostic.hint?.contains(hint) == true, "hint '\(diagnostic.hint ?? "nil")' should contain '\(hint)'", sourceLocation: sourceLocation)
    }
    return diagnostic
}

/// The same line, `by` columns further right.
private func shifted(_ position: (line: Int, column: Int), by columns: Int) -> (line: Int, column: Int) {
    (position.line, position.column + columns)
}

private func errors(_ result: FlowLoadResult) -> [Diagnostic] {
    result.diagnostics.filter { $0.severity == .error }
}

/// The package root, from this file's path: Tests/FlowsTests/LoaderTests.swift.
private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite("Loader: did-you-mean hints for misspelt words")
struct LoaderHintTests {
    @Test("an unknown top-level key is an error at the key, with the closest key as hint")
    func unknownTopLevelKey() {
        let text = "name: A\non: app_message\npriorty: 5\ndo:\n  - reply: hi\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "priorty", in: text), "unknown key 'priorty'", hint: "did you mean 'priority'?")
        #expect(result.flowSet == nil)
        #expect(errors(result).count == 1)
    }

    @Test("an unknown trigger names the closest trigger")
    func unknownTrigger() {
        let text = "name: A\non: app_mesage\ndo:\n  - reply: hi\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "app_mesage", in: text), "unknown trigger 'app_mesage'", hint: "did you mean 'app_message'?")
        #expect(result.flowSet == nil)
    }

    @Test("an unknown trigger inside a list is pointed at in the list")
    func unknownTriggerInList() {
        let text = "name: A\non: [instagram_dm, telegram_mesage]\ndo:\n  - reply: hi\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "telegram_mesage", in: text), "unknown trigger 'telegram_mesage'", hint: "did you mean 'telegram_message'?")
    }

    @Test("an unknown action names the closest action")
    func unknownAction() {
        let text = "name: A\non: app_message\ndo:\n  - replly: hi\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "replly", in: text), "unknown action 'replly'", hint: "did you mean 'reply'?")
        #expect(result.flowSet == nil)
    }

    @Test("an unknown condition close to a real one names it")
    func unknownConditionTypo() {
        let text = "name: A\non: app_message\nif:\n  auto_mod: on\ndo:\n  - reply: hi\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "auto_mod", in: text), "unknown condition 'auto_mod'", hint: "did you mean 'auto_mode'?")
        #expect(result.flowSet == nil)
    }

    @Test("an unknown condition far from any real one lists the allowed conditions")
    func unknownConditionListsAllowed() {
        let text = "name: A\non: app_message\nif:\n  weather: sunny\ndo:\n  - reply: hi\n"
        let result = load(text)
        let diagnostic = expectDiagnostic(result, at: position(of: "weather", in: text), "unknown condition 'weather'")
        for condition in ["auto_mode", "media", "text_contains", "time", "first_message", "any", "not"] {
            #expect(diagnostic?.hint?.contains(condition) == true, "hint should list \(condition)")
        }
        #expect(diagnostic?.hint?.contains("did you mean") == false, "a wild guess is worse than no guess")
    }
}

@Suite("Loader: values of the wrong type or out of range")
struct LoaderValueTests {
    @Test("priority must be a whole number")
    func priorityNotANumber() {
        let text = "name: A\non: app_message\npriority: high\ndo:\n  - reply: hi\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "high", in: text), "'priority'", "whole number", "'high'")
        #expect(result.flowSet == nil)
    }

    @Test("once_per_user lists its allowed periods")
    func oncePerUserEnum() {
        let text = "name: A\non: app_message\nonce_per_user: month\ndo:\n  - reply: hi\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "month", in: text), "'month'", "once_per_user", hint: "hour, day, week, ever")
    }

    @Test("a regular expression that does not compile is an error at the pattern")
    func badRegex() {
        let text = "name: A\non: app_message\nif:\n  text_matches: \"([\"\ndo:\n  - reply: hi\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "\"([\"", in: text), "'([' is not a valid regular expression")
        #expect(result.flowSet == nil)
    }

    @Test("an unknown time zone suggests the closest IANA name")
    func unknownTimeZone() {
        let text = "name: A\non: app_message\nif:\n  time: { between: \"09:00-18:00\", timezone: Europe/Moskow }\ndo:\n  - reply: hi\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "Europe/Moskow", in: text), "unknown time zone 'Europe/Moskow'", hint: "did you mean 'Europe/Moscow'?")
    }

    @Test("a malformed time window is an error at the window", arguments: ["25:00-18:00", "9-18", "09:00", "09:60-18:00", "aa:bb-cc:dd"])
    func malformedTimeWindow(window: String) {
        let text = "name: A\non: app_message\nif:\n  time: { between: \"\(window)\" }\ndo:\n  - reply: hi\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "\"\(window)\"", in: text), "'\(window)' is not a time window", hint: "HH:MM-HH:MM")
        #expect(result.flowSet == nil)
    }

    @Test("well-formed time windows load, overnight and 24:00 included", arguments: ["09:00-18:00", "22:00-06:00", "9:00-18:00", "00:00-24:00"])
    func wellFormedTimeWindow(window: String) {
        let text = "name: A\non: app_message\nif:\n  time: { between: \"\(window)\", days: mon-fri, timezone: Europe/Moscow }\ndo:\n  - reply: hi\n"
        let result = load(text)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(result.flowSet != nil)
    }

    @Test("an unknown day in 'days' is an error with a hint")
    func unknownDay() {
        let text = "name: A\non: app_message\nif:\n  time: { between: \"09:00-18:00\", days: mon-fry }\ndo:\n  - reply: hi\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "mon-fry", in: text), "'fry' is not a day", hint: "did you mean 'fri'?")
    }

    @Test("'variant:' naming a variant the experiment does not have is an error with the variants listed")
    func unknownVariant() {
        let text = """
            name: A
            on: app_message
            if:
              variant: blue
            experiment:
              key: colours
              variants:
                - name: red
                  do: [ { reply: a } ]
                - name: green
                  do: [ { reply: b } ]

            """
        let result = load(text)
        expectDiagnostic(result, at: position(of: "blue", in: text), "no variant 'blue'", hint: "red, green")
        #expect(result.flowSet == nil)
    }

    @Test("'variant:' in a flow without an experiment is an error")
    func variantWithoutExperiment() {
        let text = "name: A\non: app_message\nif:\n  variant: red\ndo:\n  - reply: hi\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "red", in: text), "'variant' needs an 'experiment'")
    }

    @Test("a weight of zero or below is an error at each such weight")
    func nonPositiveWeight() {
        let text = """
            name: A
            on: app_message
            experiment:
              key: colours
              variants:
                - name: red
                  weight: 0
                  do: [ { reply: a } ]
                - name: green
                  weight: -1
                  do: [ { reply: b } ]

            """
        let result = load(text)
        expectDiagnostic(result, at: position(of: "0", in: text), "weight must be positive", "0")
        expectDiagnostic(result, at: position(of: "-1", in: text), "weight must be positive", "-1")
        #expect(errors(result).count == 2)
        #expect(result.flowSet == nil)
    }

    @Test("an experiment with a valid variant condition loads and names the variant")
    func validVariantCondition() throws {
        let text = """
            name: A
            on: app_message
            if:
              variant: green
            experiment:
              key: colours
              variants:
                - name: red
                  weight: 1
                  do: [ { reply: a } ]
                - name: green
                  weight: 3
                  do: [ { reply: "b {{variant}}" } ]

            """
        let result = load(text)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let flow = try #require(result.flowSet?.flows.first)
        #expect(flow.experiment?.key == "colours")
        #expect(flow.experiment?.variants.map(\.name) == ["red", "green"])
        #expect(flow.experiment?.variants.map(\.weight) == [1, 3])
    }
}

@Suite("Loader: template variables must exist where they are used")
struct LoaderTemplateTests {
    @Test("{{answer}} before any ask_assistant is an error at that text")
    func answerBeforeAskAssistant() {
        let text = "name: A\non: app_message\ndo:\n  - reply: \"{{answer}}\"\n  - ask_assistant: {}\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "answer}}", in: text), "'{{answer}}' is not available", "ask_assistant", hint: "ask_assistant")
        #expect(result.flowSet == nil)
    }

    @Test("an object printed whole ({{user}}, or {{.}} inside {{#chat}}) is an error: it has no text of its own")
    func objectPrintedWhole() {
        let whole = "name: A\non: app_message\ndo:\n  - reply: \"Hi {{user}}\"\n"
        expectDiagnostic(load(whole), at: position(of: "user}}", in: whole), "'{{user}}' has no text of its own", hint: "{{user.name}}")
        let dot = "name: A\non: app_message\ndo:\n  - reply: \"{{#chat}}{{.}}{{/chat}}\"\n"
        expectDiagnostic(load(dot), at: position(of: ".}}", in: dot), "'{{.}}' is the whole 'chat'", hint: "{{source}}")
        let fields = "name: A\non: app_message\ndo:\n  - reply: \"{{#user}}{{name}} {{id}}{{/user}} {{#user.name}}{{.}}{{/user.name}}\"\n"
        #expect(load(fields).diagnostics.isEmpty, "\(load(fields).diagnostics)")
    }

    @Test("a content-type pragma is an error: values would be escaped as HTML")
    func contentTypePragma() {
        let text = "name: A\non: app_message\ndo:\n  - reply: \"{{%CONTENT_TYPE:HTML}}Hi {{user.name}}\"\n"
        let result = load(text)
        #expect(result.flowSet == nil)
        #expect(result.diagnostics.contains { $0.message.contains("pragmas are not supported") }, "\(result.diagnostics)")
    }

    @Test("{{answer}} after ask_assistant loads without any diagnostic")
    func answerAfterAskAssistant() {
        let text = "name: A\non: app_message\ndo:\n  - ask_assistant: {}\n  - reply: \"{{answer}}\"\n"
        let result = load(text)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(result.flowSet?.flows.count == 1)
    }

    @Test("{{answer}} inside ask_assistant's own on_failure is an error: there is no answer")
    func answerInOnFailure() {
        let text = "name: A\non: app_message\ndo:\n  - ask_assistant:\n      on_failure:\n        - reply: \"{{answer}}\"\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "answer}}", in: text), "'{{answer}}' is not available")
    }

    @Test("{{transcript}} inside a branch after transcribe, and after the branch, loads")
    func transcriptInsideBranch() {
        let text = """
            name: A
            on: app_message
            do:
              - if: { media: voice }
                then:
                  - transcribe: {}
                  - reply: "{{transcript}}"
              - reply: "heard: {{transcript}}"

            """
        let result = load(text)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(result.flowSet != nil)
    }

    @Test("{{transcript}} without any transcribe is an error")
    func transcriptWithoutTranscribe() {
        let text = "name: A\non: app_message\ndo:\n  - reply: \"{{transcript}}\"\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "transcript}}", in: text), "'{{transcript}}' is not available", hint: "transcribe")
    }

    @Test("{{message.text}} in a history_first_fetch_today flow is an error: that trigger has no message")
    func messageTextWithoutMessage() {
        let text = "name: A\non: history_first_fetch_today\ndo:\n  - greet: \"Hi {{message.text}}\"\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "message.text", in: text), "'{{message.text}}' is not available", "history_first_fetch_today")
        #expect(result.flowSet == nil)
    }

    @Test("{{message.text}} in an app_message flow is fine")
    func messageTextWithMessage() {
        let result = load("name: A\non: app_message\ndo:\n  - reply: \"You wrote {{message.text}}\"\n")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
    }

    @Test("a misspelt field of a known object names the closest field")
    func unknownFieldWithHint() {
        let text = "name: A\non: app_message\ndo:\n  - reply: \"Hi {{user.nmae}}\"\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "user.nmae", in: text), "'user' has no 'nmae'", hint: "did you mean 'user.name'?")
        #expect(result.flowSet == nil)
    }

    @Test("an unknown top-level variable names the closest variable")
    func unknownVariableWithHint() {
        let text = "name: A\non: app_message\ndo:\n  - reply: \"Hi {{usr.name}}\"\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "usr.name", in: text), "unknown template variable 'usr.name'", hint: "did you mean 'user.name'?")
    }

    @Test("an unclosed section is a template error positioned inside the line of the text")
    func unclosedSection() {
        let text = "name: A\non: app_message\ndo:\n  - reply: \"{{#user.name}}x\"\n"
        let result = load(text)
        // The error points at the section left open and names the tag that closes it.
        let diagnostic = expectDiagnostic(result, at: position(of: "{{#", in: text), "template error", "never closed", "'{{/user.name}}'")
        #expect(diagnostic != nil)
        #expect(result.flowSet == nil)
    }

    @Test("a template error after Cyrillic text is positioned in characters, as editors count")
    func unclosedSectionAfterCyrillic() {
        let text = "name: A\non: app_message\ndo:\n  - reply: \"Привет {{#user.name}}x\"\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "{{#", in: text), "template error", "never closed")
    }

    @Test("a section closed with another name is a template error")
    func mismatchedSection() {
        let text = "name: A\non: app_message\ndo:\n  - reply: \"{{#user.name}}x{{/user.id}}\"\n"
        let result = load(text)
        let template = errors(result).filter { $0.message.contains("template error") }
        #expect(template.count == 1)
        #expect(template.first?.location.line == 4)
        #expect(result.flowSet == nil)
    }
}

@Suite("Loader: unreachable actions")
struct LoaderUnreachableTests {
    @Test("actions after 'stop' are a warning (not an error) at the first of them; the flow still loads")
    func actionsAfterStop() throws {
        let text = "name: A\non: app_message\ndo:\n  - reply: before\n  - stop: {}\n  - reply: after\n  - greet: later\n"
        let result = load(text)
        #expect(errors(result).isEmpty, "\(result.diagnostics)")
        let warning = expectDiagnostic(result, .warning, at: position(of: "reply: after", in: text), "never runs", "after 'stop'")
        #expect(warning?.message.contains("line \(position(of: "stop", in: text).line)") == true)
        #expect(result.diagnostics.count == 1, "one warning for the unreachable run, not one per action")
        let flow = try #require(result.flowSet?.flows.first)
        #expect(flow.actions.map(\.name) == ["reply", "stop", "reply", "greet"])
    }

    @Test("'else' without 'if' is a warning: it never runs")
    func elseWithoutIf() {
        let text = "name: A\non: app_message\ndo:\n  - reply: a\nelse:\n  - reply: b\n"
        let result = load(text)
        expectDiagnostic(result, .warning, at: position(of: "else", in: text), "'else' never runs")
        #expect(result.flowSet != nil)
    }
}

@Suite("Loader: files that are not valid flow YAML")
struct LoaderFileShapeTests {
    @Test("duplicate flow names across two files: an error in the later file naming the other file")
    func duplicateNamesAcrossFiles() {
        let first = "name: Greeting\non: app_message\ndo:\n  - reply: a\n"
        let second = "# the same name again\nname: Greeting\non: app_message\ndo:\n  - reply: b\n"
        let result = load([("b.yaml", second), ("a.yaml", first)])
        #expect(errors(result).count == 1, "\(result.diagnostics)")
        let diagnostic = errors(result).first
        #expect(diagnostic?.location.file == "b.yaml")
        #expect(diagnostic?.location.line == 2)
        #expect(diagnostic?.message.contains("'Greeting'") == true)
        #expect(diagnostic?.hint?.contains("a.yaml") == true)
        #expect(result.flowSet == nil)
    }

    @Test("duplicate experiment keys across files are an error")
    func duplicateExperimentKeys() {
        func flow(_ name: String) -> String {
            "name: \(name)\non: app_message\nexperiment:\n  key: same-key\n  variants:\n    - { name: a, do: [ { reply: x } ] }\n    - { name: b, do: [ { reply: y } ] }\n"
        }
        let result = load([("a.yaml", flow("A")), ("b.yaml", flow("B"))])
        #expect(errors(result).count == 1)
        #expect(errors(result).first?.location.file == "b.yaml")
        #expect(errors(result).first?.message.contains("same-key") == true)
    }

    @Test(
        "a key repeated in a mapping is an error naming the key at one of its lines",
        arguments: [
            "name: A\non: app_message\nname: B\ndo:\n  - reply: hi\n",
            "name: A\non: app_message\nif:\n  auto_mode: on\n  source: app\n  auto_mode: off\ndo:\n  - reply: hi\n",
        ])
    func duplicateKeys(text: String) {
        let result = load(text)
        let key = text.contains("name: B") ? "name" : "auto_mode"
        #expect(result.flowSet == nil)
        let found = errors(result)
        #expect(found.count == 1, "\(found)")
        guard let diagnostic = found.first else { return }
        #expect(diagnostic.message.contains("duplicate key") || diagnostic.message.contains("appears twice"))
        #expect(diagnostic.message.contains(key))
        let lines = [position(of: key + ":", in: text, occurrence: 1), position(of: key + ":", in: text, occurrence: 2)]
        #expect(
            lines.contains { $0.line == diagnostic.location.line && $0.column == diagnostic.location.column },
            "should point at '\(key)' (\(lines)), points at \(diagnostic.location.description)")
    }

    @Test("a tab in indentation is an error at the tab's line and column", arguments: [0, 2])
    func tabIndentation(spacesBefore: Int) {
        let text = "name: A\non: app_message\ndo:\n" + String(repeating: " ", count: spacesBefore) + "\t- reply: hi\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "\t", in: text), "tab", hint: "spaces")
        let tab = position(of: "\t", in: text)
        #expect(tab.line == 4 && tab.column == spacesBefore + 1)
        #expect(result.flowSet == nil)
    }

    @Test("a tab inside a value (not indentation) is not reported as indentation")
    func tabInsideValue() {
        let result = load("name: A\non: app_message\ndo:\n  - reply: \"a\tb\"\n")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
    }

    @Test("an empty file (or only blanks and comments) is one error at 1:1", arguments: ["", "   \n\n", "# just a comment\n"])
    func emptyFile(text: String) {
        let result = load(text)
        expectDiagnostic(result, at: (1, 1), "empty")
        #expect(errors(result).count == 1)
        #expect(result.flowSet == nil)
    }

    @Test("a file whose root is a list is an error: a flow is a map")
    func rootIsList() {
        let result = load("- name: A\n- on: app_message\n")
        expectDiagnostic(result, at: (1, 1), "must be a map", "a list")
        #expect(result.flowSet == nil)
    }

    @Test("a file that is a single word is an error: a flow is a map")
    func rootIsScalar() {
        let result = load("hello\n")
        expectDiagnostic(result, at: (1, 1), "must be a map", "'hello'")
    }

    @Test("binary garbage with NUL bytes is rejected as not text")
    func binaryGarbage() {
        var bytes: [UInt8] = Array("name: A\n".utf8)
        bytes += [0x00, 0x01, 0x02, 0xFF, 0x00, 0x7F]
        let result = FlowLoader.load(files: [(path: "blob.yaml", data: Data(bytes))])
        expectDiagnostic(result, file: "blob.yaml", at: (1, 1), "not a text file", "NUL")
        #expect(errors(result).count == 1)
        #expect(result.flowSet == nil)
    }

    @Test("invalid UTF-8 is rejected with a hint to save as UTF-8")
    func invalidUTF8() {
        // Windows-1251 "Привет": valid in that encoding, invalid as UTF-8.
        let bytes: [UInt8] = Array("name: ".utf8) + [0xCF, 0xF0, 0xE8, 0xE2, 0xE5, 0xF2] + Array("\non: app_message\ndo:\n  - reply: hi\n".utf8)
        let result = FlowLoader.load(files: [(path: "cp1251.yaml", data: Data(bytes))])
        expectDiagnostic(result, file: "cp1251.yaml", at: (1, 1), "not valid UTF-8", hint: "UTF-8")
        #expect(result.flowSet == nil)
    }

    @Test("a file over the size limit is rejected without parsing it")
    func oversizedFile() {
        let valid = "name: A\non: app_message\ndo:\n  - reply: hi\n"
        // A valid flow padded with a comment: only the size is wrong.
        let padding = "#" + String(repeating: "x", count: YAMLReader.maximumFileSize) + "\n"
        let result = load(valid + padding)
        expectDiagnostic(result, at: (1, 1), "limited to")
        #expect(errors(result).count == 1)
        #expect(result.flowSet == nil)
        // Exactly at the limit is still read.
        let atLimit = valid + "#" + String(repeating: "x", count: YAMLReader.maximumFileSize - valid.utf8.count - 2) + "\n"
        #expect(atLimit.utf8.count == YAMLReader.maximumFileSize)
        #expect(load(atLimit).diagnostics.isEmpty)
    }

    @Test("a file that cannot be read is an error, not a crash")
    func unreadableFile() {
        let result = FlowLoader.load(files: [(path: "gone.yaml", data: nil)])
        expectDiagnostic(result, file: "gone.yaml", at: (1, 1), "cannot read")
        #expect(result.flowSet == nil)
    }

    @Test("an unclosed quote is reported at the opening quote, saying it never closes")
    func unclosedQuote() {
        let text = "name: \"A\non: app_message\ndo:\n  - reply: hi\n"
        let result = load(text)
        #expect(errors(result).count == 1)
        expectDiagnostic(result, at: (1, 7), "never closes", hint: "end the text with")
    }

    @Test("bad indentation is an error at the offending line that names the line it should line up with")
    func badIndentation() {
        let text = "name: A\non: app_message\ndo:\n  - reply: hi\n    - greet: x\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "- greet", in: text), "deeper than the '- ' item on line 4")
        let nested = "name: A\n  on: app_message\ndo:\n  - reply: hi\n"
        let second = load(nested)
        #expect(errors(second).count == 1)
        expectDiagnostic(second, at: (2, 3), "indented 2 spaces", "'name' on line 1 is not indented", hint: "beginning of the line")
    }

    @Test("a flow without name, on or do reports each missing key")
    func missingRequiredKeys() {
        let result = load("description: nothing else\n")
        let messages = errors(result).map(\.message)
        #expect(messages.contains { $0.contains("needs a 'name'") })
        #expect(messages.contains { $0.contains("needs 'on'") })
        #expect(messages.contains { $0.contains("needs 'do'") })
    }
}

@Suite("Loader: several files in one run")
struct LoaderMultiFileTests {
    @Test("every error of every file is reported in one run")
    func allErrorsReported() {
        let result = load([
            ("a.yaml", "name: A\non: app_mesage\ndo:\n  - reply: hi\n"),
            ("b.yaml", "name: B\non: app_message\npriority: high\ndo:\n  - reply: hi\n"),
            ("c.yaml", "name: C\non: app_message\ndo:\n\t- reply: hi\n"),
        ])
        let found = errors(result)
        #expect(found.count == 3, "\(result.diagnostics)")
        #expect(Set(found.map(\.location.file)) == ["a.yaml", "b.yaml", "c.yaml"])
        #expect(found.contains { $0.location.description == "a.yaml:2:5" })
        #expect(found.contains { $0.location.description == "b.yaml:3:11" })
        #expect(found.contains { $0.location.description == "c.yaml:4:1" })
        #expect(result.fileCount == 3)
        #expect(result.flowSet == nil)
    }

    @Test("several errors in one file are all reported")
    func severalErrorsInOneFile() {
        let text = "name: A\non: app_mesage\npriority: high\nonce_per_user: month\ndo:\n  - reply: hi\n"
        let result = load(text)
        #expect(errors(result).count == 3, "\(result.diagnostics)")
        #expect(errors(result).map(\.location.line).sorted() == [2, 3, 4])
    }

    @Test("one bad file means no flow set, yet the good files' diagnostics still appear")
    func badFileBlocksTheSet() {
        let good = "name: Good\non: app_message\ndo:\n  - reply: hi\n  - stop: {}\n  - reply: never\n"
        let bad = "name: Bad\non: app_message\ndo:\n  - replly: hi\n"
        let result = load([("good.yaml", good), ("bad.yaml", bad)])
        #expect(result.flowSet == nil, "never half-loaded: the good flow alone must not go live")
        #expect(result.hasErrors)
        #expect(result.diagnostics.contains { $0.location.file == "good.yaml" && $0.severity == .warning && $0.location.line == 6 })
        #expect(result.diagnostics.contains { $0.location.file == "bad.yaml" && $0.severity == .error && $0.message.contains("replly") })
        // Without the bad file the good one loads (with its warning).
        let alone = load([("good.yaml", good)])
        #expect(alone.flowSet?.flows.map(\.name) == ["Good"])
        #expect(alone.diagnostics.count == 1)
    }

    @Test("warnings alone do not block the flow set")
    func warningsDoNotBlock() {
        let result = load([("w.yaml", "name: W\non: app_message\ndo:\n  - stop: {}\n  - reply: x\n")])
        #expect(result.diagnostics.count == 1)
        #expect(!result.hasErrors)
        #expect(result.flowSet != nil)
    }
}

@Suite("Loader: the default flows")
struct DefaultFlowsTests {
    static let flowsDirectory = packageRoot.appendingPathComponent("flows").path

    @Test("every default flow loads with zero diagnostics")
    func defaultFlowsLoadCleanly() throws {
        let result = FlowLoader.load(directory: Self.flowsDirectory)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.description))")
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.flowsDirectory).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
        #expect(!files.isEmpty)
        #expect(result.fileCount == files.count)
        let set = try #require(result.flowSet)
        #expect(set.flows.count == files.count)
        #expect(Set(set.flows.map(\.name)).count == files.count, "names are unique")
    }

    @Test("a missing flows directory is one error, not a crash")
    func missingDirectory() {
        let result = FlowLoader.load(directory: Self.flowsDirectory + "/does-not-exist")
        #expect(result.flowSet == nil)
        #expect(result.diagnostics.count == 1)
        #expect(result.diagnostics.first?.message.contains("cannot read the flows directory") == true)
    }
}

/// Regressions: bare-word actions, and one error per mistake in `do`.
@Suite("Loader: regressions")
struct LoaderRegressionTests {
    @Test("a parameterless action may be written as a bare word (- stop, - broadcast)", arguments: ["stop", "broadcast", "transcribe"])
    func bareWordAction(action: String) {
        let text = "name: A\non: app_message\ndo:\n  - reply: hi\n  - \(action)\n"
        let result = load(text)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.description))")
        #expect(result.flowSet?.flows.first?.actions.map(\.name) == ["reply", action])
    }

    @Test("after a bare '- stop' the next action gets the unreachable warning")
    func bareStopThenAction() {
        let text = "name: A\non: app_message\ndo:\n  - stop\n  - reply: after\n"
        let result = load(text)
        #expect(errors(result).isEmpty, "\(result.diagnostics.map(\.description))")
        expectDiagnostic(result, .warning, at: position(of: "reply: after", in: text), "never runs")
    }

    @Test(
        "one mistake in the only action is one error, not also \"'do' is empty\"",
        arguments: [
            "name: A\non: app_message\ndo:\n  - replly: hi\n",
            "name: A\non: app_message\ndo:\n  - reply: \"Hi {{user.nmae}}\"\n",
            "name: A\non: history_first_fetch_today\ndo:\n  - greet: \"Hi {{message.text}}\"\n",
        ])
    func noSpuriousEmptyDo(text: String) {
        let result = load(text)
        #expect(errors(result).count == 1, "\(result.diagnostics.map(\.description))")
        #expect(!result.diagnostics.contains { $0.message.contains("'do' is empty") })
    }

    @Test("'do: []' is still reported as empty")
    func reallyEmptyDo() {
        let text = "name: A\non: app_message\ndo: []\n"
        let result = load(text)
        expectDiagnostic(result, at: position(of: "[]", in: text), "'do' is empty")
    }
}
