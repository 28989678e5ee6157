import Foundation

/// One Engine.IO v4 packet.
///
/// Text packets are `<type digit><data>`; a binary message is a raw WebSocket binary frame,
/// or `b<base64>` inside a polling payload.
enum EnginePacket: Sendable, Equatable {
    case open(String)
    case close
    case ping(String)
    case pong(String)
    case message(String)
    case binaryMessage([UInt8])
    case upgrade
    case noop

    /// Why a packet from a client was rejected. Any of these closes the session.
    enum DecodingError: Error, Equatable {
        case empty
        case unknownType(UInt8)
        case invalidBase64
    }

    /// Decodes a text packet (a WebSocket text frame, or one element of a polling payload).
    init(text: String) throws {
        guard let first = text.utf8.first else { throw DecodingError.empty }
        let data = String(decoding: text.utf8.dropFirst(), as: UTF8.self)
        switch first {
        case UInt8(ascii: "0"): self = .open(data)
        case UInt8(ascii: "1"): self = .close
        case UInt8(ascii: "2"): self = .ping(data)
        case UInt8(ascii: "3"): self = .pong(data)
        case UInt8(ascii: "4"): self = .message(data)
        case UInt8(ascii: "5"): self = .upgrade
        case UInt8(ascii: "6"): self = .noop
        case UInt8(ascii: "b"):
            guard let bytes = Data(base64Encoded: data) else { throw DecodingError.invalidBase64 }
            self = .binaryMessage([UInt8](bytes))
        default: throw DecodingError.unknownType(first)
        }
    }

    /// The frame to put on the wire.
    var frame: EngineFrame {
        switch self {
        case .open(let json): .text("0" + json)
        case .close: .text("1")
        case .ping(let data): .text("2" + data)
        case .pong(let data): .text("3" + data)
        case .message(let data): .text("4" + data)
        case .binaryMessage(let bytes): .binary(bytes)
        case .upgrade: .text("5")
        case .noop: .text("6")
        }
    }
}

/// An encoded Engine.IO packet ready for a transport.
///
/// Broadcasts build this once and hand the same value (the `String`/array storage is shared,
/// not copied) to every recipient's queue.
enum EngineFrame: Sendable, Equatable {
    /// A complete text packet including its type digit, e.g. `42["ev"]`.
    case text(String)
    /// A binary message (no type byte in Engine.IO v4).
    case binary([UInt8])

    /// Bytes this frame takes in a polling payload.
    var pollingSize: Int {
        switch self {
        case .text(let text): text.utf8.count
        case .binary(let bytes): 1 + (bytes.count + 2) / 3 * 4
        }
    }
}

/// Engine.IO v4 polling payloads: packets joined by the record separator `\u{1e}`.
enum PollingPayload {
    static let separator: Character = "\u{1e}"

    static func encode(_ frames: [EngineFrame]) -> String {
        var result = ""
        result.reserveCapacity(frames.reduce(0) { $0 + $1.pollingSize + 1 })
        for (index, frame) in frames.enumerated() {
            if index > 0 { result.append(separator) }
            switch frame {
            case .text(let text): result += text
            case .binary(let bytes): result += "b" + Data(bytes).base64EncodedString()
            }
        }
        return result
    }

    static func decode(_ body: String) throws -> [EnginePacket] {
        // Split on the byte: 0x1E never occurs inside a multi-byte UTF-8 sequence.
        try body.utf8.split(separator: 0x1E, omittingEmptySubsequences: false).map {
            try EnginePacket(text: String(decoding: $0, as: UTF8.self))
        }
    }
}
