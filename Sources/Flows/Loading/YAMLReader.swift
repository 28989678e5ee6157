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
        return compose(text: text, file: file, into: &bag)
    }

    /// Composes YAML text into a node tree; see `compose(data:file:into:)`.
    public static func compose(text: String, file: String, into bag: inout DiagnosticBag) -> Node? {
        let tabs = tabIndentations(in: text, file: file)
        if !tabs.isEmpty {
            for location in tabs {
                bag.error(location, "a tab is used for indentation", hint: "YAML indents with spaces only; replace the tab with spaces")
            }
            return nil
        }
        do {
            guard let node = try Yams.compose(yaml: text) else {
                bag.error(SourceLocation(file: file, line: 1, column: 1), "the file is empty", hint: "a flow needs at least 'name', 'on' and 'do'")
                return nil
            }
            return node
        } catch let error as YamlError {
            let (location, message) = describe(error, file: file)
            bag.error(location, message)
            return nil
        } catch {
            bag.error(SourceLocation(file: file, line: 1, column: 1), "cannot read YAML: \(error)")
            return nil
        }
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

    static func describe(_ error: YamlError, file: String) -> (SourceLocation, String) {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            var message = "invalid YAML: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line))" }
            return (at(mark), message)
        case let .reader(problem, offset, _, _):
            return (SourceLocation(file: file, line: 1, column: 1), "cannot read the file: \(problem)" + (offset.map { " at byte \($0)" } ?? ""))
        case let .duplicatedKeysInMapping(duplicates, context):
            return (at(context.mark), "duplicate key: \(duplicates.joined(separator: ", "))")
        default:
            return (SourceLocation(file: file, line: 1, column: 1), "invalid YAML: \(error)")
        }
    }
}
