/// "Did you mean" hints for misspelt keys, triggers, conditions, actions and commands.
///
/// Public so the CLI (and the admin panel) word their hints the way the checker does.
public enum Suggestions {
    /// Words people write for a word of the language: other languages' spellings, habits
    /// from other tools. Used only when the target is among the allowed candidates.
    static let synonyms: [String: [String]] = [
        // once_per_user
        "daily": ["day"], "hourly": ["hour"], "weekly": ["week"], "once": ["ever"], "forever": ["ever"], "never": ["ever"],
        // media
        "foto": ["photo"], "fotos": ["photo"], "image": ["photo"], "picture": ["photo"], "pic": ["photo"], "img": ["photo"], "photos": ["photo"],
        "file": ["document"], "doc": ["document"],
        // flow keys from other tools
        "when": ["on"], "trigger": ["on"], "triggers": ["on"], "event": ["on"], "actions": ["do"], "steps": ["do"], "then": ["do"],
        "conditions": ["if"], "condition": ["if"], "where": ["if"], "otherwise": ["else"], "title": ["name"],
    ]

    /// The closest candidate within a small edit distance, or nil when nothing is close enough
    /// to be a likely typo (a wild guess is worse than no hint).
    public static func closest(to word: String, in candidates: [String]) -> String? {
        let lowered = word.lowercased()
        if let exact = candidates.first(where: { $0.lowercased() == lowered }) { return exact }
        if let meant = synonyms[lowered]?.first(where: { candidates.contains($0) }) { return meant }
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(lowered, candidate.lowercased())
            if best == nil || distance < best!.1 { best = (candidate, distance) }
        }
        if let (candidate, distance) = best, distance <= max(1, min(3, candidate.count / 3)) { return candidate }
        // A shortened word: `history_first_fetch`, `telegram_msg`. Only when one candidate fits.
        let shortened = candidates.filter { abbreviates(lowered, $0.lowercased()) }
        return shortened.count == 1 ? shortened[0] : nil
    }

    /// A hint naming the closest candidate, or listing them all when the list is short.
    public static func hint(for word: String, in candidates: [String]) -> String {
        if let match = closest(to: word, in: candidates) {
            return "did you mean '\(match)'?"
        }
        return "expected one of: " + candidates.joined(separator: ", ")
    }

    /// `replyflow chek`: the CLI's message for a command it does not have.
    public static func unknownCommand(_ word: String, commands: [String]) -> String {
        "'\(word)' is not a replyflow command (\(hint(for: word, in: commands)))"
    }

    /// Whether `word` is `candidate` written short: its `_`-separated parts each start like
    /// the candidate's and keep their letters in order (`msg` for `message`), and at most the
    /// candidate's last parts are left out (`history_first_fetch` for `history_first_fetch_today`).
    static func abbreviates(_ word: String, _ candidate: String) -> Bool {
        let parts = word.split(separator: "_"), full = candidate.split(separator: "_")
        guard word.count >= 4, word != candidate, !parts.isEmpty, parts.count <= full.count else { return false }
        for (part, whole) in zip(parts, full) {
            guard part.first == whole.first else { return false }
            var rest = whole[...]
            for letter in part {
                guard let index = rest.firstIndex(of: letter) else { return false }
                rest = rest[rest.index(after: index)...]
            }
        }
        return true
    }

    /// Levenshtein distance with transpositions counted as one edit (Damerau, restricted).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            previous2 = previous
            previous = current
        }
        return previous[b.count]
    }
}
