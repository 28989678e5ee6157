import Foundation

/// The fields of a JSON object body, read with the seed's leniency: ids may come as
/// strings or whole numbers (apps send both), blank strings count as missing.
struct JSONFields {
    let object: [String: Any]

    /// Parses a body that must be one JSON object.
    init(body: Data) throws(APIError) {
        guard !body.isEmpty else { throw .badRequest("the request body is empty; send a JSON object") }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: body, options: [])
        } catch {
            throw .badRequest("the body is not valid JSON")
        }
        guard let object = parsed as? [String: Any] else { throw .badRequest("the body must be a JSON object") }
        self.object = object
    }

    init(object: [String: Any]) {
        self.object = object
    }

    /// A text or id field; nil when absent, null or blank.
    func string(_ key: String) throws(APIError) -> String? {
        guard let value = object[key] else { return nil }
        // Strings first: most fields are strings, and on Linux every failed cast of a
        // string to NSNumber or NSNull costs a trip through the bridging machinery.
        if let text = value as? String {
            // PostgreSQL cannot store a NUL in text (SQLite would): refused on both, so the
            // same request gets the same answer, and never a 503 to be retried for ever.
            if text.utf8.contains(0) { throw .badRequest("\(key) must not contain NUL characters") }
            // Stops at the first visible character; Foundation's trimming copies the string.
            return text.unicodeScalars.allSatisfy(\.properties.isWhitespace) ? nil : text
        }
        if value is NSNull { return nil }
        // true/false arrive as Bool or as a char-typed NSNumber, depending on the platform.
        if type(of: value) == Bool.self || (value as? NSNumber).map({ String(cString: $0.objCType) == "c" }) == true {
            throw .badRequest("\(key) must be a string or a whole number, not true or false")
        }
        if let number = value as? NSNumber {
            let double = number.doubleValue
            guard double == double.rounded(), abs(double) < 1e15 else { throw .badRequest("\(key) must be a string or a whole number") }
            return String(number.int64Value)
        }
        throw .badRequest("\(key) must be a string")
    }

    func required(_ key: String) throws(APIError) -> String {
        guard let value = try string(key) else { throw .badRequest("\(key) is required") }
        return value
    }
}

/// Limits on what callers send, checked before any work is done.
enum InputLimits {
    static let maxUserIDLength = 128
    static let maxNameLength = 256
    /// Longer messages are still accepted: Telegram forwarding splits them.
    static let maxMessageLength = 64 * 1024
    static let maxJSONBody = 1024 * 1024

    /// Lengths are counted in UTF-16 units, as Telegram counts them: a "character" can
    /// carry any number of combining marks.
    static func length(_ text: String) -> Int { text.utf16.count }

    static func userID(_ id: String) throws(APIError) -> String {
        guard length(id) <= maxUserIDLength else { throw .badRequest("user_id is longer than \(maxUserIDLength) characters") }
        guard !id.contains(where: { $0.isNewline || $0 == "/" || $0 == "\u{0}" }) else {
            throw .badRequest("user_id must not contain slashes, line breaks or NUL characters")
        }
        return id
    }
}
