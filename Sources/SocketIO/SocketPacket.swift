/// One Socket.IO v5 packet: `<type>[<attachments>-][<nsp>,][<ack id>][<JSON>]`, carried in
/// an Engine.IO message; binary attachments follow as separate Engine.IO binary messages.
struct SocketPacket: Sendable, Equatable {
    enum Kind: UInt8, Sendable {
        case connect = 0
        case disconnect = 1
        case event = 2
        case ack = 3
        case connectError = 4
        case binaryEvent = 5
        case binaryAck = 6
    }

    /// Why a packet from a client was rejected; any of these closes the session.
    enum DecodingError: Error, Equatable {
        case unknownType
        case invalidAttachmentCount
        case invalidAckID
        case invalidJSON(JSONParseError)
        case invalidPayload(Kind)
        case invalidPlaceholder
        case unexpectedBinary
        case unexpectedText
    }

    /// Event names a client may not send (socket.io `RESERVED_EVENTS`).
    static let reservedEvents: Set<String> = [
        "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
    ]

    var kind: Kind
    var namespace: String
    var ackID: Int?
    var payload: JSONValue?
    /// Number of binary attachments announced by a binary packet (decoding only).
    var attachmentCount: Int

    init(kind: Kind, namespace: String = "/", ackID: Int? = nil, payload: JSONValue? = nil, attachmentCount: Int = 0) {
        self.kind = kind
        self.namespace = namespace
        self.ackID = ackID
        self.payload = payload
        self.attachmentCount = attachmentCount
    }

    // MARK: Decoding

    /// Decodes the text of an Engine.IO message and validates the payload shape for its type.
    /// Placeholders of a binary packet stay in the payload until ``resolvingAttachments(_:)``.
    static func decode(_ text: String) throws(DecodingError) -> SocketPacket {
        var text = text
        let result: Result<SocketPacket, DecodingError> = text.withUTF8 { bytes in
            do throws(DecodingError) {
                return .success(try decode(bytes))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private static func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws(DecodingError) -> SocketPacket {
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        guard let first = bytes.first, isDigit(first), let kind = Kind(rawValue: first - UInt8(ascii: "0")) else {
            throw .unknownType
        }
        var index = 1
        var packet = SocketPacket(kind: kind)

        if kind == .binaryEvent || kind == .binaryAck {
            var count = 0
            let start = index
            while index < bytes.count, isDigit(bytes[index]), index - start < 6 {
                count = count * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
            guard index > start, index < bytes.count, bytes[index] == UInt8(ascii: "-") else {
                throw .invalidAttachmentCount
            }
            index += 1
            packet.attachmentCount = count
        }

        if index < bytes.count, bytes[index] == UInt8(ascii: "/") {
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: ",") { index += 1 }
            packet.namespace = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if index < bytes.count { index += 1 }  // the comma
        }

        if index < bytes.count, isDigit(bytes[index]) {
            var id = 0
            let start = index
            while index < bytes.count, isDigit(bytes[index]) {
                // Ack ids are 32-bit counters in practice; more than 15 digits is garbage.
                guard index - start < 15 else { throw .invalidAckID }
                id = id * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
            packet.ackID = id
        }

        if index < bytes.count {
            do {
                packet.payload = try JSONParser.parse(bytes, from: index)
            } catch let error as JSONParseError {
                throw .invalidJSON(error)
            } catch {
                throw .invalidJSON(JSONParseError(offset: index, reason: "\(error)"))
            }
        }

        guard packet.hasValidPayload else { throw .invalidPayload(kind) }
        return packet
    }

    /// The payload rules of the reference parser (`isPayloadValid`).
    private var hasValidPayload: Bool {
        switch kind {
        case .connect:
            guard let payload else { return true }
            return payload.object != nil
        case .disconnect:
            return payload == nil
        case .event, .binaryEvent:
            guard let elements = payload?.array, let name = elements.first?.string else { return false }
            return !Self.reservedEvents.contains(name)
        case .ack, .binaryAck:
            return ackID != nil && payload?.array != nil
        case .connectError:
            // Only servers send CONNECT_ERROR.
            return false
        }
    }

    /// Replaces `{"_placeholder":true,"num":n}` objects with the received attachments.
    func resolvingAttachments(_ attachments: [[UInt8]]) throws(DecodingError) -> SocketPacket {
        guard let payload else { return self }
        var copy = self
        copy.payload = try Self.resolve(payload, attachments)
        copy.attachmentCount = 0
        copy.kind = kind == .binaryAck ? .ack : .event
        return copy
    }

    private static func resolve(_ value: JSONValue, _ attachments: [[UInt8]]) throws(DecodingError) -> JSONValue {
        switch value {
        case .array(let elements):
            var resolved: [JSONValue] = []
            resolved.reserveCapacity(elements.count)
            for element in elements { resolved.append(try resolve(element, attachments)) }
            return .array(resolved)
        case .object(let members):
            if members["_placeholder"] == .bool(true) {
                guard let number = members["num"]?.int, attachments.indices.contains(number) else {
                    throw .invalidPlaceholder
                }
                return .binary(attachments[number])
            }
            var resolved: [String: JSONValue] = [:]
            for (key, member) in members { resolved[key] = try resolve(member, attachments) }
            return .object(resolved)
        default:
            return value
        }
    }

    // MARK: Encoding

    /// Encodes the packet as Engine.IO frames: one text message (`4…`) followed by one binary
    /// message per `.binary` value found in the payload (which turns EVENT/ACK into
    /// BINARY_EVENT/BINARY_ACK).
    func encode() -> [EngineFrame] {
        var writer = PlaceholderJSONWriter()
        if let payload { writer.write(payload) }
        var kind = self.kind
        if !writer.attachments.isEmpty {
            if kind == .event { kind = .binaryEvent }
            if kind == .ack { kind = .binaryAck }
        }
        var text = "4"
        text += String(kind.rawValue)
        if kind == .binaryEvent || kind == .binaryAck {
            text += String(writer.attachments.count) + "-"
        }
        if namespace != "/" {
            text += namespace + ","
        }
        if let ackID {
            text += String(ackID)
        }
        text += writer.json
        var frames: [EngineFrame] = [.text(text)]
        for attachment in writer.attachments { frames.append(.binary(attachment)) }
        return frames
    }
}

/// JSON writer that replaces binary values with Socket.IO placeholders and collects them.
private struct PlaceholderJSONWriter {
    var json = ""
    var attachments: [[UInt8]] = []

    mutating func write(_ value: JSONValue) {
        guard value.containsBinary else {
            json += value.encoded()
            return
        }
        switch value {
        case .binary(let bytes):
            json += "{\"_placeholder\":true,\"num\":\(attachments.count)}"
            attachments.append(bytes)
        case .array(let elements):
            json += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { json += "," }
                write(element)
            }
            json += "]"
        case .object(let members):
            json += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { json += "," }
                json += JSONValue.string(key).encoded() + ":"
                write(members[key] ?? .null)
            }
            json += "}"
        default:
            json += value.encoded()
        }
    }
}

extension JSONValue {
    /// Whether a `.binary` value occurs anywhere inside.
    var containsBinary: Bool {
        switch self {
        case .binary: true
        case .array(let elements): elements.contains { $0.containsBinary }
        case .object(let members): members.values.contains { $0.containsBinary }
        default: false
        }
    }
}
