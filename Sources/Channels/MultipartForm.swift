import Foundation
import MultipartKit
import NIOCore
import NIOHTTP1

/// Builds the parts of a `multipart/form-data` body for MultipartKit to serialize.
struct MultipartForm {
    var parts: [MultipartPart] = []

    mutating func field(_ name: String, _ value: String) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Disposition", value: "form-data; name=\"\(Self.quoted(name))\"")
        parts.append(MultipartPart(headers: headers, body: value))
    }

    mutating func file(_ name: String, _ upload: TelegramUpload) {
        file(name, data: upload.data, filename: upload.filename, contentType: upload.contentType)
    }

    mutating func file(_ name: String, data: Data, filename: String, contentType: String) {
        var headers = HTTPHeaders()
        headers.add(
            name: "Content-Disposition",
            value: "form-data; name=\"\(Self.quoted(name))\"; filename=\"\(Self.quoted(filename))\""
        )
        headers.add(name: "Content-Type", value: contentType)
        parts.append(MultipartPart(headers: headers, body: data))
    }

    /// Header parameter values cannot carry quotes or line breaks.
    private static func quoted(_ value: String) -> String {
        String(value.map { $0 == "\"" ? "'" : ($0 == "\r" || $0 == "\n" ? " " : $0) })
    }

    /// Serializes the parts with a fresh boundary; returns the body and its content type.
    func encoded() throws -> (body: ByteBuffer, contentType: String) {
        let boundary = "replyflow-\(UUID().uuidString)"
        var buffer = ByteBuffer()
        try MultipartSerializer().serialize(parts: parts, boundary: boundary, into: &buffer)
        return (buffer, "multipart/form-data; boundary=\(boundary)")
    }
}
