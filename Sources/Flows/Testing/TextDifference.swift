/// Where an expected text and an actual one first differ, in words a person can act on:
/// a Latin `A` against a Cyrillic `А` look the same on screen, a trailing space is invisible.
public struct TextDifference: Sendable, Equatable {
    /// 1-based, in characters as editors count them.
    public var position: Int
    public var message: String
    /// The two texts, quoted as a test file writes them, with a caret under the first difference.
    public var lines: [String]

    /// nil when the texts are equal.
    public init?(expected: String, actual: String) {
        guard expected != actual else { return nil }
        let e = Array(expected), a = Array(actual)
        var index = 0
        while index < e.count, index < a.count, e[index] == a[index] { index += 1 }
        position = index + 1
        if index < e.count, index < a.count {
            message = "the texts first differ at character \(position): expected \(Self.name(e[index])), actual \(Self.name(a[index]))"
        } else if index < a.count {
            let extra = a[index...]
            message =
                "the actual text has \(extra.count) more character\(extra.count == 1 ? "" : "s") at the end, from character \(position): "
                + extra.prefix(3).map(Self.name).joined(separator: ", ") + (extra.count > 3 ? ", …" : "")
        } else {
            let missing = e[index...]
            message =
                "the actual text stops after character \(index); expected goes on with "
                + missing.prefix(3).map(Self.name).joined(separator: ", ") + (missing.count > 3 ? ", …" : "")
        }
        let quotedPrefix = FlowTest.quoted(String(e[..<min(index, e.count)]))
        lines = [
            "expected \(FlowTest.quoted(expected))",
            "actual   \(FlowTest.quoted(actual))",
            // The caret sits under the first differing character, past `expected "`.
            String(repeating: " ", count: 9 + quotedPrefix.count - 1) + "^",
        ]
    }

    /// `'А' (U+0410 CYRILLIC CAPITAL LETTER A)`, or `a space (U+0020)` for invisible ones.
    static func name(_ character: Character) -> String {
        let codes = character.unicodeScalars.map { scalar in
            let code = String(scalar.value, radix: 16, uppercase: true)
            let hex = "U+" + String(repeating: "0", count: max(0, 4 - code.count)) + code
            return scalar.properties.name.map { "\(hex) \($0)" } ?? hex
        }.joined(separator: ", ")
        switch character {
        case " ": return "a space (\(codes))"
        case "\n": return "a line break (\(codes))"
        case "\t": return "a tab (\(codes))"
        case "\u{00A0}": return "a non-breaking space (\(codes))"
        default: return "'\(character)' (\(codes))"
        }
    }
}
