import Foundation
import Yams

/// Turns a file's bytes into a YAML node tree, or into positioned diagnostics, never a crash.
public enum YAMLReader {
    /// Flow, test and event files are small; a bigger file is almost surely a mistake
    /// (a log pasted in, a binary), and parsing it would only make the error slower.
    public static let maximumFileSize = 1_000_000

    /// Reads and composes a YAML document. Returns nil when the file cannot be used; the
    /// reasons are in `bag`.
    public static func compose(data: Data, file: String, into bag: inout DiagnosticBag) -> Node? {
        guard let text = text(of: data, file: file, into: &bag) else { return nil }
        return compose(text: text, file: file, into: &bag)
    }

    /// The file's text, or nil (and the reason) when it is too big, binary or not UTF-8.
    static func text(of data: Data, file: String, into bag: inout DiagnosticBag) -> String? {
        let start = SourceLocation(file: file, line: 1, column: 1)
        guard data.count <= maximumFileSize else {
            bag.error(start, "the file is \(data.count) bytes; flow files are limited to \(maximumFileSize) bytes (1 MB)", hint: "split it into several flows")
            return nil
        }
        if data.contains(0) {
            bag.error(start, "this is not a text file (it contains NUL bytes)", hint: "flow files are YAML text in UTF-8")
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            bag.error(start, "this file is not valid UTF-8 text", hint: "save it as UTF-8 in your editor")
            return nil
        }
        return text
    }

    /// Composes YAML text into a node tree; see `compose(data:file:into:)`. Nil after any
    /// syntax error: events and other strict readers take a file whole or not at all.
    public static func compose(text: String, file: String, into bag: inout DiagnosticBag) -> Node? {
        guard let composed = composeRecovering(text: text, file: file, into: &bag), composed.repairedLines.isEmpty else { return nil }
        return composed.node
    }

    /// A tree read past syntax errors, and the lines that were changed to get there.
    struct Recovered {
        var node: Node
        /// Lines (1-based) rewritten as their error's hint says: what is found on them
        /// says more about the repair than about the file, so it is not reported.
        var repairedLines: Set<Int>
    }

    /// Like `compose(data:file:into:)`, but after a syntax error whose fix is clear (quote
    /// a text, line up an indentation) it applies the fix and reads on, so one run reports
    /// the file's other errors too. The syntax errors are in `bag` either way.
    static func composeRecovering(data: Data, file: String, into bag: inout DiagnosticBag) -> Recovered? {
        guard let text = text(of: data, file: file, into: &bag) else { return nil }
        return composeRecovering(text: text, file: file, into: &bag)
    }

    static func composeRecovering(text original: String, file: String, into bag: inout DiagnosticBag) -> Recovered? {
        let tabs = tabIndentations(in: original, file: file)
        if !tabs.isEmpty {
            for location in tabs {
                bag.error(location, "a tab is used for indentation", hint: "YAML indents with spaces only; replace the tab with spaces")
            }
            return nil
        }
        var lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var repaired: Set<Int> = []
        for (index, line) in lines.enumerated() {
            guard let column = tabAfterDash(in: line) else { continue }
            bag.error(
                SourceLocation(file: file, line: index + 1, column: column), "a tab after '-': YAML needs a space there",
                hint: "replace the tab with a space")
            lines[index] = String(line.unicodeScalars.prefix(column - 1)) + " " + String(line.unicodeScalars.dropFirst(column))
            repaired.insert(index + 1)
        }
        // Each pass fixes one error; a file with more than a few is better fixed and re-checked.
        for _ in 0..<20 {
            let text = lines.joined(separator: "\n")
            do {
                guard let node = try Yams.compose(yaml: text) else {
                    if repaired.isEmpty {
                        bag.error(SourceLocation(file: file, line: 1, column: 1), "the file is empty", hint: "a flow needs at least 'name', 'on' and 'do'")
                    }
                    return nil
                }
                return Recovered(node: node, repairedLines: repaired)
            } catch let error as YamlError {
                let explanation = YAMLMistakes.explain(error, lines: lines.map { SourceLine(Substring($0)) })
                bag.error(SourceLocation(file: file, line: explanation.line, column: explanation.column), explanation.message, hint: explanation.hint)
                guard let fixed = explanation.repairedLine, !repaired.contains(explanation.line), explanation.line <= lines.count else { return nil }
                lines[explanation.line - 1] = fixed
                repaired.insert(explanation.line)
            } catch {
                bag.error(SourceLocation(file: file, line: 1, column: 1), "YAML cannot read this file: \(error)")
                return nil
            }
        }
        return nil
    }

    /// The column of a tab right after a line's `-` list marker (`-\treply: ...`).
    static func tabAfterDash(in line: String) -> Int? {
        let scalars = Array(line.unicodeScalars)
        var index = 0
        while index < scalars.count, scalars[index] == " " { index += 1 }
        guard index + 1 < scalars.count, scalars[index] == "-", scalars[index + 1] == "\t" else { return nil }
        return index + 2
    }

    /// Lines whose indentation contains a tab, pointing at the tab.
    static func tabIndentations(in text: String, file: String) -> [SourceLocation] {
        var locations: [SourceLocation] = []
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var column = 0
            for character in line.unicodeScalars {
                column += 1
                if character == " " { continue }
                if character == "\t" {
                    // Only a tab before content on the line is indentation; blank lines do not count.
                    if line.unicodeScalars.contains(where: { $0 != " " && $0 != "\t" && $0 != "\r" }) {
                        locations.append(SourceLocation(file: file, line: lineNumber, column: column))
                    }
                }
                break
            }
        }
        return locations
    }
}
