import Flows
import Foundation
import TestSupport
import Testing

@testable import ReplyflowCLI

// Replay reads each line with SwiftProtobuf's JSON decoder first and falls back to
// Foundation's. These tests hold the two to one meaning: the fast reader takes a line only
// when Foundation would read the same event from it.

private func decodeFast(_ line: String) -> EventRecord? {
    Array(line.utf8).withUnsafeBufferPointer { EventLineDecoder.fastRecord($0) }
}

private func decodeSlow(_ line: String) -> Result<EventRecord, EventLineDecoder.LineError> {
    Array(line.utf8).withUnsafeBufferPointer { EventLineDecoder.foundationRecord($0) }
}

private func decode(_ line: String) -> Result<InboundEvent, EventLineDecoder.LineError>? {
    Array(line.utf8).withUnsafeBufferPointer { EventLineDecoder.decode($0, now: Date(timeIntervalSince1970: 0)) }
}

@Suite("Replay line decoding", .machineShare)
struct EventLineDecoderTests {
    static let full =
        #"{"kind":"telegram_reply","at":"2026-11-20T10:00:00+03:00","user":{"id":"7","name":"Анна"},"chat":{"auto_mode":false},"message":{"text":"Где \"мой\" заказ?\n","media":"photo"},"stubs":{"answer":"ok","transcript":"t","assistant_fails":true,"transcription_fails":false}}"#

    @Test("the fast reader reads every field of the format, as Foundation does")
    func everyField() throws {
        let fast = try #require(decodeFast(Self.full))
        #expect(fast.kind == "telegram_reply")
        #expect(fast.at == "2026-11-20T10:00:00+03:00")
        #expect(fast.user == EventRecord.User(id: "7", name: "Анна"))
        #expect(fast.chat == EventRecord.Chat(auto_mode: false))
        #expect(fast.message == EventRecord.Message(text: "Где \"мой\" заказ?\n", media: "photo"))
        #expect(fast.stubs == EventRecord.Stubs(answer: "ok", transcript: "t", assistant_fails: true, transcription_fails: false))
        #expect(try decodeSlow(Self.full).get() == fast)
    }

    @Test("spellings only Foundation's reader takes still replay: numeric user id, \"on\" for a flag, 7.0 for reply_to")
    func lenientSpellings() throws {
        let numericID = #"{"kind":"app_message","user":{"id":42},"message":{"text":"hi"}}"#
        #expect(decodeFast(numericID) == nil)
        #expect(try decode(numericID)?.get().userID == "42")

        let onFlag = #"{"kind":"instagram_dm","user":{"id":"1"},"chat":{"auto_mode":"on"}}"#
        #expect(decodeFast(onFlag) == nil)
        #expect(try decode(onFlag)?.get().autoMode == true)

        // reply_to is always Foundation's: protobuf rounds long decimals otherwise.
        let wholeDouble = #"{"kind":"telegram_reply","message":{"text":"x","reply_to":7.0}}"#
        #expect(decodeFast(wholeDouble) == nil)
        #expect(try decode(wholeDouble)?.get().replyTo == 7)
        let longDecimal = #"{"kind":"telegram_reply","message":{"text":"x","reply_to":771721.000000000000000000001}}"#
        #expect(decodeFast(longDecimal) == nil)
    }

    @Test("what the format refuses is refused with Foundation's words, whichever reader saw it first")
    func refusals() {
        func message(_ line: String) -> String? {
            if case .failure(let error)? = decode(line) { return error.message }
            return nil
        }
        // protobuf's int64 would take a quoted number; the format does not.
        let quoted = #"{"kind":"telegram_reply","message":{"reply_to":"5"}}"#
        #expect(decodeFast(quoted) == nil)
        #expect(message(quoted) == "'message.reply_to' must be a whole number")
        #expect(message(#"{"kind":"app_message","user":{"id":"1"},"message":{"reply_to":1.5}}"#) == "'message.reply_to' must be a whole number")
        #expect(message(#"{"kind":"app_message","user":"1"}"#) == "'user' must be an object")
        #expect(message(#"{"kind":"app_message","user":{"id":"1"},"chat":{"auto_mode":1}}"#)?.hasPrefix("'chat.auto_mode' must be true or false") == true)
        #expect(message(#"[1, 2]"#) == "a line must be a JSON object (an event)")
        #expect(message(#"{"kind":"app_message"} trailing"#)?.hasPrefix("not valid JSON") == true)
        #expect(message(#"{"kind":"app_message","user":{"id":"1"}}"#) == nil)
    }

    @Test("keys the format does not know are ignored (Foundation reads those lines), camelCase ones included")
    func unknownKeysIgnored() throws {
        let unknown = #"{"kind":"app_message","user":{"id":"1","extra":{"a":[1,{"b":null}]}},"message":{"text":"hi"},"version":2}"#
        #expect(decodeFast(unknown) == nil)
        let event = try #require(try decode(unknown)?.get())
        #expect(event.userID == "1")
        #expect(event.text == "hi")

        let camelCase = #"{"kind":"instagram_dm","user":{"id":"1"},"chat":{"autoMode":false},"stubs":{"assistantFails":true}}"#
        #expect(decodeFast(camelCase) == nil)
        let camelEvent = try #require(try decode(camelCase)?.get())
        #expect(camelEvent.autoMode == nil)
        #expect(camelEvent.stubs.assistantFails == false)
    }

    @Test("on 30,000 mutated lines, every line the fast reader takes reads the same with Foundation's")
    func mutatedLinesAgree() throws {
        let seeds = [
            Self.full,
            #"{"kind":"app_message","user":{"id":"1","extra":{"a":[1,{"b":null}]}},"message":{"text":"hi"},"version":2}"#,
            #"{"kind": "app_message", "at": "2026-11-01T06:00:00+00:00", "user": {"id": "18651"}, "message": {"text": "Здравствуйте"}}"#,
            #"{"kind": "history_fetch", "at": "2026-11-01T06:00:02+00:00", "user": {"id": "14728", "name": "User 14728"}}"#,
            #"{"kind":"instagram_dm","user":{"id":"3","name":null},"chat":{"auto_mode":true},"message":{"media":"voice"},"stubs":{"answer":"Спасибо","transcript":null}}"#,
            #"{"kind":"telegram_reply","message":{"text":"да","reply_to":1000},"user":null,"chat":null,"stubs":null}"#,
        ]
        let tokens = [
            "null", "1.5", "7.0", "1e2", "-0", "\"on\"", "\"123\"", "true", "false", "{}", "[]", "[1,{\"a\":null}]", "\"\\ud800\"",
            "\"\\u0041\"", "\u{FEFF}", "\u{FFFD}", "771721.000000000000000000001", "\"x\"", ",", ":", "{", "}", "\"", "\\", " ", "\t", "\u{1}", "\u{7F}", "é",
            ",\"kind\":\"app_message\"",
            ",\"user\":{\"name\":\"Z\"}", ",\"user\":{\"id\":\"9\"}", ",\"message\":{\"reply_to\":5}", "\"reply_to\":", "\"auto_mode\":", "\"id\":",
        ]
        var random = SplitMix64(seed: 20_261_203)
        var taken = 0
        var refused = 0
        for _ in 0..<30_000 {
            var bytes = Array(seeds.randomElement(using: &random)!.utf8)
            for _ in 0...Int.random(in: 0...2, using: &random) {
                let at = Int.random(in: 0...bytes.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: bytes.insert(contentsOf: Array(tokens.randomElement(using: &random)!.utf8), at: at)
                case 1: if at < bytes.count { bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...6, using: &random))) }
                case 2: if at < bytes.count { bytes[at] = UInt8.random(in: 0...255, using: &random) }
                default:
                    // A key repeated: the tail of the line from a quote on, put in again.
                    if let quote = bytes[at...].firstIndex(of: UInt8(ascii: "\"")), let end = bytes[quote...].firstIndex(of: UInt8(ascii: ",")) {
                        bytes.insert(contentsOf: Array(bytes[quote...end]), at: quote)
                    }
                }
            }
            let fast = bytes.withUnsafeBufferPointer { EventLineDecoder.fastRecord($0) }
            guard let fast else {
                refused += 1
                continue
            }
            taken += 1
            let slow = bytes.withUnsafeBufferPointer { EventLineDecoder.foundationRecord($0) }
            let line = String(decoding: bytes, as: UTF8.self)
            guard case .success(let record) = slow else {
                Issue.record("the fast reader took a line Foundation refuses: \(line)")
                return
            }
            #expect(record == fast, "\(line)")
            if record != fast { return }
        }
        // Both paths are exercised, or the agreement above says nothing.
        #expect(taken > 1_500)
        #expect(refused > 5_000)
    }

    @Test("the word-at-a-time scan counts braces and finds control characters as a byte loop does")
    func braceCountMatchesByteLoop() {
        var random = SplitMix64(seed: 7)
        let alphabet: [UInt8] = [0x00, 0x09, 0x0A, 0x1F, 0x20, 0x21, 0x22, 0x7B, 0x7D, 0x7F, 0x80, 0x9B, 0xD0, 0xFB, 0xFF, 0x61]
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 0...40, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
            let expected: Int? = bytes.contains { $0 < 0x20 } ? nil : bytes.filter { $0 == UInt8(ascii: "{") }.count
            let counted = bytes.withUnsafeBufferPointer { EventLineDecoder.braceCount($0) }
            #expect(counted == expected, "\(bytes)")
            if counted != expected { return }
        }
    }

    @Test("a byte-order mark inside a text goes to Foundation, which drops it at the start of a string")
    func byteOrderMark() throws {
        let line = "{\"kind\":\"app_message\",\"user\":{\"id\":\"\u{FEFF}42\"},\"message\":{\"text\":\"hi\"}}"
        #expect(decodeFast(line) == nil)
        let slow = try decodeSlow(line).get()
        #expect(try decode(line)?.get().userID == slow.user?.id)
    }

    @Test("a key given twice with an object goes to Foundation, which keeps the last object")
    func repeatedObjectKey() throws {
        let line = #"{"kind":"app_message","user":{"id":"1","name":"Ann"},"message":{"text":"hi"},"user":{"id":"2"}}"#
        #expect(decodeFast(line) == nil)
        let event = try #require(try decode(line)?.get())
        #expect(event.userID == "2")
        #expect(event.userName == nil)

        let braceInText = #"{"kind":"app_message","user":{"id":"1"},"message":{"text":"{smile}"}}"#
        #expect(decodeFast(braceInText) == nil)
        #expect(try decode(braceInText)?.get().text == "{smile}")
    }
}
