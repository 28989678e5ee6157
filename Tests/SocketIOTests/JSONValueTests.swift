import Testing

@testable import SocketIO
import TestSupport

@Suite("JSONValue parsing and serialization", .machineShare)
struct JSONValueTests {
    @Test func serializesCompactlyWithSortedKeys() {
        let value: JSONValue = ["b": [1, 2.5, true, nil], "a": "x", "c": ["nested": -3]]
        #expect(value.encoded() == #"{"a":"x","b":[1,2.5,true,null],"c":{"nested":-3}}"#)
    }

    @Test func integersHaveNoFractionAndLargeNumbersStayValid() throws {
        #expect(JSONValue.number(1).encoded() == "1")
        #expect(JSONValue.number(-0.0).encoded() == "0")
        #expect(JSONValue.number(0.1).encoded() == "0.1")
        #expect(JSONValue.number(1e300).encoded() == "1e+300")
        #expect(JSONValue.number(.nan).encoded() == "null")
        #expect(try JSONValue(parsing: "1e+300") == .number(1e300))
    }

    @Test func escapesStrings() throws {
        let text = "quote\" backslash\\ newline\n tab\t bell\u{07} snow\u{2603} emoji\u{1F600}"
        let encoded = JSONValue.string(text).encoded()
        #expect(encoded == #""quote\" backslash\\ newline\n tab\t bell\u0007 snow☃ emoji😀""#)
        #expect(try JSONValue(parsing: encoded) == .string(text))
    }

    @Test func parsesEscapesAndSurrogatePairs() throws {
        #expect(try JSONValue(parsing: #""\u00e9\ud83d\ude00\/\b\f""#) == .string("é😀/\u{08}\u{0C}"))
    }

    @Test func roundTripsNestedValues() throws {
        let text = #"{"a":[1,{"b":null}],"c":"d","e":false,"f":-12.75}"#
        let value = try JSONValue(parsing: text)
        #expect(value.encoded() == text)
        #expect(value["a"]?[1]?["b"]?.isNull == true)
        #expect(value["f"]?.number == -12.75)
        #expect(value["c"]?.string == "d")
        #expect(value["a"]?[0]?.int == 1)
        #expect(value["missing"] == nil)
    }

    @Test(arguments: [
        "", "[", "[1,]", "{\"a\":1,}", "01", "1.", "-", "tru", "\"unterminated", "\"\\x\"", "\"\\ud800\"",
        "[1] 2", "{1:2}", "\"tab\there\"", "nul", "+1", ".5",
    ])
    func rejectsMalformedJSON(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: text) }
    }

    @Test func capsNestingDepth() throws {
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(try JSONValue(parsing: fine).array != nil)
    }

    @Test func bridgesCodable() throws {
        struct Message: Codable, Equatable {
            var text: String
            var count: Int
        }
        let value = try JSONValue(encoding: Message(text: "hi", count: 3))
        #expect(value == ["text": "hi", "count": 3])
        #expect(try value.decode(Message.self) == Message(text: "hi", count: 3))
    }
}
