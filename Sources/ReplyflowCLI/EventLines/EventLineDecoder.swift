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
        var scratch: [UInt8] = []
        return decode(line, now: now, scratch: &scratch)
    }

    /// `decode(_:now:)` with a buffer kept by the caller for the protobuf reader's copy of
    /// the line, so reading a file allocates none per line.
    static func decode(_ line: UnsafeBufferPointer<UInt8>?, now: Date, scratch: inout [UInt8]) -> Result<InboundEvent, LineError>? {
        guard let bytes = line else {
            return .failure(
                LineError(
                    column: 1, message: "the line is longer than \(JSONLinesReader.maximumLineLength) bytes (1 MiB); an event is one short JSON object per line"
                ))
        }
        if bytes.allSatisfy({ $0 == 32 || $0 == 9 }) { return nil }
        let record: EventRecord
        if let fast = fastRecord(bytes, scratch: &scratch) {
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
        var scratch: [UInt8] = []
        return fastRecord(bytes, scratch: &scratch)
    }

    static func fastRecord(_ bytes: UnsafeBufferPointer<UInt8>, scratch: inout [UInt8]) -> EventRecord? {
        guard let braces = braceCount(bytes) else { return nil }
        // SwiftProtobuf takes an array or Data, not a pointer: the line is copied into the
        // caller's buffer, which keeps its capacity from line to line.
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: bytes)
        guard let line = try? Replyflow_ReplayEvent(jsonUTF8Bytes: scratch, options: protobufOptions) else { return nil }
        // An object key given twice: Foundation keeps the last object, protobuf merges the
        // two. Unknown keys are refused, so every `{` is the line's own or opens one of its
        // four parts; one more than that (or a `{` inside a text) goes to Foundation.
        let parts = (line.hasUser ? 1 : 0) + (line.hasChat ? 1 : 0) + (line.hasMessage ? 1 : 0) + (line.hasStubs ? 1 : 0)
        guard braces == 1 + parts else { return nil }
        var record = EventRecord()
        if line.hasKind { record.kind = line.kind }
        if line.hasAt { record.at = line.at }
        if line.hasUser {
            record.user = EventRecord.User(id: line.user.hasID ? line.user.id : nil, name: line.user.hasName ? line.user.name : nil)
        }
        if line.hasChat { record.chat = EventRecord.Chat(auto_mode: line.chat.hasAutoMode ? line.chat.autoMode : nil) }
        if line.hasMessage {
            record.message = EventRecord.Message(text: line.message.hasText ? line.message.text : nil, media: line.message.hasMedia ? line.message.media : nil)
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

    /// The number of `{` in the line, or nil when it holds a byte the two readers take
    /// differently: a control character (Foundation refuses one unescaped inside a string,
    /// as JSON says; protobuf takes it), or 0xEF, which starts a byte-order mark: Foundation
    /// drops one at the start of a string's unescaped run, protobuf keeps it (the other
    /// characters from U+F000 up that start with 0xEF take Foundation's way too). Eight
    /// bytes at a time: this runs on every line.
    static func braceCount(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let base = bytes.baseAddress else { return 0 }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var braces = 0
        var index = 0
        while index + 8 <= bytes.count {
            let word = UnsafeRawPointer(base).loadUnaligned(fromByteOffset: index, as: UInt64.self)
            // A byte below 0x20 borrows into its own top bit; bytes from 0x80 up are masked out by ~word.
            if (word &- ones &* 0x20) & ~word & highs != 0 { return nil }
            // Bytes equal to the one sought become zero, and this mask has the top bit of
            // exactly those.
            func matches(_ byte: UInt8) -> UInt64 {
                let x = word ^ (ones &* UInt64(byte))
                return ~(((x & ~highs) &+ ~highs) | x) & highs
            }
            if matches(0xEF) != 0 { return nil }
            braces += matches(UInt8(ascii: "{")).nonzeroBitCount
            index += 8
        }
        while index < bytes.count {
            let byte = base[index]
            if byte < 0x20 || byte == 0xEF { return nil }
            if byte == UInt8(ascii: "{") { braces += 1 }
            index += 1
        }
        return braces
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
