import Yams

/// Reads values out of a YAML node tree, checking each against what the language expects
/// and recording a positioned diagnostic for every mismatch.
struct NodeReader {
    let file: String
    var bag = DiagnosticBag()
    /// The file's lines, to tell how a value was written (quoted or not, what follows it).
    let lines: [SourceLine]

    init(file: String, source: String = "") {
        self.file = file
        self.lines = SourceLine.lines(of: source)
    }

    /// The source line a node starts on, when the source is known.
    func sourceLine(_ node: Node) -> SourceLine? {
        guard let line = node.mark?.line, line >= 1, line <= lines.count else { return nil }
        return lines[line - 1]
    }

    /// One `key: value` of a mapping, with the key's own node for positions.
    struct Entry {
        var key: String
        var keyNode: Node
        var value: Node
    }

    func location(_ node: Node) -> SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    static func kindName(_ node: Node) -> String {
        switch node {
        case .mapping: return "a map"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            if isNull(scalar) { return "nothing" }
            return "'\(scalar.string)'"
        }
    }

    static func isNull(_ scalar: Node.Scalar) -> Bool {
        scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    static func isNull(_ node: Node) -> Bool {
        if case .scalar(let scalar) = node { return isNull(scalar) }
        return false
    }

    mutating func error(_ node: Node, _ message: String, hint: String? = nil) {
        bag.error(location(node), message, hint: hint)
    }

    // MARK: Structure

    /// The entries of a mapping, or nil (and an error) when the node is not one.
    /// Keys must be plain text and may not repeat.
    mutating func mapping(_ node: Node, _ what: String) -> [Entry]? {
        guard case .mapping(let mapping) = node else {
            if case .alias = node { error(node, "YAML aliases are not supported in flows", hint: "write the value out"); return nil }
            if let missingSpace = missingSpaceAfterColon(node) {
                bag.error(missingSpace.location, missingSpace.message, hint: missingSpace.hint)
                return nil
            }
            error(node, "\(what) must be a map of 'key: value' lines, found \(Self.kindName(node))")
            return nil
        }
        var entries: [Entry] = []
        var seen: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                error(keyNode, "keys must be plain words, found \(Self.kindName(keyNode))")
                continue
            }
            if let first = seen[scalar.string] {
                error(keyNode, "'\(scalar.string)' appears twice in \(what)", hint: "first at line \(location(first).line)")
                continue
            }
            seen[scalar.string] = keyNode
            entries.append(Entry(key: scalar.string, keyNode: keyNode, value: value))
        }
        return entries
    }

    /// Reports every key that is not allowed, with a did-you-mean hint.
    mutating func rejectUnknownKeys(_ entries: [Entry], allowed: [String], in what: String) {
        for entry in entries where !allowed.contains(entry.key) {
            error(entry.keyNode, "unknown key '\(entry.key)' in \(what)", hint: Suggestions.hint(for: entry.key, in: allowed))
        }
    }

    mutating func sequence(_ node: Node, _ what: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            error(node, "\(what) must be a list (lines starting with '- '), found \(Self.kindName(node))")
            return nil
        }
        return Array(sequence)
    }

    // MARK: Scalars

    /// A text value. Numbers and booleans are accepted as their text.
    mutating func string(_ node: Node, _ what: String, allowEmpty: Bool = false) -> String? {
        guard case .scalar(let scalar) = node else {
            if let written = unquotedTemplate(node) {
                error(
                    node, "a text that starts with '{{' must be in double quotes, or YAML reads it as a map",
                    hint: "put the whole text in double quotes: \(written)")
                return nil
            }
            error(node, "\(what) must be a text, found \(Self.kindName(node))")
            return nil
        }
        if !allowEmpty, Self.isNull(scalar) || scalar.string.trimmingCharacters(in: .whitespaces).isEmpty {
            error(node, "\(what) must not be empty")
            return nil
        }
        return scalar.string
    }

    /// `true`/`false`, also `on`/`off` and `yes`/`no`, which people write naturally.
    mutating func bool(_ node: Node, _ what: String, style: String = "true or false") -> Bool? {
        if case .scalar(let scalar) = node {
            switch scalar.string.lowercased() {
            case "true", "on", "yes": return true
            case "false", "off", "no": return false
            default: break
            }
        }
        error(node, "\(what) must be \(style), found \(Self.kindName(node))")
        return nil
    }

    /// `text: {{message.text}}` is valid YAML, a map inside a map: the line as it should
    /// have been written when a flow-style map was meant as a template, else nil.
    func unquotedTemplate(_ node: Node) -> String? {
        // Yams does not keep a mapping's style, so the source says whether it was `{{`.
        guard case .mapping = node, let source = sourceLine(node), let column = node.mark?.column, column + 1 <= source.scalars.count,
            source.scalars[column - 1] == "{", source.scalars[column] == "{", let value = source.value, value.hasPrefix("{{")
        else { return nil }
        return (source.key.map { "\($0): " } ?? "") + SourceLine.doubleQuoted(value)
    }

    mutating func integer(_ node: Node, _ what: String) -> Int? {
        if case .scalar(let scalar) = node, let value = Int(scalar.string) { return value }
        error(node, "\(what) must be a whole number, found \(Self.kindName(node))")
        return nil
    }

    mutating func number(_ node: Node, _ what: String) -> Double? {
        if case .scalar(let scalar) = node, let value = Double(scalar.string), value.isFinite { return value }
        error(node, "\(what) must be a number, found \(Self.kindName(node))")
        return nil
    }

    /// A single text or a list of texts, each with its node.
    mutating func stringList(_ node: Node, _ what: String) -> [(String, Node)]? {
        switch node {
        case .scalar:
            return string(node, what).map { [($0, node)] }
        case .sequence(let sequence):
            guard !sequence.isEmpty else {
                error(node, "\(what) must not be an empty list")
                return nil
            }
            var values: [(String, Node)] = []
            for item in sequence {
                if let value = string(item, "each item of \(what)") { values.append((value, item)) }
            }
            return values.count == sequence.count ? values : nil
        default:
            error(node, "\(what) must be a text or a list of texts, found \(Self.kindName(node))")
            return nil
        }
    }

    /// One of a fixed set of words, with the allowed values (or a did-you-mean) as hint.
    mutating func choice(_ node: Node, _ what: String, from allowed: [String]) -> String? {
        guard let value = string(node, what) else { return nil }
        guard allowed.contains(value) else {
            error(node, "'\(value)' is not a valid \(what)", hint: Suggestions.hint(for: value, in: allowed))
            return nil
        }
        return value
    }

    /// A duration such as `30m`, `24h`, `7d`, in seconds.
    mutating func duration(_ node: Node, _ what: String) -> Double? {
        guard let text = string(node, what) else { return nil }
        if let seconds = TimeText.seconds(text) { return seconds }
        error(node, "'\(text)' is not a duration", hint: "write a number and a unit: 30m, 24h, 7d, 2w")
        return nil
    }
}
