import Flows
import Foundation
import SwiftProtobuf

/// Turns one line of a replay file into an event, or says why it is not one.
///
/// Reading JSON was the largest part of a replay's time, so a line is read first by
/// SwiftProtobuf's JSON decoder into `Replyflow_ReplayEvent` (`replay_event.proto`), which
/// builds no dictionaries. A line it does not take (bad JSON, a number for `user.id`,
/// `"on"` for a flag) is read again by Foundation's `JSONSerialization` and
/// `EventRecord(json:)`, which take every spelling the format allows and word the errors.
/// For a line both take, both give the same event; a test checks that on mutated lines.
enum EventLineDecoder {
    /// Why a line is not an event, and where.
    struct LineError: Error, Sendable {
        var column: Int
        var message: String
    }

    /// nil for a blank line; otherwise the event or why the line is not one. A nil `line`
    /// is one longer than `JSONLinesReader.maximumLineLength`.
    static func decode(_ line: UnsafeBufferPointer<UInt8>?, now: Date) -> Result<InboundEvent, LineError>? {
        guard let bytes = line else {
            return .failure(LineError(column: 1, message: "the line is longer than \(JSONLinesReader.maximumLineLength / 1024) KB; an event is one short JSON object per line"))
        }
        if bytes.allSatisfy({ $0 == 32 || $0 == 9 }) { return nil }
        let record: EventRecord
        if let fast = fastRecord(bytes) {
            record = fast
        } else {
            switch foundationRecord(bytes) {
            case .success(let slow): record = slow
            case .failure(let error): return .failure(error)
            }
        }
        switch record.makeEvent(now: now) {
        case .success(let event): return .success(event)
        case .failure(let problem):
            return .failure(LineError(column: 1, message: problem.message + (problem.hint.map { " (\($0))" } ?? "")))
        }
    }

    /// Unknown keys are refused, not skipped: SwiftProtobuf would skip their values without
    /// checking their UTF-8, which Foundation refuses. The format ignores keys it does not
    /// know (so files for a newer version replay): such a line goes to Foundation.
    private static let protobufOptions = JSONDecodingOptions()

    /// The line as SwiftProtobuf reads it, or nil when it does not take the line.
    static func fastRecord(_ bytes: UnsafeBufferPointer<UInt8>) -> EventRecord? {
        // Lines the two readers would take differently are left to Foundation. One is an
        // object key given twice: Foundation keeps the last object, protobuf merges the two
        // (a line that only says `"user"` twice in a text goes there too).
        guard !needsFoundation(bytes) else { return nil }
        // SwiftProtobuf takes an array or Data, not a pointer: one copy of a short line.
        guard let line = try? Replyflow_ReplayEvent(jsonUTF8Bytes: Array(bytes), options: protobufOptions) else { return nil }
        var record = EventRecord()
        if line.hasKind { record.kind = line.kind }
        if line.hasAt { record.at = line.at }
        if line.hasUser {
            record.user = EventRecord.User(id: line.user.hasID ? line.user.id : nil, name: line.user.hasName ? line.user.name : nil)
        }
        if line.hasChat { record.chat = EventRecord.Chat(auto_mode: line.chat.hasAutoMode ? line.chat.autoMode : nil) }
        if line.hasMessage {
            let message = line.message
            var replyTo: Int64?
            if message.hasReplyTo {
                // The format's reply_to is a whole JSON number; anything else is Foundation's to word.
                switch message.replyTo.kind {
                case .numberValue(let number)?:
                    guard let whole = Int64(exactly: number) else { return nil }
                    replyTo = whole
                case .nullValue?: break
                default: return nil
                }
            }
            record.message = EventRecord.Message(text: message.hasText ? message.text : nil, media: message.hasMedia ? message.media : nil, reply_to: replyTo)
        }
        if line.hasStubs {
            let stubs = line.stubs
            record.stubs = EventRecord.Stubs(
                answer: stubs.hasAnswer ? stubs.answer : nil, transcript: stubs.hasTranscript ? stubs.transcript : nil,
                assistant_fails: stubs.hasAssistantFails ? stubs.assistantFails : nil,
                transcription_fails: stubs.hasTranscriptionFails ? stubs.transcriptionFails : nil
            )
        }
        return record
    }

    /// The format's keys whose values are objects, after their opening quote.
    private static let nestedKeys: [[UInt8]] = ["user\"", "chat\"", "message\"", "stubs\""].map { Array($0.utf8) }

    /// Whether the line has what the two readers take differently: a control character
    /// (Foundation refuses one unescaped inside a string, as JSON says; protobuf takes it),
    /// or one of `nestedKeys` twice. One pass, comparing keys only after quotes; this runs
    /// on every line, so it allocates nothing.
    private static func needsFoundation(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        var seen: UInt8 = 0
        var index = 0
        while index < bytes.count {
            let byte = base[index]
            index += 1
            if byte < 0x20 { return true }
            guard byte == UInt8(ascii: "\""), index < bytes.count else { continue }
            let number: Int
            switch base[index] {
            case UInt8(ascii: "u"): number = 0
            case UInt8(ascii: "c"): number = 1
            case UInt8(ascii: "m"): number = 2
            case UInt8(ascii: "s"): number = 3
            default: continue
            }
            let key = nestedKeys[number]
            guard bytes.count - index >= key.count, key.withUnsafeBufferPointer({ memcmp(base + index, $0.baseAddress!, key.count) == 0 }) else { continue }
            if seen & (1 << number) != 0 { return true }
            seen |= 1 << number
        }
        return false
    }

    /// The line as Foundation reads it, with the error a person can act on.
    static func foundationRecord(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<EventRecord, LineError> {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            return .failure(LineError(column: 1, message: "not valid JSON: \(describe(error))"))
        }
        do {
            return .success(try EventRecord(json: object))
        } catch {
            return .failure(LineError(column: 1, message: error.message))
        }
    }

    /// Foundation's JSON errors carry their position in `NSDebugDescription`.
    static func describe(_ error: Error) -> String {
        let nsError = error as NSError
        return (nsError.userInfo[NSDebugDescriptionErrorKey] as? String) ?? nsError.localizedDescription
    }
}
