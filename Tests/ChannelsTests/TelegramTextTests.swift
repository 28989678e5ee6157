import Channels
import Foundation
import TestServers
import TestSupport
import Testing

@Suite("TelegramText", .timeLimit(.minutes(5)), .machineShare)
struct TelegramTextTests {
    @Test func escapeHTMLEscapesTheThreeSymbols() throws {
        #expect(TelegramText.escapeHTML("a<b>&c \"q\" 'x'") == "a&lt;b&gt;&amp;c \"q\" 'x'")
        #expect(TelegramText.escapeHTML("&amp;") == "&amp;amp;")
        #expect(TelegramText.escapeHTML("привет 😀") == "привет 😀")
        // What the fake Telegram parses back is the original text.
        let original = "if a < b && c > d { <script>alert('x')</script> } &lt; 🇺🇦"
        #expect(try TelegramHTML.plainText(TelegramText.escapeHTML(original)) == original)
    }

    @Test func splitPrefersNewlineThenSpace() {
        #expect(TelegramText.split("line one\nline two words here", limit: 15) == ["line one\n", "line two words ", "here"])
        #expect(TelegramText.split("aaaa bbbb cccc dddd", limit: 12) == ["aaaa bbbb ", "cccc dddd"])
        #expect(TelegramText.split("abcdefghij", limit: 4) == ["abcd", "efgh", "ij"])
        #expect(TelegramText.split("", limit: 10) == [])
        #expect(TelegramText.split("short", limit: 10) == ["short"])
        #expect(TelegramText.split("   \n  ", limit: 10) == [])
    }

    @Test func splitCountsUTF16AndNeverBreaksSurrogatePairs() {
        let emoji = String(repeating: "😀", count: 5000)  // 10000 UTF-16 units
        let chunks = TelegramText.split(emoji, limit: 4095)
        #expect(chunks.joined() == emoji)
        #expect(chunks.map(\.utf16.count) == [4094, 4094, 1812])
        for chunk in chunks {
            #expect(!chunk.unicodeScalars.contains("\u{FFFD}"))
        }
        let cyrillic = String(repeating: "Щ", count: 5000)
        #expect(TelegramText.split(cyrillic, limit: 4096).map(\.utf16.count) == [4096, 904])
    }

    @Test func splitKeepsGraphemeClustersWhole() {
        let family = "👨‍👩‍👧‍👦"  // 11 UTF-16 units, one character
        let flag = "🇺🇦"
        let text = String(repeating: family + flag + "é", count: 300)
        for limit in [11, 12, 16, 100, 1000] {
            let chunks = TelegramText.split(text, limit: limit)
            #expect(chunks.joined() == text)
            #expect(chunks.allSatisfy { $0.utf16.count <= limit })
            #expect(chunks.map(\.count).reduce(0, +) == text.count, "a grapheme was split at limit \(limit)")
        }
        // A single character longer than the limit is cut between scalars, nothing is lost.
        let zalgo = "e" + String(repeating: "\u{0301}", count: 20)
        let pieces = TelegramText.split(zalgo, limit: 8)
        #expect(pieces.joined() == zalgo)
        #expect(pieces.allSatisfy { $0.utf16.count <= 8 })
    }

    /// Random texts of letters, Cyrillic, emoji (with ZWJ, flags, skin tones), combining marks,
    /// spaces and newlines. Checked: every chunk fits, is non-empty and not only whitespace, and the
    /// chunks give back the text (exactly, or minus whitespace-only runs that could not be kept).
    @Test(arguments: [2, 3, 7, 16, 64, 1024, 4096])
    func splitPropertiesOnRandomText(limit: Int) {
        var random = SplitMix64(seed: UInt64(limit) &* 7919)
        let pieces = [
            "a", "b", "Z", "1", ".", ",", "<", "&", ">", "ж", "Щ", "ё", "😀", "👍🏽", "🇺🇦", "👨‍👩‍👧‍👦", "é", "e\u{0301}",
            "中", " ", " ", " ", "\n", "\n\n", "\r\n", "\t",
        ]
        var exactRounds = 0
        for round in 0..<40 {
            let count = Int.random(in: 0...(round.isMultiple(of: 4) ? 12_000 : 600), using: &random)
            var text = ""
            for _ in 0..<count { text += pieces.randomElement(using: &random)! }
            let chunks = TelegramText.split(text, limit: limit)
            for chunk in chunks {
                #expect(chunk.utf16.count <= limit)
                #expect(chunk.contains { !$0.isWhitespace })
                #expect(!chunk.unicodeScalars.contains("\u{FFFD}"))
            }
            #expect(isReconstruction(chunks, of: text), "limit \(limit), round \(round)")
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(chunks.isEmpty == trimmed.isEmpty)
            // Nothing is dropped unless the text starts or ends with whitespace or has a whitespace run
            // about as long as the limit.
            if trimmed == text, longestWhitespaceRun(text) < limit / 2 {
                #expect(chunks.joined() == text, "limit \(limit), round \(round)")
                exactRounds += 1
            }
        }
        if limit >= 16 {
            #expect(exactRounds >= 10, "the exact round-trip check ran only \(exactRounds) times")
        }
    }

    @Test func splitNeverMakesWhitespaceOnlyChunksFromText() {
        // A long run of spaces followed by a long word: break inside the word rather than after the spaces.
        let text = "abc" + String(repeating: " ", count: 10) + String(repeating: "x", count: 20)
        let chunks = TelegramText.split(text, limit: 16)
        #expect(chunks.joined() == text)
        #expect(chunks.allSatisfy { $0.contains { !$0.isWhitespace } })
    }

    @Test func clipRespectsCharacters() {
        #expect(TelegramText.clip("abc", limit: 5) == "abc")
        #expect(TelegramText.clip("ab😀", limit: 3) == "ab")
        #expect(TelegramText.clip(String(repeating: "я", count: 200), limit: 128).utf16.count == 128)
    }

    /// Long random text (with characters that need escaping) split, escaped and sent: the fake parses
    /// every chunk back to exactly the raw chunk, within Telegram's 4096 limit.
    @Test func splitThenEscapeIsAcceptedByTheFake() async throws {
        var random = SplitMix64(seed: 42)
        let pieces = ["<", ">", "&", "word", " ", "\n", "😀", "Ж", "&lt;", "<b>"]
        var text = ""
        while text.utf16.count < 15_000 { text += pieces.randomElement(using: &random)! }
        try await withTelegram { fake, client in
            let chunks = TelegramText.split(text, limit: TelegramText.messageLimit)
            #expect(chunks.count >= 4)
            for chunk in chunks {
                _ = try await client.sendMessage(chatID: 7, text: TelegramText.escapeHTML(chunk))
            }
            let recorded = await fake.requests(method: "sendMessage")
            #expect(recorded.compactMap(\.plainText) == chunks)
            #expect(recorded.allSatisfy { $0.responseStatus == 200 })
            #expect(await fake.violations().isEmpty)
        }
    }

    private func longestWhitespaceRun(_ text: String) -> Int {
        var longest = 0
        var current = 0
        for character in text {
            if character.isWhitespace {
                current += character.utf16.count
                longest = max(longest, current)
            } else {
                current = 0
            }
        }
        return longest
    }

    /// True when `chunks` appear in `text` in order and everything between or around them is whitespace
    /// (compared scalar by scalar, so a chunk that ends inside a grapheme is still compared exactly).
    private func isReconstruction(_ chunks: [String], of text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        var position = 0
        for chunk in chunks {
            let piece = Array(chunk.unicodeScalars)
            while !(position + piece.count <= scalars.count && Array(scalars[position..<(position + piece.count)]) == piece) {
                guard position < scalars.count, scalars[position].properties.isWhitespace else { return false }
                position += 1
            }
            position += piece.count
        }
        return scalars[position...].allSatisfy(\.properties.isWhitespace)
    }
}
