import Foundation

/// One test under `if:`. Each carries its location so a trace can point at it.
public struct Condition: Sendable {
    public indirect enum Kind: Sendable {
        case autoMode(Bool)
        /// Holds when the message's media is one of these; `any` means any media at all.
        case media([MediaKind], any: Bool)
        case source([ChatSource])
        /// Case-insensitive: holds when the text contains one of these.
        case textContains([String])
        case textMatches(RegexBox)
        case userNameKnown(Bool)
        case time(TimeWindow)
        case firstMessage(Bool)
        case variant(String)
        case any([Condition])
        case all([Condition])
        case not(Condition)
    }

    public var kind: Kind
    public var location: SourceLocation

    public init(_ kind: Kind, at location: SourceLocation) {
        self.kind = kind
        self.location = location
    }
}

/// A compiled regular expression with its source, shareable across tasks.
public final class RegexBox: @unchecked Sendable {
    // NSRegularExpression is immutable and documented thread-safe for matching.
    public let pattern: String
    let regex: NSRegularExpression

    public init(pattern: String) throws {
        self.pattern = pattern
        self.regex = try NSRegularExpression(pattern: pattern)
    }

    public func matches(_ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
