import Flows
import Foundation
import Hummingbird

/// How the flow studio's pages show the checker's findings, test failures and diffs.
enum StudioView {
    /// Diagnostics as the editor lists them: this file's first (with line and column, a
    /// click away from their place), then those of other files the draft affects.
    static func diagnostics(_ diagnostics: [Diagnostic], file: String) -> [[String: Any]] {
        let mine = diagnostics.filter { ($0.location.file as NSString).lastPathComponent == file }
        let others = diagnostics.filter { ($0.location.file as NSString).lastPathComponent != file }
        return (mine + others).map { diagnostic in
            let name = (diagnostic.location.file as NSString).lastPathComponent
            var values: [String: Any] = [
                "severity": diagnostic.severity.rawValue, "line": diagnostic.location.line, "column": diagnostic.location.column,
                "message": diagnostic.message, "file": name, "inThisFile": name == file,
            ]
            // Absent, not empty: Mustache shows a section for an empty text too.
            if let hint = diagnostic.hint, !hint.isEmpty { values["hint"] = hint }
            return values
        }
    }

    static func summary(_ diagnostics: [Diagnostic]) -> String {
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.count - errors
        if diagnostics.isEmpty { return "No problems found." }
        return "\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")"
    }

    static func testFailures(_ suite: FlowTestSuiteResult) -> [[String: Any]] {
        suite.files.flatMap { file -> [[String: Any]] in
            let name = (file.path as NSString).lastPathComponent
            if file.test == nil {
                return file.diagnostics.map { ["file": name, "where": "\(name):\($0.location.line):\($0.location.column)", "test": "", "message": $0.message] }
            }
            return (file.result?.failures ?? []).map { failure in
                var values: [String: Any] = [
                    "file": name, "where": "\(name):\(failure.location.line)", "test": file.test?.name ?? "", "step": failure.step,
                    "expected": failure.expected, "actual": failure.actual,
                ]
                if let note = failure.note { values["noteText"] = note }
                if let difference = failure.difference { values["differenceText"] = ([difference.message] + difference.lines).joined(separator: "\n") }
                return values
            }
        }
    }

    static func diffLines(_ difference: LineDiff) -> [[String: Any]] {
        difference.lines.map { line in
            [
                "kind": line.kind.rawValue, "text": line.text, "old": line.oldNumber.map(String.init) ?? "", "new": line.newNumber.map(String.init) ?? "",
                "sign": line.kind == .added ? "+" : line.kind == .removed ? "−" : " ",
            ]
        }
    }

    static var reference: [[String: Any]] {
        LanguageReference.sections.map { section in
            ["title": section.title, "entries": section.entries.map { ["name": $0.name, "meaning": $0.meaning, "example": $0.example] }]
        }
    }

    /// A dry run's outcome as the page shows it: the trigger, each flow with why it ran or
    /// not, and each action with its rendered text.
    static func outcome(_ run: DryRunJSON) -> [String: Any] {
        // Mustache shows a section for any value, an empty text included: absent keys only.
        func present(_ pairs: [String: String?]) -> [String: Any] { pairs.compactMapValues { $0?.isEmpty == false ? $0 : nil } }
        var values: [String: Any] = present(["trigger": run.trigger ?? "none (no flow listens to this event)", "note": run.note])
        values["flows"] = run.flows.map { present(["name": $0.name, "result": $0.result, "reason": $0.reason, "variant": $0.variant]) }
        values["actions"] = run.actions.map { present(["flow": $0.flow, "type": $0.type, "text": $0.text, "title": $0.title, "value": $0.value]) }
        values["noActions"] = run.actions.isEmpty
        return values
    }

    /// Browsers send a textarea's lines with CRLF; flow files use LF.
    static func normalisedNewlines(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
    }

    static func status(of error: StudioError) -> HTTPResponse.Status {
        switch error {
        case .badName: .badRequest
        case .tooLarge: .contentTooLarge
        case .noSuchFile, .noSuchVersion, .notDeleted: .notFound
        case .exists, .changedOnDisk, .deletedOnDisk, .lastFlow: .conflict
        case .invalid, .testsFail, .testNotAppendable: .unprocessableContent
        case .cannotWrite: .internalServerError
        }
    }
}
