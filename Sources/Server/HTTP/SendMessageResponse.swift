import Foundation
import Hummingbird
import NIOCore

/// The answer to `POST /send_message`: `{"success": true, "message_id", "photo_url" (null without photos), "photo_count"}`.
///
/// Written into a fixed frame rather than through `JSONEncoder`: the encoder's set-up
/// cost 4% of a `send_message`'s CPU for four fields, of which only the photo URL is
/// text (that one is still encoded by `JSONEncoder`, which escapes it).
struct SendMessageResponse {
    var messageID: Int64?
    var photoURL: String?
    var photoCount: Int

    var response: Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
    }

    /// The JSON object.
    var body: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(96 + (photoURL?.utf8.count ?? 0))
        buffer.writeString(#"{"success":true,"message_id":"#)
        buffer.writeString(messageID.map(String.init) ?? "null")
        buffer.writeString(#","photo_url":"#)
        if let photoURL, let encoded = try? Self.urlEncoder.encode(photoURL) {
            buffer.writeBytes(encoded)
        } else {
            buffer.writeString("null")
        }
        buffer.writeString(#","photo_count":"#)
        buffer.writeString(String(photoCount))
        buffer.writeString("}")
        return buffer
    }

    private static let urlEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return encoder
    }()
}
