import Yams

/// Explains a YAML syntax error Yams reports in the words of the person who made it, with
/// the fix, at the place the fix goes.
///
/// Yams (libyaml) says what its grammar expected ("mapping values are not allowed in this
/// context") and where it noticed, which is often after the mistake. People who edit flows
/// make a handful of mistakes over and over: a text with `: ` or starting with `{{` left
/// unquoted, a quote inside a quoted text, a line one space off. This reads the lines
/// around Yams' mark to recognise them. Each explanation may carry a repair (the line as it
/// should have been written) so the loader can read on and report the file's other errors.
enum YAMLMistakes {
    struct Explanation {
        var line: Int
        var column: Int
        var message: String
        var hint: String?
        /// The fixed text of `line`, when the intent is clear enough to read on.
        var repairedLine: String?
    }

    static func explain(_ error: YamlError, lines: [SourceLine]) -> Explanation {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            return explain(problem: problem, mark: mark, context: context?.mark, lines: lines)
        case let .duplicatedKeysInMapping(duplicates, context):
            return duplicateKey(duplicates.first ?? "", first: context.mark, lines: lines)
        default:
            return Explanation(line: 1, column: 1, message: "YAML cannot read this file", hint: "\(error)")
        }
    }

    /// A line number Yams gave, kept inside the file (at the end of the text it points one
    /// line past the last).
    private static func clamp(_ line: Int, _ lines: [SourceLine]) -> Int {
        var line = min(max(1, line), max(1, lines.count))
        // A file ending in a newline has an empty last "line": point at the last real one.
        while line > 1, lines[line - 1].isBlankOrComment { line -= 1 }
        return line
    }

    private static func explain(problem: String, mark: Mark, context: Mark?, lines: [SourceLine]) -> Explanation {
        let line = clamp(mark.line, lines)
        if problem.contains("unknown escape"), mark.line <= lines.count {
            return unknownEscape(line: mark.line, column: mark.column, lines: lines)
        }
        if problem.contains("end of stream"), let context, context.line <= lines.count, let explanation = valueMistake(lines[context.line - 1], line: context.line) {
            return explanation
        }
        var candidates = [line]
        if let context, context.line != line, context.line <= lines.count { candidates.append(context.line) }
        for candidate in candidates {
            if let explanation = valueMistake(lines[candidate - 1], line: candidate) { return explanation }
        }
        if let explanation = indentationMistake(line: line, lines: lines) { return explanation }
        let column = mark.line == line ? mark.column : 1
        return Explanation(
            line: line, column: column, message: "YAML cannot read this line",
            hint: "check that it starts in the same column as the lines it belongs with, and put texts with ': ', ' #' or quotes in double quotes")
    }

    // MARK: Values

    /// The mistakes made in the value of a `key: value` line.
    static func valueMistake(_ source: SourceLine, line: Int) -> Explanation? {
        guard let value = source.value else { return nil }
        let scalars = Array(value.unicodeScalars)
        let keyPart = source.key.map { "\($0): " } ?? ""
        switch scalars.first {
        case "\"", "'":
            return quotedValueMistake(source, scalars: scalars, line: line)
        case "{" where scalars.count > 1 && scalars[1] == "{":
            let fixed = SourceLine.doubleQuoted(value)
            return Explanation(
                line: line, column: source.valueColumn, message: "a text that starts with '{{' must be in double quotes, or YAML reads it as a map",
                hint: "put the whole text in double quotes: \(keyPart)\(fixed)", repairedLine: source.replacingValue(with: fixed))
        case "[", "{", "|", ">", "&", "*", "!":
            return nil
        default:
            guard value.contains(": ") || value.hasSuffix(":") else { return nil }
            let fixed = SourceLine.doubleQuoted(value)
            return Explanation(
                line: line, column: source.valueColumn, message: "this text has ': ' in it, which YAML reads as the start of another key",
                hint: "put the whole text in double quotes: \(keyPart)\(fixed)", repairedLine: source.replacingValue(with: fixed))
        }
    }

    /// A quoted value that ends too early (a quote inside it) or never ends.
    private static func quotedValueMistake(_ source: SourceLine, scalars: [Unicode.Scalar], line: Int) -> Explanation? {
        let quote = scalars[0]
        let keyPart = source.key.map { "\($0): " } ?? ""
        var quotes: [Int] = []
        var index = 1
        while index < scalars.count {
            if quote == "\"", scalars[index] == "\\" {
                index += 2
                continue
            }
            if scalars[index] == quote {
                // '' inside single quotes is one quote.
                if quote == "'", index + 1 < scalars.count, scalars[index + 1] == "'" {
                    index += 2
                    continue
                }
                quotes.append(index)
            }
            index += 1
        }
        let name = quote == "\"" ? "double" : "single"
        guard let closing = quotes.first else {
            let inner = String(String.UnicodeScalarView(scalars.dropFirst()))
            let fixed = quote == "\"" ? inner + "\"" : inner + "'"
            return Explanation(
                line: line, column: source.valueColumn, message: "this text opens a \(name) quote but never closes it",
                hint: "end the text with \(quote == "\"" ? "\"" : "'") on the same line", repairedLine: source.replacingValue(with: String(quote) + fixed))
        }
        // Only a comment may follow the closing quote.
        let rest = String(String.UnicodeScalarView(scalars[(closing + 1)...].drop { $0 == " " }))
        guard !rest.isEmpty, !rest.hasPrefix("#") else { return nil }
        let last = quotes.last!
        let inner = String(String.UnicodeScalarView(scalars[1..<(last > closing ? last : scalars.count)]))
        let fixed = SourceLine.doubleQuoted(inner)
        return Explanation(
            line: line, column: source.valueColumn + closing,
            message: "this quote ends the text early: a text in \(name) quotes cannot hold the same quote",
            hint: quote == "\""
                ? "write \\\" for a quote inside the text (\(keyPart)\(fixed)), or use «» or single quotes outside"
                : "write '' for a quote inside the text, or put the text in double quotes: \(keyPart)\(fixed)",
            repairedLine: source.replacingValue(with: fixed))
    }

    /// `"^\d{6}$"`: in double quotes a backslash starts an escape such as `\n`.
    private static func unknownEscape(line: Int, column: Int, lines: [SourceLine]) -> Explanation {
        let source = lines[line - 1]
        let scalars = source.scalars
        let escape = column < scalars.count ? "\\" + String(scalars[column]) : "\\"
        var repaired: String?
        var hint = "write \\\(escape) (two backslashes), or put the text in single quotes"
        if let value = source.value, value.hasPrefix("\""), let end = value.lastIndex(of: "\""), end != value.startIndex {
            let inner = value[value.index(after: value.startIndex)..<end]
            if !inner.contains("'") {
                let single = "'" + inner + "'"
                hint = "write \\\(escape) (two backslashes), or put the text in single quotes: \(source.key.map { "\($0): " } ?? "")\(single)"
                repaired = source.replacingValue(with: single)
            }
        }
        return Explanation(
            line: line, column: column, message: "'\(escape)' is not allowed in double quotes: there a backslash starts an escape such as \\n",
            hint: hint, repairedLine: repaired)
    }

    // MARK: Indentation

    /// A line that lines up with nothing above it, or a list item deeper than the item above.
    static func indentationMistake(line: Int, lines: [SourceLine]) -> Explanation? {
        let current = lines[line - 1]
        guard !current.isBlankOrComment else { return nil }
        guard let previousIndex = (0..<(line - 1)).last(where: { !lines[$0].isBlankOrComment }) else { return nil }
        let previous = lines[previousIndex]
        func name(_ source: SourceLine) -> String { source.key.map { "'\($0)'" } ?? "the '- ' item" }

        if current.startsWithDash, previous.startsWithDash, current.indent > previous.indent {
            return Explanation(
                line: line, column: current.indent + 1,
                message: "this '- ' item is \(indented(current.indent)), deeper than the '- ' item on line \(previousIndex + 1) (\(indented(previous.indent)))",
                hint: "items of one list start in the same column: put its '-' under the '-' on line \(previousIndex + 1)",
                repairedLine: current.reindented(to: previous.indent))
        }
        // The columns a line may start at: those of the lines it could belong with, going up.
        var columns: [(indent: Int, line: Int)] = []
        var limit = Int.max
        for index in stride(from: previousIndex, through: 0, by: -1) where !lines[index].isBlankOrComment {
            let source = lines[index]
            if source.startsWithDash, source.contentColumn - 1 < limit { columns.append((source.contentColumn - 1, index)) }
            if source.indent < limit {
                columns.append((source.indent, index))
                limit = source.indent
            }
            if limit == 0 { break }
        }
        guard !columns.contains(where: { $0.indent == current.indent }) else { return nil }
        guard let best = columns.min(by: { abs($0.indent - current.indent) < abs($1.indent - current.indent) }) else { return nil }
        let other = lines[best.line]
        let what = other.startsWithDash && best.indent == other.indent ? "the '- ' item" : name(other)
        return Explanation(
            line: line, column: current.indent + 1,
            message: "this line is \(indented(current.indent)), but \(what) on line \(best.line + 1) is \(indented(best.indent))",
            hint: "lines of the same map or list start in the same column: "
                + (best.indent == 0 ? "start it at the beginning of the line" : "indent it by \(spaces(best.indent))"),
            repairedLine: current.reindented(to: best.indent))
    }

    private static func spaces(_ count: Int) -> String { count == 1 ? "1 space" : "\(count) spaces" }
    private static func indented(_ count: Int) -> String { count == 0 ? "not indented" : "indented \(spaces(count))" }

    // MARK: Duplicate keys

    /// Yams points at the first of two equal keys; people need both lines.
    private static func duplicateKey(_ key: String, first: Mark, lines: [SourceLine]) -> Explanation {
        let column = first.column
        var second: Int?
        if first.line <= lines.count {
            for index in first.line..<lines.count where !lines[index].isBlankOrComment {
                let source = lines[index]
                if source.indent < column - 1 && !(source.startsWithDash && source.contentColumn == column) { break }
                if source.contentColumn == column || source.indent + 1 == column, source.key == key {
                    second = index + 1
                    break
                }
            }
        }
        guard let second else {
            return Explanation(line: first.line, column: column, message: "'\(key)' appears twice in the same map", hint: "keep one of them")
        }
        let source = lines[second - 1]
        // Renaming the second key lets the rest of the file be read; its line's own
        // diagnostics are dropped by the reader.
        let renamed = String(String.UnicodeScalarView(source.scalars[0..<(source.contentColumn - 1)])) + key + "_written_twice"
            + String(String.UnicodeScalarView(source.scalars[(source.contentColumn - 1 + key.unicodeScalars.count)...]))
        return Explanation(
            line: second, column: source.contentColumn, message: "'\(key)' appears twice in the same map: on line \(first.line) and on line \(second)",
            hint: "keep one of them", repairedLine: renamed)
    }
}
