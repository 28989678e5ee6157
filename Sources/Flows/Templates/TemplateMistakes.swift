import Foundation

/// Finds, in a template's text, what swift-mustache's errors do not say: which section is
/// left open, which two sections are crossed, where a variable is written, and braces that
/// are one short or one too many (which Mustache prints as text, straight to the customer).
///
/// swift-mustache parses; this only looks at the `{{...}}` tags as a person would, to name
/// them in a message. Positions are 1-based (line, column) inside the text, in Unicode
/// scalars like Yams' marks.
enum TemplateMistakes {
    struct Tag {
        var sigil: Character?
        var name: String
        var written: String
        var position: (line: Int, column: Int)
        /// Where the name itself starts, after `{{` and any sigil.
        var namePosition: (line: Int, column: Int)
    }

    /// The `{{...}}` tags of a text, in order (`{{{name}}}` included as a plain variable).
    static func tags(in source: String) -> [Tag] {
        var tags: [Tag] = []
        var rest = source[...]
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            var inner = rest[open.upperBound..<close.lowerBound]
            var end = close.upperBound
            if inner.hasPrefix("{"), end < rest.endIndex, rest[end] == "}" {
                inner = inner.dropFirst()
                end = rest.index(after: end)
            }
            let trimmed = inner.trimmingCharacters(in: .whitespaces)
            var sigil: Character?
            var name = trimmed
            if let first = trimmed.first, "#^/&!>".contains(first) {
                sigil = first
                name = String(trimmed.dropFirst()).trimmingCharacters(in: .whitespaces)
            }
            let nameStart = name.isEmpty ? open.lowerBound : (source.range(of: name, range: open.upperBound..<end)?.lowerBound ?? open.lowerBound)
            tags.append(
                Tag(
                    sigil: sigil, name: name, written: String(source[open.lowerBound..<end]), position: position(of: open.lowerBound, in: source),
                    namePosition: position(of: nameStart, in: source)))
            rest = source[end...]
        }
        return tags
    }

    /// A section left open, or closed by another name's tag: the message and where it points.
    static func sectionProblem(in source: String) -> (message: String, position: (line: Int, column: Int))? {
        var open: [Tag] = []
        for tag in tags(in: source) {
            switch tag.sigil {
            case "#", "^":
                open.append(tag)
            case "/":
                guard let innermost = open.popLast() else {
                    return ("'\(tag.written)' closes a section that was never opened", tag.position)
                }
                if innermost.name != tag.name {
                    return (
                        "'\(innermost.written)' is closed by '\(tag.written)': a section ends with its own name, '{{/\(innermost.name)}}'",
                        tag.position
                    )
                }
            default:
                continue
            }
        }
        guard let unclosed = open.last else { return nil }
        return ("'\(unclosed.written)' is opened but never closed: add '{{/\(unclosed.name)}}' where the section ends", unclosed.position)
    }

    /// The last `{{` with no `}}` after it.
    static func unclosedTag(in source: String) -> (line: Int, column: Int)? {
        guard let open = source.range(of: "{{", options: .backwards), source[open.upperBound...].range(of: "}}") == nil else { return nil }
        return position(of: open.lowerBound, in: source)
    }

    /// Where a variable is first written in a tag, else nil.
    static func position(ofVariable name: String, in source: String) -> (line: Int, column: Int)? {
        tags(in: source).first { $0.name == name }?.namePosition
    }

    /// `{user.name}`, `{user.name}}` and `{{user.name}}}`: Mustache prints them as text (or
    /// prints a stray `}`), so a customer would see the braces.
    static func strayBraces(in source: String) -> [(written: String, meant: String, position: (line: Int, column: Int))] {
        let pattern = #"(?<!\{)(\{{1,2})\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(\}{1,3})(?!\})"#
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
        let range = NSRange(source.startIndex..., in: source)
        var found: [(String, String, (Int, Int))] = []
        for match in regex.matches(in: source, range: range) {
            guard let whole = Range(match.range, in: source), let opening = Range(match.range(at: 1), in: source),
                let nameRange = Range(match.range(at: 2), in: source), let closing = Range(match.range(at: 3), in: source)
            else { continue }
            let opens = source[opening].count, closes = source[closing].count
            // `{{name}}` is right; `{{name}}}` and every single-brace form are not.
            guard !(opens == 2 && closes == 2) else { continue }
            found.append((String(source[whole]), "{{\(source[nameRange])}}", position(of: whole.lowerBound, in: source)))
        }
        return found
    }

    static func position(of index: String.Index, in source: String) -> (line: Int, column: Int) {
        var line = 1, column = 1
        for scalar in source.unicodeScalars[..<index] {
            if scalar == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }
}
