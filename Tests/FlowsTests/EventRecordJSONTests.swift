import Foundation
import Testing

@testable import Flows

/// Replay's JSON lines: each field's type is checked, `null` means absent, and an error
/// names the field at fault.
@Suite("Event lines: field types")
struct EventRecordJSONTests {
    private func record(_ line: String) throws(EventRecord.Problem) -> EventRecord {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        } catch {
            Issue.record("the test line is not JSON: \(line)")
            throw EventRecord.Problem(field: "", message: "", hint: nil)
        }
        return try EventRecord(json: object)
    }

    private func problem(_ line: String) -> EventRecord.Problem? {
        do {
            _ = try record(line)
            return nil
        } catch {
            return error
        }
    }

    @Test("a full line reads every field")
    func fullLine() throws {
        let event = try record(
            #"""
            {"kind":"telegram_reply","at":"2026-11-20T10:00:00Z","user":{"id":"7","name":"Ann"},"chat":{"auto_mode":"off"},
             "message":{"text":"hi","media":"photo","reply_to":12},"stubs":{"answer":"A","transcript":"T","assistant_fails":true,"transcription_fails":false}}
            """#)
        #expect(event.kind == "telegram_reply")
        #expect(event.at == "2026-11-20T10:00:00Z")
        #expect(event.user?.id == "7")
        #expect(event.user?.name == "Ann")
        #expect(event.chat?.auto_mode == false)
        #expect(event.message?.text == "hi")
        #expect(event.message?.media == "photo")
        #expect(event.message?.reply_to == 12)
        #expect(event.stubs?.answer == "A")
        #expect(event.stubs?.transcript == "T")
        #expect(event.stubs?.assistant_fails == true)
        #expect(event.stubs?.transcription_fails == false)
    }

    @Test("null is the same as leaving the field out")
    func nullsAreAbsent() throws {
        let event = try record(
            #"""
            {"kind":"app_message","at":null,"user":{"id":"7","name":null},"chat":{"auto_mode":null},
             "message":{"text":null,"media":null,"reply_to":null},"stubs":null}
            """#)
        #expect(event.at == nil)
        #expect(event.user?.name == nil)
        #expect(event.chat != nil && event.chat?.auto_mode == nil)
        #expect(event.message?.text == nil && event.message?.media == nil && event.message?.reply_to == nil)
        #expect(event.stubs == nil)
        #expect(try record(#"{"kind":"app_message","user":null}"#).user == nil)
    }

    @Test("a whole-number user id is read as text")
    func numericUserID() throws {
        #expect(try record(#"{"kind":"app_message","user":{"id":42}}"#).user?.id == "42")
    }

    @Test(
        "a field of the wrong type is an error naming it",
        arguments: [
            (#"[1, 2]"#, ""),
            (#"{"kind":5}"#, "kind"),
            (#"{"kind":"app_message","at":true}"#, "at"),
            (#"{"kind":"app_message","user":"7"}"#, "user"),
            (#"{"kind":"app_message","user":{"id":true}}"#, "user.id"),
            (#"{"kind":"app_message","user":{"id":4.5}}"#, "user.id"),
            (#"{"kind":"app_message","user":{"id":"7","name":["Ann"]}}"#, "user.name"),
            (#"{"kind":"app_message","chat":{"auto_mode":"maybe"}}"#, "chat.auto_mode"),
            (#"{"kind":"app_message","chat":{"auto_mode":1}}"#, "chat.auto_mode"),
            (#"{"kind":"app_message","message":{"text":{"a":1}}}"#, "message.text"),
            (#"{"kind":"app_message","message":{"reply_to":"12"}}"#, "message.reply_to"),
            (#"{"kind":"app_message","message":{"reply_to":false}}"#, "message.reply_to"),
            (#"{"kind":"app_message","stubs":{"assistant_fails":"yes"}}"#, "stubs.assistant_fails"),
            (#"{"kind":"app_message","stubs":[]}"#, "stubs"),
        ])
    func wrongTypes(line: String, field: String) {
        let found = problem(line)
        #expect(found?.field == field, "\(line): \(String(describing: found))")
        #expect(found?.message.isEmpty == false)
    }
}
