import Foundation
import Hummingbird

/// An error the caller can act on, rendered as the seed's `{"success": false, "error": "..."}`
/// with a 4xx status. Anything else that escapes a handler becomes a logged 500.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    /// Seconds to wait, for 429 and 503.
    public var retryAfter: Int?
    /// More headers for the answer (`Content-Range` on a 416).
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ message: String, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.retryAfter = retryAfter
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        headers.append(contentsOf: self.headers)
        let response = Response(status: status, headers: headers, body: .init(byteBuffer: JSONBody.encode(["success": false, "error": message])))
        // An error escapes the router's HEAD (which drops a GET's body): drop it here.
        return request.method == .head ? response.createHeadResponse() : response
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, message) }
    /// A photo whose bytes are not an image the server accepts.
    static var unsupportedPhoto: APIError { APIError(.unsupportedMediaType, "photo must be an image (JPEG, PNG, GIF, WebP or HEIC)") }
}

/// JSON bodies through Foundation's serializer: the seed's responses are small
/// dictionaries, some with fields that are null.
enum JSONBody {
    static func encode(_ object: [String: Any?]) -> ByteBuffer {
        let cleaned = object.mapValues { $0 ?? NSNull() }
        let data = (try? JSONSerialization.data(withJSONObject: cleaned, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8)
        return ByteBuffer(bytes: data)
    }

    /// Hot paths (history, send_message) use Codable structs: on Linux, serializing
    /// `[String: Any]` spends most of its time in dynamic casts.
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func response(_ object: [String: Any?], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: encode(object)))
    }
}
