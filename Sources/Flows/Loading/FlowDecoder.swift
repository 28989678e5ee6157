import Foundation
import Yams

/// Decodes one flow file's validated node tree into a `Flow`, collecting every problem.
///
/// The raw tree is checked key by key before anything is built (unknown keys, wrong types,
/// enum values), so one run reports everything wrong with a file, and a file with any error
/// produces no flow at all: flows are never half-loaded.
struct FlowDecoder {
    var reader: NodeReader

    init(file: String, source: String = "") {
        self.reader = NodeReader(file: file, source: source)
    }

    /// What the actions at one point of a flow may read: fixed per flow except `outputs`,
    /// which grow as `transcribe` and `ask_assistant` appear.
    struct Scope {
        var triggers: [Trigger]
        var variants: [String]?
        var outputs: Set<String> = []
        /// The trigger without a message, if the flow listens to one.
        var messagelessTrigger: Trigger? { triggers.first { !$0.carriesMessage } }
    }

    mutating func decode(_ root: Node) -> Flow? {
        guard let entries = reader.mapping(root, "a flow file") else { return nil }
        reader.rejectUnknownKeys(entries, allowed: Vocabulary.flowKeys, in: "a flow")
        func value(_ key: String) -> NodeReader.Entry? { entries.first { $0.key == key } }

        let name = value("name").flatMap { reader.string($0.value, "'name'") }
        if value("name") == nil { reader.error(root, "a flow needs a 'name'", hint: "add a line such as: name: Greeting") }
        let description = value("description").flatMap { reader.string($0.value, "'description'", allowEmpty: true) }

        var triggers: [Trigger] = []
        if let on = value("on") {
            if !reader.rejectCommaList(on.value, key: "on"), let items = reader.stringList(on.value, "'on'") {
                for (text, node) in items {
                    if let trigger = Trigger(rawValue: text) {
                        if triggers.contains(trigger) { reader.error(node, "trigger '\(text)' is listed twice") }
                        triggers.append(trigger)
                    } else {
                        reader.error(node, "unknown trigger '\(text)'", hint: Suggestions.hint(for: text, in: Vocabulary.triggerNames))
                    }
                }
            }
        } else {
            reader.error(root, "a flow needs 'on': the event it listens to", hint: "one of: " + Vocabulary.triggerNames.joined(separator: ", "))
        }

        let priority = value("priority").flatMap { reader.integer($0.value, "'priority'") } ?? 100
        let enabled = value("enabled").flatMap { reader.bool($0.value, "'enabled'") } ?? true
        let once = value("once_per_user").flatMap { entry in
            reader.choice(entry.value, "'once_per_user' period", from: OncePeriod.allCases.map(\.rawValue)).flatMap(OncePeriod.init(rawValue:))
        }

        // The experiment first: conditions and actions may name its variants.
        var scope = Scope(triggers: triggers)
        var experimentNode: Node?
        if let entry = value("experiment") {
            experimentNode = entry.value
            scope.variants = variantNames(entry.value)
        }
        if scope.variants != nil { scope.outputs.insert("variant") }

        var conditions: [Condition] = []
        if let entry = value("if") {
            conditions = decodeConditions(entry.value, scope: scope) ?? []
        }

        var actions: [Action] = []
        var afterActions = scope
        if let entry = value("do") {
            actions = decodeActions(entry.value, "'do'", scope: &afterActions) ?? []
            // Judge the list as written: actions that failed to decode already have their errors.
            if case .sequence(let items) = entry.value, items.isEmpty { reader.error(entry.value, "'do' is empty: the flow would do nothing") }
        } else if experimentNode == nil {
            reader.error(root, "a flow needs 'do': the actions to run")
        }

        var elseActions: [Action] = []
        if let entry = value("else") {
            var elseScope = scope
            elseActions = decodeActions(entry.value, "'else'", scope: &elseScope) ?? []
            if value("if") == nil {
                reader.bag.warning(reader.location(entry.keyNode), "'else' never runs: this flow has no 'if'")
            }
        }

        var experiment: Experiment?
        if let experimentNode {
            experiment = decodeExperiment(experimentNode, scope: afterActions)
        }

        guard !reader.bag.hasErrors, let name else { return nil }
        return Flow(
            name: name, description: description, triggers: triggers, priority: priority, enabled: enabled,
            oncePerUser: once, conditions: conditions, actions: actions, elseActions: elseActions,
            experiment: experiment, file: reader.file, location: reader.location(root)
        )
    }

    // MARK: Experiments

    /// Variant names, read leniently (errors are reported by `decodeExperiment`).
    func variantNames(_ node: Node) -> [String] {
        guard case .mapping(let mapping) = node, let variants = mapping["variants"], case .sequence(let list) = variants else { return [] }
        return list.compactMap { item in
            guard case .mapping(let variant) = item, let name = variant["name"]?.scalar?.string else { return nil }
            return name
        }
    }

    mutating func decodeExperiment(_ node: Node, scope: Scope) -> Experiment? {
        guard let entries = reader.mapping(node, "'experiment'") else { return nil }
        reader.rejectUnknownKeys(entries, allowed: Vocabulary.experimentKeys, in: "an experiment")
        func value(_ key: String) -> NodeReader.Entry? { entries.first { $0.key == key } }
        let key = value("key").flatMap { reader.string($0.value, "the experiment 'key'") }
        if value("key") == nil { reader.error(node, "an experiment needs a 'key'", hint: "a name that never changes, such as greeting-copy-2026-11") }

        var goal: Experiment.Goal?
        if let goalEntry = value("goal"), let goalEntries = reader.mapping(goalEntry.value, "'goal'") {
            reader.rejectUnknownKeys(goalEntries, allowed: Vocabulary.goalKeys, in: "a goal")
            let trigger = goalEntries.first { $0.key == "on" }.flatMap { entry in
                reader.choice(entry.value, "goal trigger", from: Vocabulary.triggerNames).flatMap(Trigger.init(rawValue:))
            }
            if !goalEntries.contains(where: { $0.key == "on" }) { reader.error(goalEntry.value, "a goal needs 'on': the event that counts as a conversion") }
            let within = goalEntries.first { $0.key == "within" }.flatMap { reader.duration($0.value, "'within'") } ?? 7 * 86_400
            if let trigger { goal = Experiment.Goal(trigger: trigger, withinSeconds: within) }
        }

        var variants: [Variant] = []
        if let variantsEntry = value("variants"), let items = reader.sequence(variantsEntry.value, "'variants'") {
            var seen: Set<String> = []
            for item in items {
                guard let fields = reader.mapping(item, "a variant") else { continue }
                reader.rejectUnknownKeys(fields, allowed: Vocabulary.variantKeys, in: "a variant")
                let name = fields.first { $0.key == "name" }.flatMap { reader.string($0.value, "the variant 'name'") }
                if !fields.contains(where: { $0.key == "name" }) { reader.error(item, "a variant needs a 'name'") }
                if let name, !seen.insert(name).inserted { reader.error(item, "variant '\(name)' is defined twice") }
                var weight = 1.0
                if let weightEntry = fields.first(where: { $0.key == "weight" }), let value = reader.number(weightEntry.value, "'weight'") {
                    if value <= 0 {
                        reader.error(
                            weightEntry.value, "a weight must be positive, found \(weightEntry.value.scalar?.string ?? "")",
                            hint: "remove the variant instead of giving it no weight")
                    }
                    weight = value
                }
                var variantScope = scope
                let actions = fields.first { $0.key == "do" }.flatMap { decodeActions($0.value, "the variant's 'do'", scope: &variantScope) } ?? []
                if let name { variants.append(Variant(name: name, weight: weight, actions: actions)) }
            }
            if items.count < 2 { reader.error(variantsEntry.value, "an experiment needs at least two variants to compare") }
        } else if value("variants") == nil {
            reader.error(node, "an experiment needs 'variants'")
        }
        guard let key else { return nil }
        return Experiment(key: key, goal: goal, variants: variants, location: reader.location(node))
    }

    // MARK: Conditions

    /// A map of conditions that must all hold.
    mutating func decodeConditions(_ node: Node, scope: Scope) -> [Condition]? {
        guard let entries = reader.mapping(node, "'if'") else { return nil }
        if entries.isEmpty {
            reader.error(node, "'if' has no conditions", hint: "remove it, or add one of: " + Vocabulary.conditionKeys.joined(separator: ", "))
        }
        var conditions: [Condition] = []
        for entry in entries {
            if let condition = decodeCondition(entry, scope: scope) { conditions.append(condition) }
        }
        return conditions
    }

    mutating func decodeCondition(_ entry: NodeReader.Entry, scope: Scope) -> Condition? {
        let at = reader.location(entry.keyNode)
        let node = entry.value
        let needsMessage = ["media", "text_contains", "text_matches", "first_message"]
        if needsMessage.contains(entry.key), let trigger = scope.messagelessTrigger {
            reader.error(entry.keyNode, "'\(entry.key)' looks at the message, but '\(trigger.rawValue)' carries none")
            return nil
        }
        switch entry.key {
        case "auto_mode":
            return reader.bool(node, "'auto_mode'", style: "on or off").map { Condition(.autoMode($0), at: at) }
        case "media":
            guard !reader.rejectCommaList(node, key: "media"), let items = reader.stringList(node, "'media'") else { return nil }
            var kinds: [MediaKind] = []
            var any = false
            for (text, itemNode) in items {
                if text == "any" {
                    any = true
                } else if let kind = MediaKind(rawValue: text) {
                    kinds.append(kind)
                } else {
                    reader.error(itemNode, "'\(text)' is not a media kind", hint: Suggestions.hint(for: text, in: Vocabulary.mediaValues))
                    return nil
                }
            }
            return Condition(.media(kinds, any: any), at: at)
        case "source":
            guard !reader.rejectCommaList(node, key: "source"), let items = reader.stringList(node, "'source'") else { return nil }
            var sources: [ChatSource] = []
            for (text, itemNode) in items {
                guard let source = ChatSource(rawValue: text) else {
                    reader.error(itemNode, "'\(text)' is not a source", hint: Suggestions.hint(for: text, in: Vocabulary.sourceNames))
                    return nil
                }
                sources.append(source)
            }
            return Condition(.source(sources), at: at)
        case "text_contains":
            if let list = reader.commaList(node) {
                // A comma can be part of a phrase, so this only warns.
                reader.bag.warning(
                    reader.location(node), "'\(node.scalar?.string ?? "")' is one phrase, matched whole, commas included",
                    hint: "to match any of several words, write a list: text_contains: \(list)")
            }
            return reader.stringList(node, "'text_contains'").map { Condition(.textContains($0.map { $0.0.lowercased() }), at: at) }
        case "text_matches":
            guard let pattern = reader.string(node, "'text_matches'") else { return nil }
            do {
                return Condition(.textMatches(try RegexBox(pattern: pattern)), at: at)
            } catch {
                reader.error(
                    node, "'\(pattern)' is not a valid regular expression", hint: "check brackets and escapes; a literal dot or bracket needs a backslash")
                return nil
            }
        case "user_name":
            guard let value = reader.choice(node, "'user_name' value", from: ["known", "missing"]) else { return nil }
            return Condition(.userNameKnown(value == "known"), at: at)
        case "time":
            return decodeTimeWindow(node).map { Condition(.time($0), at: at) }
        case "first_message":
            return reader.bool(node, "'first_message'").map { Condition(.firstMessage($0), at: at) }
        case "variant":
            guard let name = reader.string(node, "'variant'") else { return nil }
            guard let variants = scope.variants else {
                reader.error(node, "'variant' needs an 'experiment' in this flow")
                return nil
            }
            guard variants.contains(name) else {
                reader.error(node, "this flow's experiment has no variant '\(name)'", hint: Suggestions.hint(for: name, in: variants))
                return nil
            }
            return Condition(.variant(name), at: at)
        case "any", "all":
            guard let items = reader.sequence(node, "'\(entry.key)'") else { return nil }
            if items.isEmpty { reader.error(node, "'\(entry.key)' needs at least one condition map") }
            var groups: [Condition] = []
            for item in items {
                guard let inner = decodeConditions(item, scope: scope) else { continue }
                groups.append(inner.count == 1 ? inner[0] : Condition(.all(inner), at: reader.location(item)))
            }
            return Condition(entry.key == "any" ? .any(groups) : .all(groups), at: at)
        case "not":
            guard let inner = decodeConditions(node, scope: scope) else { return nil }
            let condition = inner.count == 1 ? inner[0] : Condition(.all(inner), at: reader.location(node))
            return Condition(.not(condition), at: at)
        default:
            reader.error(entry.keyNode, "unknown condition '\(entry.key)'", hint: Suggestions.hint(for: entry.key, in: Vocabulary.conditionKeys))
            return nil
        }
    }

    mutating func decodeTimeWindow(_ node: Node) -> TimeWindow? {
        guard let entries = reader.mapping(node, "'time'") else { return nil }
        // In `{ days: sat,sun }` the comma ends `days`, and `sun` becomes a key of its own.
        let strayDays = entries.filter { Vocabulary.dayNames.contains($0.key) && NodeReader.isNull($0.value) }
        for entry in strayDays {
            reader.error(
                entry.keyNode, "'\(entry.key)' is read as a key of 'time': inside { ... } a comma separates keys",
                hint: "write the days as a list, days: [sat, sun], or as a range, days: sat-sun")
        }
        reader.rejectUnknownKeys(entries.filter { entry in !strayDays.contains { $0.keyNode == entry.keyNode } }, allowed: Vocabulary.timeKeys, in: "'time'")
        guard let betweenEntry = entries.first(where: { $0.key == "between" }) else {
            reader.error(node, "'time' needs 'between'", hint: "for example between: \"09:00-18:00\"")
            return nil
        }
        guard let between = reader.string(betweenEntry.value, "'between'") else { return nil }
        guard let (start, end) = TimeWindow.parseBetween(between) else {
            let mistake = TimeWindow.explainBetween(between)
            reader.error(betweenEntry.value, mistake.message, hint: mistake.hint)
            return nil
        }
        var days = Set(0..<7)
        var daysText = ""
        if let daysEntry = entries.first(where: { $0.key == "days" }) {
            guard let items = reader.stringList(daysEntry.value, "'days'") else { return nil }
            switch TimeWindow.parseDays(items.map(\.0)) {
            case .success(let parsed): days = parsed
            case .failure(let failure):
                reader.error(
                    daysEntry.value, "'\(failure.part)' is not a day",
                    hint: Suggestions.hint(for: failure.part, in: Vocabulary.dayNames) + "; ranges like mon-fri work too")
                return nil
            }
            daysText = " " + items.map(\.0).joined(separator: ",")
        }
        var zone: TimeZone?
        if let zoneEntry = entries.first(where: { $0.key == "timezone" }) {
            guard let identifier = reader.string(zoneEntry.value, "'timezone'") else { return nil }
            guard let found = TimeZone(identifier: identifier) else {
                let known = TimeZone.knownTimeZoneIdentifiers + ["UTC"]
                reader.error(
                    zoneEntry.value, "unknown time zone '\(identifier)'",
                    hint: Suggestions.closest(to: identifier, in: known).map { "did you mean '\($0)'?" }
                        ?? "use a name from the IANA time zone database, such as Europe/Moscow")
                return nil
            }
            zone = found
        }
        let description = between + daysText + (zone.map { " " + $0.identifier } ?? "")
        return TimeWindow(startMinute: start, endMinute: end, days: days, zone: zone, description: description)
    }
}
