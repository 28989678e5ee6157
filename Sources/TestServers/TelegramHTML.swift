import Foundation

/// Checks text sent with `parse_mode: HTML` the way the Bot API does, and computes the plain text
/// Telegram would store (tags removed, entities decoded) so its length can be checked.
public enum TelegramHTML {
    /// Tags the Bot API accepts.
    public static let supportedTags: Set<String> = [
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
        "a", "tg-emoji", "code", "pre", "blockquote", "tg-time",
    ]

    /// Named entities the Bot API accepts (numeric ones are all accepted).
    public static let namedEntities: [String: String] = ["lt": "<", "gt": ">", "amp": "&", "quot": "\""]

    /// Parses `html`; returns the plain text or throws a description like Telegram's
    /// `can't parse entities: …` error.
    public static func plainText(_ html: String) throws -> String {
        let scalars = Array(html.unicodeScalars)
        var output = String.UnicodeScalarView()
        var open: [String] = []
        var index = 0
        func byteOffset(_ at: Int) -> Int {
            String(String.UnicodeScalarView(scalars[..<at])).utf8.count
        }
        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "<":
                guard let close = scalars[index...].firstIndex(of: ">") else {
                    throw HTMLError("Unclosed start tag at byte offset \(byteOffset(index))")
                }
                let inner = String(String.UnicodeScalarView(scalars[(index + 1)..<close]))
                if inner.hasPrefix("/") {
                    let name = inner.dropFirst().trimmingCharacters(in: .whitespaces).lowercased()
                    guard let last = open.last else {
                        throw HTMLError("Unexpected end tag at byte offset \(byteOffset(index))")
                    }
                    guard last == name else {
                        throw HTMLError("Can't find end tag corresponding to start tag \"\(last)\"")
                    }
                    open.removeLast()
                } else {
                    let (name, attributes) = try parseTag(inner, offset: byteOffset(index))
                    guard supportedTags.contains(name) else {
                        throw HTMLError("Unsupported start tag \"\(name)\" at byte offset \(byteOffset(index))")
                    }
                    if let enclosing = open.last, enclosing == "code" || (enclosing == "pre" && name != "code") {
                        throw HTMLError("Can't use tag \"\(name)\" inside \"\(enclosing)\" at byte offset \(byteOffset(index))")
                    }
                    switch name {
                    case "a":
                        guard let href = attributes["href"], !href.isEmpty else {
                            throw HTMLError("Tag \"a\" must have attribute \"href\" at byte offset \(byteOffset(index))")
                        }
                        _ = href
                    case "span":
                        guard attributes["class"] == "tg-spoiler" else {
                            throw HTMLError("Tag \"span\" must have class \"tg-spoiler\" at byte offset \(byteOffset(index))")
                        }
                    case "tg-emoji":
                        guard attributes["emoji-id"] != nil else {
                            throw HTMLError("Tag \"tg-emoji\" must have attribute \"emoji-id\" at byte offset \(byteOffset(index))")
                        }
                    default:
                        break
                    }
                    open.append(name)
                }
                index = close + 1
            case ">":
                throw HTMLError("Unexpected \">\"; use \"&gt;\" at byte offset \(byteOffset(index))")
            case "&":
                guard let semicolon = scalars[index...].prefix(12).firstIndex(of: ";") else {
                    throw HTMLError("Unescaped \"&\" at byte offset \(byteOffset(index)); use \"&amp;\"")
                }
                let name = String(String.UnicodeScalarView(scalars[(index + 1)..<semicolon]))
                if let decoded = namedEntities[name] {
                    output.append(contentsOf: decoded.unicodeScalars)
                } else if name.hasPrefix("#"), let value = numericEntity(name.dropFirst()),
                    let decoded = Unicode.Scalar(value)
                {
                    output.append(decoded)
                } else {
                    throw HTMLError("Unsupported HTML entity \"&\(name);\" at byte offset \(byteOffset(index))")
                }
                index = semicolon + 1
            default:
                output.append(scalar)
                index += 1
            }
        }
        if let unclosed = open.last {
            throw HTMLError("Can't find end tag corresponding to start tag \"\(unclosed)\"")
        }
        return String(output)
    }

    private static func numericEntity(_ digits: Substring) -> UInt32? {
        if digits.hasPrefix("x") || digits.hasPrefix("X") {
            return UInt32(digits.dropFirst(), radix: 16)
        }
        return UInt32(digits)
    }

    /// Splits `name attr="v" attr2='w' flag` into a lower-cased name and attributes.
    private static func parseTag(_ inner: String, offset: Int) throws -> (String, [String: String]) {
        let trimmed = inner.trimmingCharacters(in: .whitespaces)
        guard let first = trimmed.unicodeScalars.first, first.properties.isAlphabetic else {
            throw HTMLError("Unsupported start tag \"\(trimmed)\" at byte offset \(offset)")
        }
        let nameEnd = trimmed.firstIndex(where: { $0.isWhitespace }) ?? trimmed.endIndex
        let name = trimmed[..<nameEnd].lowercased()
        var attributes: [String: String] = [:]
        var rest = Substring(trimmed[nameEnd...])
        while true {
            rest = rest.drop(while: { $0.isWhitespace })
            if rest.isEmpty { break }
            let keyEnd = rest.firstIndex(where: { $0 == "=" || $0.isWhitespace }) ?? rest.endIndex
            let key = rest[..<keyEnd].lowercased()
            rest = rest[keyEnd...].drop(while: { $0.isWhitespace })
            guard rest.first == "=" else {
                attributes[key] = ""
                continue
            }
            rest = rest.dropFirst().drop(while: { $0.isWhitespace })
            if let quote = rest.first, quote == "\"" || quote == "'" {
                let body = rest.dropFirst()
                guard let end = body.firstIndex(of: quote) else {
                    throw HTMLError("Unclosed attribute value in tag \"\(name)\" at byte offset \(offset)")
                }
                attributes[key] = String(body[..<end])
                rest = body[body.index(after: end)...]
            } else {
                let end = rest.firstIndex(where: { $0.isWhitespace }) ?? rest.endIndex
                attributes[key] = String(rest[..<end])
                rest = rest[end...]
            }
        }
        return (name, attributes)
    }

    struct HTMLError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
