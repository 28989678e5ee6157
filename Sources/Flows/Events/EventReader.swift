import Foundation
import Yams

/// Reads events written in YAML (dry-run event files, test steps), with positions.
enum EventReader {
    /// Checks the node's keys and types, then validates it as an event.
    static func read(_ node: Node, reader: inout NodeReader, now: Date) -> InboundEvent? {
        guard let entries = reader.mapping(node, "an event") else { return nil }
        reader.rejectUnknownKeys(entries, allowed: EventRecord.keys, in: "an event")
        var record = EventRecord()
        var nodes: [String: Node] = ["": node]
        for entry in entries {
            nodes[entry.key] = entry.value
            switch entry.key {
            case "kind": record.kind = reader.string(entry.value, "'kind'")
            case "at": record.at = reader.string(entry.value, "'at'")
            case "user":
                guard let fields = part(entry, EventRecord.userKeys, &reader, &nodes) else { continue }
                record.user = EventRecord.User(
                    id: fields["id"].flatMap { reader.string($0, "'user.id'") },
                    name: fields["name"].flatMap { reader.string($0, "'user.name'", allowEmpty: true) })
            case "chat":
                guard let fields = part(entry, EventRecord.chatKeys, &reader, &nodes) else { continue }
                record.chat = EventRecord.Chat(auto_mode: fields["auto_mode"].flatMap { reader.bool($0, "'chat.auto_mode'", style: "on or off") })
            case "message":
                guard let fields = part(entry, EventRecord.messageKeys, &reader, &nodes) else { continue }
                record.message = EventRecord.Message(
                    text: fields["text"].flatMap { reader.string($0, "'message.text'", allowEmpty: true) },
                    media: fields["media"].flatMap { reader.string($0, "'message.media'") },
                    reply_to: fields["reply_to"].flatMap { reader.integer($0, "'message.reply_to'") }.map(Int64.init)
                )
            case "stubs":
                guard let fields = part(entry, EventRecord.stubKeys, &reader, &nodes) else { continue }
                record.stubs = EventRecord.Stubs(
                    answer: fields["answer"].flatMap { reader.string($0, "'stubs.answer'", allowEmpty: true) },
                    transcript: fields["transcript"].flatMap { reader.string($0, "'stubs.transcript'", allowEmpty: true) },
                    assistant_fails: fields["assistant_fails"].flatMap { reader.bool($0, "'stubs.assistant_fails'") },
                    transcription_fails: fields["transcription_fails"].flatMap { reader.bool($0, "'stubs.transcription_fails'") }
                )
            default: continue
            }
        }
        if reader.bag.hasErrors { return nil }
        switch record.makeEvent(now: now) {
        case .success(let event):
            return event
        case .failure(let problem):
            let head = String(problem.field.split(separator: ".").first ?? "")
            let at = nodes[problem.field] ?? nodes[head] ?? node
            reader.error(at, problem.message, hint: problem.hint)
            return nil
        }
    }

    /// A nested map of the event (`user`, `chat`, ...), with its fields' nodes.
    private static func part(_ entry: NodeReader.Entry, _ keys: [String], _ reader: inout NodeReader, _ nodes: inout [String: Node]) -> [String: Node]? {
        guard let fields = reader.mapping(entry.value, "'\(entry.key)'") else { return nil }
        reader.rejectUnknownKeys(fields, allowed: keys, in: "'\(entry.key)'")
        var result: [String: Node] = [:]
        for field in fields {
            result[field.key] = field.value
            nodes["\(entry.key).\(field.key)"] = field.value
        }
        return result
    }

    /// Loads a single event file (`replyflow dry-run EVENT_FILE`).
    public static func load(data: Data, file: String, now: Date) -> (InboundEvent?, [Diagnostic]) {
        var bag = DiagnosticBag()
        guard let root = YAMLReader.compose(data: data, file: file, into: &bag) else { return (nil, bag.items) }
        var reader = NodeReader(file: file)
        let event = read(root, reader: &reader, now: now)
        return (event, bag.items + reader.bag.items)
    }
}

/// Public entry point for event files.
public enum EventFile {
    public static func load(data: Data, file: String, now: Date = Date()) -> (InboundEvent?, [Diagnostic]) {
        EventReader.load(data: data, file: file, now: now)
    }
}
