import Foundation

/// One line of a YAML file, cut into the parts people write: indentation, `- ` markers,
/// a `key:` and the text of its value.
///
/// This does not parse YAML (Yams does); it reads a line the way a person looks at it, so
/// that a syntax error Yams reports can be explained with the fix ("put the text in double
/// quotes") and a position on the line. Columns count Unicode scalars from 1, as Yams' marks
/// do, which for the texts flows hold is what an editor shows.
struct SourceLine {
    let scalars: [Unicode.Scalar]
    /// Leading spaces.
    let indent: Int
    /// Whether the content starts with a `- ` list marker.
    let startsWithDash: Bool
    /// 1-based column of the first character after the indentation and any `- ` markers.
    let contentColumn: Int
    /// The key of a `key: value` line, and its 1-based column.
    let key: String?
    /// The value after `key: ` (or after `- ` when there is no key), as written, without
    /// surrounding blanks; nil when the line ends after the key.
    let value: String?
    /// 1-based column of the value's first character.
    let valueColumn: Int

    init(_ text: Substring) {
        var scalars = Array(text.unicodeScalars)
        if scalars.last == "\r" { scalars.removeLast() }
        self.scalars = scalars
        var index = 0
        while index < scalars.count, scalars[index] == " " { index += 1 }
        indent = index
        var dashed = false
        // `- - item` nests lists on one line; the content starts after the last marker.
        while index < scalars.count, scalars[index] == "-", index + 1 == scalars.count || scalars[index + 1] == " " || scalars[index + 1] == "\t" {
            dashed = true
            index += 1
            while index < scalars.count, scalars[index] == " " || scalars[index] == "\t" { index += 1 }
        }
        startsWithDash = dashed
        contentColumn = index + 1
        // A key is plain text up to the first ': ' (or ':' at the end of the line).
        var keyEnd: Int?
        if index < scalars.count, !["\"", "'", "{", "[", "#", "|", ">"].contains(scalars[index]) {
            var scan = index
            while scan < scalars.count {
                if scalars[scan] == "#", scan > 0, scalars[scan - 1] == " " { break }
                if scalars[scan] == ":", scan + 1 == scalars.count || scalars[scan + 1] == " " {
                    keyEnd = scan
                    break
                }
                scan += 1
            }
        }
        var valueStart = index
        if let keyEnd {
            key = String(String.UnicodeScalarView(scalars[index..<keyEnd]))
            valueStart = keyEnd + 1
        } else {
            key = nil
        }
        while valueStart < scalars.count, scalars[valueStart] == " " { valueStart += 1 }
        var valueEnd = scalars.count
        while valueEnd > valueStart, scalars[valueEnd - 1] == " " { valueEnd -= 1 }
        valueColumn = valueStart + 1
        value = valueStart < valueEnd ? String(String.UnicodeScalarView(scalars[valueStart..<valueEnd])) : nil
    }

    /// Whether the line holds nothing YAML reads: blanks or a comment.
    var isBlankOrComment: Bool {
        guard let first = scalars.first(where: { $0 != " " && $0 != "\t" }) else { return true }
        return first == "#"
    }

    /// The line with its value replaced, keeping everything before it.
    func replacingValue(with newValue: String) -> String {
        String(String.UnicodeScalarView(scalars[0..<(valueColumn - 1)])) + newValue
    }

    /// The line moved to start `spaces` spaces in.
    func reindented(to spaces: Int) -> String {
        String(repeating: " ", count: spaces) + String(String.UnicodeScalarView(scalars[indent...]))
    }

    var text: String { String(String.UnicodeScalarView(scalars)) }

    /// A text in double quotes, with the backslashes and quotes inside escaped: what a person
    /// should have written.
    static func doubleQuoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// Splits a file into lines as Yams numbers them (line 1 is index 0).
    static func lines(of text: String) -> [SourceLine] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map(SourceLine.init)
    }
}
