import Foundation

/// Where the next page of the chat list starts: the sort key and id of the last chat shown.
///
/// Keyset paging: the next page starts right after that chat on the sort's index, so a deep
/// page costs what the first does (an offset would skip every chat before it). Opaque to
/// clients: `encoded` is a URL-safe string, read back by `init(encoded:)`.
public struct InboxCursor: Sendable, Equatable {
    public var sort: InboxSort
    /// `updated_at` for newest activity, `waiting_since` for longest waiting (seconds since 1970).
    public private(set) var key: Double
    /// The last chat's id, which orders chats of the same key.
    public private(set) var id: Int64

    init(sort: InboxSort, key: Double, id: Int64) {
        self.sort = sort
        self.key = key
        self.id = id
    }

    /// A URL-safe string (letters, digits, `-`, `.`): the sort, the key's exact bits and the id.
    public var encoded: String {
        "\(Self.code(of: sort)).\(String(key.bitPattern, radix: 16)).\(String(id, radix: 16))"
    }

    /// Reads a cursor made by `encoded`; throws `InboxCursorError` for anything else.
    public init(encoded: String) throws {
        let parts = encoded.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let sort = Self.sort(code: parts[0]),
            parts[1].count <= 16, let bits = UInt64(parts[1], radix: 16),
            parts[2].count <= 16, let id = Int64(parts[2], radix: 16), id > 0
        else { throw InboxCursorError(text: encoded) }
        let key = Double(bitPattern: bits)
        guard key.isFinite else { throw InboxCursorError(text: encoded) }
        self.init(sort: sort, key: key, id: id)
    }

    private static func code(of sort: InboxSort) -> String {
        switch sort {
        case .newestActivity: "n"
        case .longestWaiting: "w"
        }
    }

    private static func sort(code: Substring) -> InboxSort? {
        switch code {
        case "n": .newestActivity
        case "w": .longestWaiting
        default: nil
        }
    }
}

/// A cursor that is not one the inbox made (or was made for another sort).
public struct InboxCursorError: Error, Equatable, CustomStringConvertible {
    public var text: String
    public var expectedSort: InboxSort?

    public init(text: String, expectedSort: InboxSort? = nil) {
        self.text = text
        self.expectedSort = expectedSort
    }

    public var description: String {
        if let expectedSort { return "the page cursor belongs to another sort than \(expectedSort.rawValue)" }
        let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
        return "not a page cursor: '\(shown)'"
    }
}
