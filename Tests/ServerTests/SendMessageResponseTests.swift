import Foundation
import NIOCore
import Testing

@testable import Server
import TestSupport

/// The `send_message` answer is written into a fixed frame: it must still be the seed's
/// JSON, field for field, whatever the photo URL holds.
@Suite("send_message response", .machineShare)
struct SendMessageResponseTests {
    private func object(_ response: SendMessageResponse) throws -> [String: Any] {
        #expect(response.response.headers[.contentType] == "application/json; charset=utf-8")
        return try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
    }

    @Test func withoutPhotosPhotoURLIsNull() throws {
        let json = try object(SendMessageResponse(messageID: 1234567890123, photoURL: nil, photoCount: 0))
        #expect(json["success"] as? Bool == true)
        #expect((json["message_id"] as? NSNumber)?.int64Value == 1234567890123)
        #expect(json["photo_url"] is NSNull)
        #expect(json["photo_count"] as? Int == 0)
        #expect(json.count == 4)
    }

    @Test func aPhotoURLIsEscapedAsJSON() throws {
        let url = #"http://example.com/uploads/a"b\c/Привет.jpg"#
        let json = try object(SendMessageResponse(messageID: nil, photoURL: url, photoCount: 2))
        #expect(json["photo_url"] as? String == url)
        #expect(json["message_id"] is NSNull)
        #expect(json["photo_count"] as? Int == 2)
        #expect(json.count == 4)
    }
}
