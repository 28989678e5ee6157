import Foundation

extension RunContext {
    /// The first condition that does not hold, described with the actual and wanted values;
    /// nil when all hold. With `explain` false the description is empty: a branch only
    /// needs to know, and describing a failure (joining the wanted values) cost more than
    /// checking it.
    mutating func firstFailure(_ conditions: [Condition], variant: String?, explain: Bool = true) -> String? {
        for condition in conditions {
            if let failure = failure(of: condition, variant: variant, explain: explain) { return failure }
        }
        return nil
    }

    /// Why `condition` does not hold (empty unless `explain`), or nil when it does.
    mutating func failure(of condition: Condition, variant: String?, explain: Bool = true) -> String? {
        switch condition.kind {
        case .autoMode(let wanted):
            let actual = autoMode()
            if actual == wanted { return nil }
            guard explain else { return "" }
            return "auto_mode is \(Self.onOff(actual)), the flow wants \(Self.onOff(wanted))"
        case .media(let kinds, let any):
            let media = event.media
            if any && media != .none { return nil }
            if kinds.contains(media) { return nil }
            guard explain else { return "" }
            let wanted = (kinds.map(\.rawValue) + (any ? ["any"] : [])).joined(separator: " or ")
            return "media is \(media.rawValue), the flow wants \(wanted)"
        case .source(let sources):
            if sources.contains(source) { return nil }
            guard explain else { return "" }
            return "source is \(source.rawValue), the flow wants \(sources.map(\.rawValue).joined(separator: " or "))"
        case .textContains(let needles):
            let text = (event.text ?? "").lowercased()
            if needles.contains(where: { text.contains($0) }) { return nil }
            guard explain else { return "" }
            return "the text \(Self.quote(event.text)) contains none of \(needles.map { "\"\($0)\"" }.joined(separator: ", "))"
        case .textMatches(let regex):
            if regex.matches(event.text ?? "") { return nil }
            guard explain else { return "" }
            return "the text \(Self.quote(event.text)) does not match /\(regex.pattern)/"
        case .userNameKnown(let wanted):
            let known = !(event.userName ?? "").isEmpty
            if known == wanted { return nil }
            guard explain else { return "" }
            return "user_name is \(known ? "known" : "missing"), the flow wants \(wanted ? "known" : "missing")"
        case .time(let window):
            if window.contains(event.at, defaultZone: runtime.timeZone) { return nil }
            guard explain else { return "" }
            let local = LocalTime(event.at, in: window.zone ?? runtime.timeZone)
            let clock = String(format: "%02d:%02d", local.minuteOfDay / 60, local.minuteOfDay % 60)
            return "the time is \(Vocabulary.dayNames[local.weekday]) \(clock), the flow wants \(window.description)"
        case .firstMessage(let wanted):
            if isFirstMessage == wanted { return nil }
            guard explain else { return "" }
            return "first_message is \(isFirstMessage), the flow wants \(wanted)"
        case .variant(let wanted):
            if variant == wanted { return nil }
            guard explain else { return "" }
            return "variant is \(variant ?? "none"), the flow wants \(wanted)"
        case .all(let inner):
            return firstFailure(inner, variant: variant, explain: explain)
        case .any(let inner):
            var reasons: [String] = []
            for option in inner {
                guard let reason = failure(of: option, variant: variant, explain: explain) else { return nil }
                if explain { reasons.append(reason) }
            }
            return explain ? "none of 'any' held: " + reasons.joined(separator: "; ") : ""
        case .not(let inner):
            guard failure(of: inner, variant: variant, explain: false) == nil else { return nil }
            guard explain else { return "" }
            return "'not' failed: its condition (line \(inner.location.line)) holds"
        }
    }

    static func onOff(_ value: Bool) -> String { value ? "on" : "off" }

    static func quote(_ text: String?) -> String {
        guard let text, !text.isEmpty else { return "(empty)" }
        return text.count > 60 ? "\"\(text.prefix(57))...\"" : "\"\(text)\""
    }
}
