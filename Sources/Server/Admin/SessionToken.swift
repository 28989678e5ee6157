import Crypto
import Foundation

/// Session ids and CSRF tokens: 32 random bytes, base64url without padding (43 characters).
/// Only the SHA-256 of a session id is stored, so the database holds nothing a browser
/// could present.
enum SessionToken {
    static let length = 43

    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Whether a cookie value could be one of ours (so junk is not even hashed and looked up).
    static func isWellFormed(_ value: String) -> Bool {
        value.utf8.count == length
            && value.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F
            }
    }

    /// The lowercase hex SHA-256 of `value`: what `staff_sessions.id_hash` holds.
    static func hash(_ value: String) -> String {
        SHA256.hash(data: Data(value.utf8)).hexadecimal
    }
}
