/// Text helpers for the Telegram Bot API.
///
/// Telegram measures message length in UTF-16 code units of the text *after* entity parsing, so
/// long texts must be split while still raw and each chunk escaped afterwards:
///
/// ```swift
/// for chunk in TelegramText.split(reply, limit: TelegramText.messageLimit) {
///     try await client.sendMessage(chatID: chat, text: TelegramText.escapeHTML(chunk))
/// }
/// ```
public enum TelegramText {
    /// Longest message text: 4096 characters after entity parsing.
    public static let messageLimit = 4096
    /// Longest media caption: 1024 characters after entity parsing.
    public static let captionLimit = 1024
    /// Longest forum topic name: 128 characters.
    public static let topicNameLimit = 128

    /// Escapes text for `parse_mode` HTML: `&`, `<` and `>` become `&amp;`, `&lt;` and `&gt;`,
    /// which the Bot API requires for every such symbol that is not part of a tag or entity.
    public static func escapeHTML(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// The length Telegram counts for plain text: UTF-16 code units.
    public static func length(_ text: some StringProtocol) -> Int {
        text.utf16.count
    }

    /// Splits raw (unescaped) text into chunks of at most `limit` UTF-16 code units.
    ///
    /// - A break is preferred after a newline, then after a space, in the second half of the
    ///   window; failing that after any newline or space; failing that between two characters.
    /// - Chunks never split a grapheme cluster (emoji with modifiers, flags, combining marks), so
    ///   they never split a surrogate pair. Only a single grapheme longer than `limit` is cut,
    ///   between its Unicode scalars.
    /// - The break whitespace stays at the end of its chunk, so `split(text).joined() == text`.
    ///   The only exception: a stretch that would make a chunk of nothing but whitespace (which
    ///   Telegram rejects as an empty message) is left out. That happens only for whitespace at the
    ///   very start or end of the text, or a run of whitespace about as long as `limit`.
    ///
    /// - Parameter limit: the maximum chunk length in UTF-16 code units; at least 2.
    public static func split(_ text: String, limit: Int) -> [String] {
        precondition(limit >= 2, "limit must allow at least one surrogate pair")
        var chunks: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            if rest.utf16.count <= limit {
                chunks.append(String(rest))
                break
            }
            let end = breakIndex(in: rest, limit: limit)
            chunks.append(String(rest[..<end]))
            rest = rest[end...]
        }
        return chunks.filter { chunk in !chunk.allSatisfy(\.isWhitespace) }
    }

    /// Shortens text to at most `limit` UTF-16 code units without splitting a character.
    public static func clip(_ text: String, limit: Int) -> String {
        if text.utf16.count <= limit { return text }
        var used = 0
        var end = text.startIndex
        for index in text.indices {
            let width = text[index].utf16.count
            if used + width > limit { break }
            used += width
            end = text.index(after: index)
        }
        return String(text[..<end])
    }

    /// Where to end the next chunk of `text` (which is longer than `limit`).
    private static func breakIndex(in text: Substring, limit: Int) -> Substring.Index {
        var used = 0
        var end = text.startIndex  // end of the longest prefix of whole characters that fits
        var lastNewline: (index: Substring.Index, at: Int)?
        var lastSpace: (index: Substring.Index, at: Int)?
        var seenText = false  // only break after some non-whitespace, so no chunk is only whitespace
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let width = character.utf16.count
            if used + width > limit { break }
            used += width
            let next = text.index(after: index)
            if character.isNewline {
                if seenText { lastNewline = (next, used) }
            } else if character.isWhitespace {
                if seenText { lastSpace = (next, used) }
            } else {
                seenText = true
            }
            end = next
            index = next
        }
        if end == text.startIndex {
            // A single grapheme is longer than the limit: cut it between Unicode scalars.
            return scalarBreak(in: text, limit: limit)
        }
        let half = limit / 2
        if let newline = lastNewline, newline.at > half { return newline.index }
        if let space = lastSpace, space.at > half { return space.index }
        if let newline = lastNewline { return newline.index }
        if let space = lastSpace { return space.index }
        return end
    }

    /// The longest prefix of whole Unicode scalars that fits in `limit` UTF-16 code units.
    private static func scalarBreak(in text: Substring, limit: Int) -> Substring.Index {
        var used = 0
        var end = text.startIndex
        var index = text.unicodeScalars.startIndex
        while index < text.unicodeScalars.endIndex {
            let width = text.unicodeScalars[index].utf16.count
            if used + width > limit { break }
            used += width
            index = text.unicodeScalars.index(after: index)
            end = index
        }
        return end
    }
}
