import Foundation

/// Parameters of a header value: `boundary` of a Content-Type, `name` and `filename` of a
/// part's Content-Disposition.
enum HeaderParameters {
    /// A `name=value` or `name="value"` parameter, or nil when absent or empty.
    static func value(of name: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value.isEmpty ? nil : value
        }
        return nil
    }
}
