import Foundation

/// A query string read the way the seed's clients write it (`application/x-www-form-urlencoded`):
/// `+` is a space and `%2B` a plus, as Dart's `Uri`, Java's `URLEncoder`, Python's HTTP
/// clients and the seed's Flask server all have it. Hummingbird's `queryParameters`
/// decodes percent escapes only, so `user_name=Anna+Maria` came out as "Anna+Maria".
struct FormQuery {
    private let fields: [(name: String, value: String)]

    init(_ query: String?) {
        guard let query, !query.isEmpty else {
            fields = []
            return
        }
        fields = query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            guard let equals = pair.firstIndex(of: "=") else { return (Self.decode(pair), "") }
            return (Self.decode(pair[..<equals]), Self.decode(pair[pair.index(after: equals)...]))
        }
    }

    /// The first value given for `name` (as Flask's `request.args.get`), nil when absent.
    func first(_ name: String) -> String? {
        fields.first { $0.name == name }?.value
    }

    /// `+` to a space first, then percent escapes, so an encoded plus stays a plus. A
    /// malformed escape is kept as it came rather than refusing the request, as Flask did.
    static func decode(_ raw: Substring) -> String {
        let spaced = raw.contains("+") ? raw.replacingOccurrences(of: "+", with: " ") : String(raw)
        guard spaced.contains("%") else { return spaced }
        return spaced.removingPercentEncoding ?? spaced
    }
}
