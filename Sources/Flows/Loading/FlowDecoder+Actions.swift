import Yams

extension FlowDecoder {
    /// The seed's greeting: "Здравствуйте, {name}!" or "Здравствуйте!" when the name is unknown.
    static let defaultGreeting = "Здравствуйте{{#user.name}}, {{user.name}}{{/user.name}}!"

    /// A list of actions. Actions after `stop` are reported as unreachable (a warning).
    mutating func decodeActions(_ node: Node, _ what: String, scope: inout Scope) -> [Action]? {
        guard let items = reader.sequence(node, what) else { return nil }
        var actions: [Action] = []
        var stoppedAt: Node?
        for item in items {
            if let stop = stoppedAt {
                reader.bag.warning(
                    reader.location(item), "this action never runs: it comes after 'stop' (line \(reader.location(stop).line))",
                    hint: "move it above 'stop' or delete it")
                stoppedAt = nil
            }
            guard let action = decodeAction(item, scope: &scope) else { continue }
            if case .stop = action.kind { stoppedAt = item }
            actions.append(action)
        }
        return actions
    }

    mutating func decodeAction(_ node: Node, scope: inout Scope) -> Action? {
        let at = reader.location(node)
        // `- stop` and other parameterless actions may be written as a bare word.
        if case .scalar(let scalar) = node {
            let name = scalar.string
            if let missingSpace = reader.missingSpaceAfterColon(node) {
                reader.bag.error(missingSpace.location, missingSpace.message, hint: missingSpace.hint)
                return nil
            }
            guard Vocabulary.actionParameters[name] != nil else {
                reader.error(node, "unknown action '\(name)'", hint: Suggestions.hint(for: name, in: Vocabulary.actionNames))
                return nil
            }
            return decodeParameters(name: name, value: Node("", Tag(.null), .plain), nameNode: node, at: at, scope: &scope)
        }
        guard let entries = reader.mapping(node, "an action") else { return nil }
        if entries.contains(where: { $0.key == "if" }) {
            return decodeBranch(entries, node: node, at: at, scope: &scope)
        }
        guard entries.count == 1, let entry = entries.first else {
            if entries.isEmpty {
                reader.error(node, "an empty action", hint: "write one action per '- ' line, such as - reply: \"Thanks!\"")
            } else {
                reader.error(
                    entries[1].keyNode, "one action per '- ' line: '\(entries[1].key)' needs its own '- '",
                    hint: "parameters go inside the action: - push: { title: ..., text: ... }")
            }
            return nil
        }
        guard Vocabulary.actionParameters[entry.key] != nil else {
            reader.error(entry.keyNode, "unknown action '\(entry.key)'", hint: Suggestions.hint(for: entry.key, in: Vocabulary.actionNames))
            return nil
        }
        return decodeParameters(name: entry.key, value: entry.value, nameNode: entry.keyNode, at: at, scope: &scope)
    }

    /// `- if: {...}  then: [...]  else: [...]`
    mutating func decodeBranch(_ entries: [NodeReader.Entry], node: Node, at: SourceLocation, scope: inout Scope) -> Action? {
        reader.rejectUnknownKeys(entries, allowed: ["if", "then", "else"], in: "an 'if' action")
        let conditions = decodeConditions(entries.first { $0.key == "if" }!.value, scope: scope)
        var thenScope = scope, elseScope = scope
        var thenActions: [Action] = []
        if let then = entries.first(where: { $0.key == "then" }) {
            thenActions = decodeActions(then.value, "'then'", scope: &thenScope) ?? []
        } else {
            reader.error(node, "an 'if' action needs 'then': the actions to run when the conditions hold")
        }
        let elseActions = entries.first { $0.key == "else" }.flatMap { decodeActions($0.value, "'else'", scope: &elseScope) } ?? []
        // Outputs produced on either path may be used later: templates render them empty
        // on the path that did not produce them, which is what a branch like
        // "transcribe voice messages" wants.
        scope.outputs.formUnion(thenScope.outputs)
        scope.outputs.formUnion(elseScope.outputs)
        guard let conditions else { return nil }
        return Action(.branch(conditions: conditions, then: thenActions, else: elseActions), at: at)
    }

    /// The parameters of one named action, in its short form (a text or a word) or long form (a map).
    mutating func decodeParameters(name: String, value: Node, nameNode: Node, at: SourceLocation, scope: inout Scope) -> Action? {
        let allowed = Vocabulary.actionParameters[name] ?? []
        var fields: [String: Node] = [:]
        switch value {
        case .mapping:
            guard let entries = reader.mapping(value, "'\(name)'") else { return nil }
            reader.rejectUnknownKeys(entries, allowed: allowed, in: "'\(name)'")
            for entry in entries { fields[entry.key] = entry.value }
        case .scalar where NodeReader.isNull(value):
            break
        case .scalar:
            guard let main = allowed.first(where: { $0 == "text" || $0 == "value" }) else {
                reader.error(value, "'\(name)' takes no value", hint: "write - \(name): {}")
                return nil
            }
            fields[main] = value
        default:
            reader.error(value, "'\(name)' must be a text or a map of parameters, found \(NodeReader.kindName(value))")
            return nil
        }

        if ["transcribe"].contains(name), let trigger = scope.messagelessTrigger {
            reader.error(nameNode, "'\(name)' needs a message, but '\(trigger.rawValue)' carries none")
            return nil
        }

        switch name {
        case "forward_to_group":
            let text = fields["text"].flatMap { template($0, scope: scope) }
            if fields["text"] == nil, let trigger = scope.messagelessTrigger {
                reader.error(
                    nameNode, "'forward_to_group' has no message to forward: '\(trigger.rawValue)' carries none",
                    hint: "give it a text: - forward_to_group: { text: \"...\" }")
                return nil
            }
            return Action(.forwardToGroup(text: text), at: at)
        case "push":
            let title = fields["title"].flatMap { template($0, scope: scope) }
            let text: Template?
            if let node = fields["text"] {
                text = template(node, scope: scope)
            } else if let trigger = scope.messagelessTrigger {
                reader.error(nameNode, "'push' needs a 'text': '\(trigger.rawValue)' has no message to show")
                return nil
            } else {
                text = try? Template("{{message.text}}")
            }
            return text.map { Action(.push(title: title, text: $0), at: at) }
        case "greet":
            let text = fields["text"].map { template($0, scope: scope) } ?? (try? Template(Self.defaultGreeting))
            return text.map { Action(.greet($0), at: at) }
        case "reply":
            guard let node = fields["text"] else {
                reader.error(nameNode, "'reply' needs a text", hint: "write - reply: \"Thanks, we will answer soon\"")
                return nil
            }
            return template(node, scope: scope).map { Action(.reply($0), at: at) }
        case "transcribe":
            scope.outputs.insert("transcript")
            return Action(.transcribe, at: at)
        case "ask_assistant":
            let prompt = fields["prompt"].flatMap { template($0, scope: scope) }
            var failureScope = scope
            let onFailure = fields["on_failure"].flatMap { decodeActions($0, "'on_failure'", scope: &failureScope) } ?? []
            scope.outputs.insert("answer")
            return Action(.askAssistant(prompt: prompt, onFailure: onFailure), at: at)
        case "broadcast":
            return Action(.broadcast, at: at)
        case "set_auto_mode":
            guard let node = fields["value"] else {
                reader.error(nameNode, "'set_auto_mode' needs on or off", hint: "write - set_auto_mode: off")
                return nil
            }
            return reader.bool(node, "'set_auto_mode'", style: "on or off").map { Action(.setAutoMode($0), at: at) }
        case "stop":
            return Action(.stop, at: at)
        default:
            return nil
        }
    }

    // MARK: Templates

    /// Parses a template parameter and checks that every variable it reads exists here.
    mutating func template(_ node: Node, scope: Scope) -> Template? {
        guard let source = reader.string(node, "a text") else { return nil }
        let base = reader.location(node)
        reader.warnAboutWriting(node)
        let template: Template
        for stray in TemplateMistakes.strayBraces(in: source) {
            reader.bag.warning(
                locationInText(base: base, node: node, stray.position),
                "'\(stray.written)' is not a template tag: the customer would see it as written", hint: "did you mean '\(stray.meant)'?")
        }
        do {
            template = try Template(source)
        } catch let error as TemplateSyntaxError {
            // Name the tags involved, which swift-mustache's errors do not.
            if let problem = TemplateMistakes.sectionProblem(in: source) {
                reader.bag.error(locationInText(base: base, node: node, problem.position), "template error: " + problem.message)
            } else if let open = TemplateMistakes.unclosedTag(in: source) {
                reader.bag.error(locationInText(base: base, node: node, open), "template error: a tag is not closed: expected '}}'", hint: "end it with '}}'")
            } else {
                reader.bag.error(locationInText(base: base, node: node, (error.line, error.column)), "template error: \(error.message)")
            }
            return nil
        } catch {
            reader.error(node, "template error: \(error)")
            return nil
        }
        var ok = true
        for use in template.variables {
            if let problem = use.unsupported {
                reader.error(node, problem)
                ok = false
                continue
            }
            if let problem = availabilityProblem(use, scope: scope) {
                let at = TemplateMistakes.position(ofVariable: use.name, in: source).map { locationInText(base: base, node: node, $0) } ?? base
                reader.bag.error(at, problem.message, hint: problem.hint)
                ok = false
            }
        }
        return ok ? template : nil
    }

    /// A position inside a text (1-based line and column of the text itself) as a position
    /// in the file: exact for one-line texts and block texts (`|`, `>`).
    private func locationInText(base: SourceLocation, node: Node, _ position: (line: Int, column: Int)) -> SourceLocation {
        let (line, column) = position
        var location = base
        if case .scalar(let scalar) = node {
            switch scalar.style {
            case .literal, .folded:
                // The text starts on the line after `|`, at that line's indentation.
                location.line += line
                let indent = location.line <= reader.lines.count ? reader.lines[location.line - 1].indent : 0
                location.column = indent + column
            default:
                if line == 1 {
                    location.column += column - 1 + (scalar.style == .plain ? 0 : 1)
                } else {
                    location.line += line - 1
                }
            }
        }
        return location
    }

    /// Why a variable cannot be read at this point, or nil when it can.
    func availabilityProblem(_ use: TemplateVariableUse, scope: Scope) -> (message: String, hint: String?)? {
        let parts = use.name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if use.name == "." {
            guard let innermost = use.enclosingSections.last else { return ("'{{.}}' only makes sense inside a section", nil) }
            if let fields = TemplateCatalogue.objects[innermost] {
                return (
                    "inside '{{#\(innermost)}}', '{{.}}' is the whole '\(innermost)', which has no text of its own",
                    "write one of its fields: " + fields.map { "{{\($0)}}" }.joined(separator: ", ")
                )
            }
            return nil
        }
        // Inside {{#user}}, a bare field name reads from the section's object.
        for section in use.enclosingSections.reversed() {
            if let fields = TemplateCatalogue.objects[section], parts.count == 1, fields.contains(parts[0]) { return nil }
        }
        let head = parts[0]
        if let fields = TemplateCatalogue.objects[head], parts.count == 1, !use.isSection {
            return ("'{{\(head)}}' has no text of its own", "write one of its fields: " + fields.map { "{{\(head).\($0)}}" }.joined(separator: ", "))
        }
        if let fields = TemplateCatalogue.objects[head] {
            if parts.count > 2 || (parts.count == 2 && !fields.contains(parts[1])) {
                let field = parts.dropFirst().joined(separator: ".")
                let hint =
                    Suggestions.closest(to: field, in: fields).map { "did you mean '\(head).\($0)'?" }
                    ?? "'\(head)' has: " + fields.map { "\(head).\($0)" }.joined(separator: ", ")
                return ("'\(head)' has no '\(field)'", hint)
            }
            if head == "message", let trigger = scope.messagelessTrigger {
                return ("'{{\(use.name)}}' is not available: '\(trigger.rawValue)' carries no message", nil)
            }
            return nil
        }
        guard parts.count == 1, TemplateCatalogue.scalars.contains(head) else {
            return ("unknown template variable '\(use.name)'", Suggestions.hint(for: use.name, in: TemplateCatalogue.allNames))
        }
        switch head {
        case "transcript" where !scope.outputs.contains("transcript"):
            return ("'{{transcript}}' is not available here: no 'transcribe' runs before this action", "add - transcribe: {} before it")
        case "answer" where !scope.outputs.contains("answer"):
            return ("'{{answer}}' is not available here: no 'ask_assistant' runs before this action", "add - ask_assistant: {} before it")
        case "variant" where !scope.outputs.contains("variant"):
            return ("'{{variant}}' is not available: this flow has no experiment", nil)
        default:
            return nil
        }
    }
}
