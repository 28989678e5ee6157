import Foundation
import Yams

/// Mistakes in how a value is written that YAML accepts but that change what it means:
/// found from the source line, since the tree no longer shows them.
extension NodeReader {
    /// `greet:"Hi"` is one word to YAML, not a key and a value: the colon needs a space.
    func missingSpaceAfterColon(_ node: Node) -> (location: SourceLocation, message: String, hint: String)? {
        guard case .scalar(let scalar) = node, scalar.style == .plain, !scalar.string.contains("\n") else { return nil }
        let text = Array(scalar.string.unicodeScalars)
        guard let colon = text.firstIndex(of: ":"), colon > 0, colon + 1 < text.count, text[colon + 1] != " " else { return nil }
        let key = String(String.UnicodeScalarView(text[..<colon]))
        // Only a word before the colon: `https://...` and `10:30` are texts, not keys.
        guard key.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || $0 == "_" }) else { return nil }
        let value = String(String.UnicodeScalarView(text[(colon + 1)...]))
        var location = self.location(node)
        location.column += colon
        return (location, "'\(key):' needs a space after the colon, or YAML reads '\(scalar.string)' as one word", "write \(key): \(value)")
    }

    /// Warnings for a text parameter, which goes to customers as written: curly quotes that
    /// YAML does not take for quoting, and a ` #` that cut the text short.
    mutating func warnAboutWriting(_ node: Node) {
        guard case .scalar(let scalar) = node, scalar.style == .plain, !scalar.string.contains("\n") else { return }
        let text = scalar.string
        if let first = text.unicodeScalars.first, ["\u{201C}", "\u{201D}", "\u{201E}", "\u{2018}", "\u{2019}"].contains(first) {
            bag.warning(
                location(node), "this text starts with a curly quote \(first), which YAML does not take for quoting: the customer will see it",
                hint: "use straight double quotes: \"...\"")
        }
        // A plain one-line text is written as it reads; what follows it on its line is a comment.
        guard let source = sourceLine(node), let mark = node.mark else { return }
        let end = mark.column - 1 + text.unicodeScalars.count
        guard end < source.scalars.count else { return }
        let rest = source.scalars[end...]
        if let hash = rest.firstIndex(of: "#"), rest[rest.startIndex..<hash].allSatisfy({ $0 == " " || $0 == "\t" }), hash > rest.startIndex {
            let cut = String(String.UnicodeScalarView(rest[hash...]))
            var at = location(node)
            at.column = hash + 1
            bag.warning(
                at, "everything from ' #' on is a comment, so the customer gets only '\(text)', without '\(cut)'",
                hint: "put the whole text in double quotes: \(SourceLine.doubleQuoted(text + " " + cut))")
        }
    }

    /// `media: voice, audio` is one word with a comma to YAML: the list form, when a plain
    /// text has commas, else nil.
    func commaList(_ node: Node) -> String? {
        guard case .scalar(let scalar) = node, scalar.style == .plain, scalar.string.contains(",") else { return nil }
        let parts = scalar.string.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard parts.count > 1 else { return nil }
        return "[" + parts.joined(separator: ", ") + "]"
    }

    /// An error for a value that can only be one word or a list, written with commas.
    mutating func rejectCommaList(_ node: Node, key: String) -> Bool {
        guard let list = commaList(node) else { return false }
        error(node, "'\(key)' takes one value or a list: write a list: \(list)", hint: "write \(key): \(list)")
        return true
    }
}
