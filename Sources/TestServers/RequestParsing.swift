import Foundation
import MultipartKit
import NIOCore

/// A file received in a `multipart/form-data` request.
public struct UploadedFile: Sendable, Equatable {
    /// The form field name.
    public var fieldName: String
    /// The `filename` given in `Content-Disposition`, if any.
    public var filename: String?
    /// The part's `Content-Type`, if any.
    public var contentType: String?
    /// The file's bytes.
    public var data: Data
}

/// How a request body was encoded.
public enum RequestEncoding: String, Sendable, Equatable {
    /// No parameters at all.
    case none
    /// `application/json` body.
    case json
    /// `multipart/form-data` body.
    case multipart
    /// `application/x-www-form-urlencoded` body.
    case urlencoded
    /// Query string only.
    case query
}

/// A request body decoded into named parameters and uploaded files.
struct ParsedBody {
    var encoding: RequestEncoding = .none
    var params: [String: FakeJSON] = [:]
    var files: [String: UploadedFile] = [:]
}

enum BodyParseError: Error, CustomStringConvertible {
    case invalid(String)
    var description: String {
        switch self {
        case .invalid(let why): return why
        }
    }
}

enum RequestParsing {
    /// Decodes a body by its content type; query parameters are merged underneath body parameters.
    static func parse(contentType: String?, body: ByteBuffer, query: [String: String]) throws -> ParsedBody {
        var parsed = ParsedBody()
        for (key, value) in query {
            parsed.params[key] = .string(value)
            parsed.encoding = .query
        }
        guard body.readableBytes > 0 else { return parsed }
        let (mediaType, parameters) = headerValueAndParameters(contentType ?? "")
        switch mediaType.lowercased() {
        case "application/json":
            parsed.encoding = .json
            let value: FakeJSON
            do {
                value = try FakeJSON.parse(Data(body.readableBytesView))
            } catch {
                throw BodyParseError.invalid("request body is not valid JSON")
            }
            guard case .object(let object) = value else {
                throw BodyParseError.invalid("JSON request body must be an object")
            }
            parsed.params.merge(object) { _, new in new }
        case "application/x-www-form-urlencoded":
            parsed.encoding = .urlencoded
            for (key, value) in parseURLEncoded(String(decoding: body.readableBytesView, as: UTF8.self)) {
                parsed.params[key] = .string(value)
            }
        case "multipart/form-data":
            parsed.encoding = .multipart
            guard let boundary = parameters["boundary"], !boundary.isEmpty else {
                throw BodyParseError.invalid("multipart/form-data without boundary")
            }
            for part in try parseMultipart(body, boundary: boundary) {
                if let filename = part.filename {
                    parsed.files[part.name] = UploadedFile(
                        fieldName: part.name, filename: filename, contentType: part.contentType, data: part.data
                    )
                } else {
                    parsed.params[part.name] = .string(String(decoding: part.data, as: UTF8.self))
                }
            }
        default:
            throw BodyParseError.invalid("unsupported Content-Type \(contentType ?? "(none)")")
        }
        return parsed
    }

    struct Part {
        var name: String
        var filename: String?
        var contentType: String?
        var data: Data
    }

    /// Splits a multipart body into parts with MultipartKit's parser.
    static func parseMultipart(_ body: ByteBuffer, boundary: String) throws -> [Part] {
        final class Collector {
            var parts: [Part] = []
            var headers: [(String, String)] = []
            var data = Data()
        }
        let collector = Collector()
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in collector.headers.append((name, value)) }
        parser.onBody = { buffer in collector.data.append(contentsOf: buffer.readableBytesView) }
        parser.onPartComplete = {
            var name: String?
            var filename: String?
            var contentType: String?
            for (header, value) in collector.headers {
                switch header.lowercased() {
                case "content-disposition":
                    let (_, parameters) = headerValueAndParameters(value)
                    name = parameters["name"]
                    filename = parameters["filename"]
                case "content-type":
                    contentType = value
                default:
                    break
                }
            }
            collector.parts.append(Part(name: name ?? "", filename: filename, contentType: contentType, data: collector.data))
            collector.headers = []
            collector.data = Data()
        }
        do {
            try parser.execute(body)
        } catch {
            throw BodyParseError.invalid("malformed multipart body")
        }
        if collector.parts.isEmpty {
            throw BodyParseError.invalid("multipart body has no parts (wrong boundary?)")
        }
        for part in collector.parts where part.name.isEmpty {
            _ = part
            throw BodyParseError.invalid("multipart part without a name in Content-Disposition")
        }
        return collector.parts
    }

    /// Splits `value; key=val; key2="quoted; val"` into the value and its parameters (keys lower-cased).
    static func headerValueAndParameters(_ header: String) -> (String, [String: String]) {
        var pieces: [String] = []
        var current = ""
        var inQuotes = false
        var escaped = false
        for character in header {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" && inQuotes {
                escaped = true
            } else if character == "\"" {
                inQuotes.toggle()
                current.append(character)
            } else if character == ";" && !inQuotes {
                pieces.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        pieces.append(current)
        let value = pieces.first?.trimmingCharacters(in: .whitespaces) ?? ""
        var parameters: [String: String] = [:]
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            let key = piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var raw = piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if raw.count >= 2, raw.hasPrefix("\""), raw.hasSuffix("\"") {
                raw = String(raw.dropFirst().dropLast())
            }
            parameters[key] = raw
        }
        return (value, parameters)
    }

    /// Decodes `a=1&b=x%20y` (with `+` as space).
    static func parseURLEncoded(_ text: String) -> [(String, String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }
}
