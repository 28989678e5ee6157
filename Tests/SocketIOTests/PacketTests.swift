import Testing

@testable import SocketIO
import TestSupport

@Suite("Engine.IO packets and polling payloads", .machineShare)
struct EnginePacketTests {
    @Test func decodesEveryTextType() throws {
        #expect(try EnginePacket(text: "0{}") == .open("{}"))
        #expect(try EnginePacket(text: "1") == .close)
        #expect(try EnginePacket(text: "2") == .ping(""))
        #expect(try EnginePacket(text: "2probe") == .ping("probe"))
        #expect(try EnginePacket(text: "3probe") == .pong("probe"))
        #expect(try EnginePacket(text: "4héllo") == .message("héllo"))
        #expect(try EnginePacket(text: "5") == .upgrade)
        #expect(try EnginePacket(text: "6") == .noop)
        #expect(try EnginePacket(text: "bAQID") == .binaryMessage([1, 2, 3]))
    }

    @Test(arguments: ["", "7", "x", "é", "b!!!"])
    func rejectsMalformedPackets(_ text: String) {
        #expect(throws: EnginePacket.DecodingError.self) { try EnginePacket(text: text) }
    }

    @Test func encodesFrames() {
        #expect(EnginePacket.pong("probe").frame == .text("3probe"))
        #expect(EnginePacket.message("40").frame == .text("440"))
        #expect(EnginePacket.binaryMessage([9]).frame == .binary([9]))
    }

    @Test func pollingPayloadUsesRecordSeparatorAndBase64() throws {
        let frames: [EngineFrame] = [.text("40"), .binary([1, 2, 3]), .text("2")]
        let body = PollingPayload.encode(frames)
        #expect(body == "40\u{1e}bAQID\u{1e}2")
        #expect(try PollingPayload.decode(body) == [.message("0"), .binaryMessage([1, 2, 3]), .ping("")])
        #expect(try PollingPayload.decode("3") == [.pong("")])
        #expect(throws: EnginePacket.DecodingError.self) { try PollingPayload.decode("3\u{1e}\u{1e}2") }
    }
}

@Suite("Socket.IO packets", .machineShare)
struct SocketPacketTests {
    @Test func decodesConnectPackets() throws {
        #expect(try SocketPacket.decode("0") == SocketPacket(kind: .connect))
        #expect(try SocketPacket.decode(#"0{"token":"123"}"#) == SocketPacket(kind: .connect, payload: ["token": "123"]))
        #expect(try SocketPacket.decode("0/admin,") == SocketPacket(kind: .connect, namespace: "/admin"))
        #expect(try SocketPacket.decode("0/admin") == SocketPacket(kind: .connect, namespace: "/admin"))
        #expect(
            try SocketPacket.decode(#"0/admin,{"a":1}"#) == SocketPacket(kind: .connect, namespace: "/admin", payload: ["a": 1])
        )
    }

    @Test func decodesEventsAndAcks() throws {
        #expect(
            try SocketPacket.decode(#"2["message",1,"2",{"3":[true]}]"#)
                == SocketPacket(kind: .event, payload: ["message", 1, "2", ["3": [true]]])
        )
        #expect(
            try SocketPacket.decode(#"2/chat,456["ev"]"#) == SocketPacket(kind: .event, namespace: "/chat", ackID: 456, payload: ["ev"])
        )
        #expect(try SocketPacket.decode("3456[]") == SocketPacket(kind: .ack, ackID: 456, payload: []))
        #expect(try SocketPacket.decode("1/chat,") == SocketPacket(kind: .disconnect, namespace: "/chat"))
    }

    @Test(arguments: [
        "", "9", "x", "abc",  // unknown type
        "2{}", "2[]", "2[1]", #"2abc["message-with-ack",1]"#, #"2["connect"]"#,  // bad event payloads
        "3[]", "3456{}",  // ack without id / not an array
        "0[1]", "0\"x\"",  // connect payload must be an object
        #"1{"a":1}"#,  // disconnect has no payload
        #"4{"message":"x"}"#,  // clients never send CONNECT_ERROR
        #"5-["ev"]"#, #"51["ev"]"#,  // binary without an attachment count
        #"2["ev",]"#, "2999999999999999999[\"ev\"]",
    ])
    func rejectsMalformedPackets(_ text: String) {
        #expect(throws: SocketPacket.DecodingError.self) { try SocketPacket.decode(text) }
    }

    @Test func encodesEventsWithNamespaceAndAckID() {
        #expect(SocketPacket(kind: .event, payload: ["auth", [:]]).encode() == [.text(#"42["auth",{}]"#)])
        #expect(
            SocketPacket(kind: .event, namespace: "/custom", payload: ["auth", ["token": "abc"]]).encode()
                == [.text(#"42/custom,["auth",{"token":"abc"}]"#)]
        )
        #expect(SocketPacket(kind: .ack, ackID: 456, payload: [1, "2"]).encode() == [.text(#"43456[1,"2"]"#)])
        #expect(
            SocketPacket(kind: .connectError, namespace: "/random", payload: ["message": "Invalid namespace"]).encode()
                == [.text(#"44/random,{"message":"Invalid namespace"}"#)]
        )
        #expect(SocketPacket(kind: .disconnect, namespace: "/chat").encode() == [.text("41/chat,")])
    }

    @Test func binaryValuesBecomeAttachments() {
        let packet = SocketPacket(kind: .ack, ackID: 789, payload: [.binary([1, 2, 3]), ["x": .binary([4])]])
        #expect(
            packet.encode() == [
                .text(#"462-789[{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}]"#),
                .binary([1, 2, 3]),
                .binary([4]),
            ]
        )
    }

    @Test func binaryRoundTrip() throws {
        let decoded = try SocketPacket.decode(#"52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        #expect(decoded.kind == .binaryEvent)
        #expect(decoded.attachmentCount == 2)
        let resolved = try decoded.resolvingAttachments([[1, 2, 3], [4, 5, 6]])
        #expect(resolved.kind == .event)
        #expect(resolved.payload == ["message", .binary([1, 2, 3]), .binary([4, 5, 6])])
        #expect(
            SocketPacket(kind: .event, payload: ["message-back", .binary([1, 2, 3]), .binary([4, 5, 6])]).encode() == [
                .text(#"452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#),
                .binary([1, 2, 3]), .binary([4, 5, 6]),
            ]
        )
    }

    @Test func rejectsPlaceholdersOutOfRange() throws {
        let decoded = try SocketPacket.decode(#"51-["m",{"_placeholder":true,"num":3}]"#)
        #expect(throws: SocketPacket.DecodingError.self) { try decoded.resolvingAttachments([[1]]) }
    }
}
