import Foundation

/// A JSON value as carried by Socket.IO events, acks and handshake payloads.
///
/// Socket.IO payloads are untyped JSON plus binary attachments, so arguments are exposed as this
/// enum rather than as `Codable` models. Use ``decode(_:)`` / ``init(encoding:)`` to convert
/// to and from your own types.
///
/// Objects are unordered (`[String: JSONValue]`); when serialized their keys are written in
/// sorted order so that the same value always produces the same bytes.
public enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` / `false`.
    case bool(Bool)
    /// Any JSON number (JavaScript numbers are doubles too).
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object.
    case object([String: JSONValue])
    /// A Socket.IO binary attachment. On the wire it travels as a separate binary frame
    /// (WebSocket) or a base64 `b` packet (polling) and is referenced by a placeholder.
    /// Inside ``encoded()`` / `Codable` it is written as a base64 string.
    case binary([UInt8])
}

// MARK: - Accessors

extension JSONValue {
    /// The string, if this is `.string`.
    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The number, if this is `.number`.
    public var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The number as an `Int`, if this is a `.number` holding an integer that fits.
    public var int: Int? {
        guard case .number(let value) = self, value.rounded() == value,
            value >= -9_007_199_254_740_992, value <= 9_007_199_254_740_992
        else { return nil }
        return Int(value)
    }

    /// The boolean, if this is `.bool`.
    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The elements, if this is `.array`.
    public var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The members, if this is `.object`.
    public var object: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The bytes, if this is `.binary`.
    public var binary: [UInt8]? {
        if case .binary(let value) = self { return value }
        return nil
    }

    /// `true` for `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Member lookup; `nil` when this is not an object or the key is absent.
    public subscript(key: String) -> JSONValue? {
        object?[key]
    }

    /// Element lookup; `nil` when this is not an array or the index is out of range.
    public subscript(index: Int) -> JSONValue? {
        guard let array, array.indices.contains(index) else { return nil }
        return array[index]
    }
}

// MARK: - Serialization

extension JSONValue {
    /// Compact JSON text for this value (sorted object keys, binary as base64 strings).
    public func encoded() -> String {
        var writer = JSONWriter()
        writer.write(self)
        return writer.result
    }

    /// Parses JSON text. Throws ``JSONParseError`` on malformed input or nesting deeper than 128.
    public init(parsing text: String) throws {
        self = try JSONParser.parse(text)
    }

    /// Converts any `Encodable` value through `JSONEncoder`.
    public init(encoding value: some Encodable) throws {
        let data = try JSONEncoder().encode(value)
        self = try JSONParser.parse(String(decoding: data, as: UTF8.self))
    }

    /// Decodes this value into a `Decodable` type through `JSONDecoder`.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(encoded().utf8))
    }
}

extension JSONValue: CustomStringConvertible {
    public var description: String { encoded() }
}

// MARK: - Codable

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Not a JSON value")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .binary(let value): try container.encode(Data(value).base64EncodedString())
        }
    }
}

// MARK: - Literals

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
