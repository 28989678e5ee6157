import Foundation

/// Values actions produce for later steps of the same flow.
struct Outputs {
    var variant: String?
    var transcript: String?
    var answer: String?
}

extension RunContext {
    /// How an action list ended.
    enum Ending {
        case completed
        /// `ask_assistant` failed: its `on_failure` ran, the rest of the flow is skipped.
        case abandoned
        /// `stop`: no later action or flow runs for this event.
        case stopped
    }

    nonisolated(nonsending) mutating func perform(_ actions: [Action], flow: Flow, outputs: inout Outputs) async -> Ending {
        for action in actions {
            let ending = await perform(action, flow: flow, outputs: &outputs)
            if ending != .completed { return ending }
        }
        return .completed
    }

    private func request(_ flow: Flow) -> ServiceRequest {
        ServiceRequest(event: event, userID: userID, source: source, flow: flow.name)
    }

    private mutating func deliver(_ effect: Effect, _ flow: Flow, message: Int? = nil) {
        outcome.deliveries.append(Delivery(effect, flow: flow.name, message: message))
    }

    /// The values a template can read. The chat's auto mode is read from state only when
    /// the template uses it.
    mutating func values(_ outputs: Outputs, for template: Template) -> TemplateValues {
        TemplateValues(
            userID: userID, userName: event.userName, messageText: event.text, messageMedia: event.media,
            chatSource: source, autoMode: template.readsAutoMode ? autoMode() : runtime.autoModeDefault,
            transcript: outputs.transcript, answer: outputs.answer, variant: outputs.variant, today: today()
        )
    }

    /// What `forward_to_group` sends without a `text`: the message's text, and the
    /// transcript of its voice when the flow made one, so staff can read a voice message.
    static func forwardedText(_ text: String?, transcript: String?) -> String {
        let text = text ?? ""
        guard let transcript, !transcript.isEmpty else { return text }
        return (text.isEmpty ? "" : text + "\n") + "🎤 " + transcript
    }

    /// Renders a template; plain texts skip building the values entirely.
    mutating func render(_ template: Template, _ outputs: Outputs) -> String {
        template.mustache == nil ? template.source : template.render(values(outputs, for: template))
    }

    private mutating func record(_ flow: Flow, _ type: String, text: String? = nil, value: String? = nil, title: String? = nil) {
        result.actions.append(PerformedAction(flow: flow.name, type: type, text: text, value: value, title: title))
    }

    private nonisolated(nonsending) mutating func perform(_ action: Action, flow: Flow, outputs: inout Outputs) async -> Ending {
        switch action.kind {
        case .forwardToGroup(let template):
            let text = template.map { render($0, outputs) } ?? Self.forwardedText(event.text, transcript: outputs.transcript)
            record(flow, "forward_to_group", text: text)
            deliver(.forwardToGroup(text: text, media: event.media), flow)
        case .push(let titleTemplate, let textTemplate):
            let title = titleTemplate.map { render($0, outputs) }
            let text = render(textTemplate, outputs)
            record(flow, "push", text: text, title: title)
            deliver(.push(title: title, text: text), flow)
        case .greet(let template):
            let text = render(template, outputs)
            store(StoredMessage(userID: userID, source: .app, direction: .support, text: text, at: event.at, flow: flow.name))
            record(flow, "greet", text: text)
            deliver(.greet(text: text), flow)
        case .reply(let template):
            let text = render(template, outputs)
            // The AI wrote it when its text carries the assistant's answer; else the flow did.
            let author: StoredMessage.Author = outputs.answer != nil && template.readsAnswer ? .assistant : .flow
            let message = store(
                StoredMessage(userID: userID, source: source, direction: .support, text: text, at: event.at, flow: flow.name, author: author))
            record(flow, "reply", text: text)
            deliver(.reply(text: text), flow, message: message)
        case .transcribe:
            do {
                let transcript = try await services.transcribe(request(flow))
                outputs.transcript = transcript
                record(flow, "transcribe", text: transcript)
                // Kept with the voice message itself, so the inbox shows it under the player.
                if let own = outcome.inboundMessages?.first, !transcript.isEmpty { outcome.messages[own].transcript = transcript }
            } catch {
                // No transcript: later templates render it empty; the flow goes on (the
                // assistant can still answer "please type your question").
                outputs.transcript = ""
                record(flow, "transcribe", text: nil, value: "failed: \(error)")
            }
        case .askAssistant(let promptTemplate, let onFailure):
            // Without a prompt the assistant gets what the user said: the transcript of a
            // voice message when there is one, else the text. Images travel with the event.
            let said = outputs.transcript.flatMap { $0.isEmpty ? nil : $0 } ?? event.text
            let prompt = promptTemplate.map { render($0, outputs) } ?? said
            do {
                let answer = try await services.askAssistant(request(flow), prompt: prompt)
                outputs.answer = answer
                record(flow, "ask_assistant", text: answer)
            } catch {
                record(flow, "ask_assistant", text: nil, value: "failed: \(error)")
                let ending = await perform(onFailure, flow: flow, outputs: &outputs)
                return ending == .stopped ? .stopped : .abandoned
            }
        case .broadcast:
            // Realtime listeners get the event's message (a user's message, or the staff reply).
            let text = event.text ?? ""
            record(flow, "broadcast", text: text)
            deliver(.broadcast(text: text), flow)
        case .setAutoMode(let on):
            setAutoMode(on)
            record(flow, "set_auto_mode", value: Self.onOff(on))
            deliver(.setAutoMode(on), flow)
        case .stop:
            record(flow, "stop")
            stopped = true
            return .stopped
        case .branch(let conditions, let thenActions, let elseActions):
            let chosen = firstFailure(conditions, variant: outputs.variant, explain: false) == nil ? thenActions : elseActions
            return await perform(chosen, flow: flow, outputs: &outputs)
        }
        return .completed
    }
}
