import NIOCore

/// Watches a multipart body for its closing delimiter (`\r\n--boundary--`). MultipartKit's
/// parser reads past it into the epilogue without a word, and says nothing either when a
/// body just stops: without this, a body cut short lost its last fields silently and was
/// refused as if the app had sent no message.
struct ClosingDelimiterWatch {
    private let delimiter: [UInt8]
    /// The end of the bytes read so far, for a delimiter split across two chunks.
    private var tail: [UInt8] = []
    /// Whether the closing delimiter has gone by.
    private(set) var seen = false

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)--".utf8)
    }

    /// Takes the next chunk of the body. `search` is false while a part's data is arriving
    /// (the parser has not just ended a part), where the delimiter cannot be: a photo's
    /// megabytes are not searched, only the chunk a part ends in and those after it.
    mutating func read(_ chunk: ByteBuffer, search: Bool) {
        guard !seen else { return }
        let bytes = chunk.readableBytesView
        if search {
            seen = Self.contains(tail + bytes, delimiter)
        }
        let keep = delimiter.count - 1
        tail = bytes.count >= keep ? Array(bytes.suffix(keep)) : Array((tail + bytes).suffix(keep))
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return false }
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == first && haystack[index..<index + needle.count].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}
