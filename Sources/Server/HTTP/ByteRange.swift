/// What a `Range` header asks of a file of a known size (RFC 9110 §14): one range of
/// `bytes=first-last`, `bytes=first-` or `bytes=-suffix`, resolved against the size.
///
/// Written here rather than taken from Hummingbird's `FileMiddleware`, whose parser reads
/// `bytes=-500` as the first 501 bytes instead of the last 500 and has no 416.
enum ByteRange: Equatable {
    /// The whole file, 200: no `Range`, or one this server may ignore (another unit,
    /// several ranges, a header that is not a range at all).
    case whole
    /// These bytes (offsets, both included), 206.
    case part(ClosedRange<Int>)
    /// Nothing of the file is in the range (it starts past the end), 416.
    case unsatisfiable

    init(header: String?, size: Int) {
        guard let header else {
            self = .whole
            return
        }
        let text = header.trimmingCharacters(in: .whitespaces)
        guard text.lowercased().hasPrefix("bytes=") else {
            self = .whole
            return
        }
        let spec = text.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        // Several ranges would need a multipart/byteranges answer; sending the whole file
        // instead is allowed, and no client of this server asks for several.
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else {
            self = .whole
            return
        }
        let first = spec[..<dash]
        let last = spec[spec.index(after: dash)...]
        guard first.allSatisfy(\.isASCIIDigit), last.allSatisfy(\.isASCIIDigit), !(first.isEmpty && last.isEmpty) else {
            self = .whole
            return
        }
        if first.isEmpty {
            // The last `suffix` bytes (all of them when the file is shorter).
            let suffix = Self.number(last)
            self = suffix == 0 || size == 0 ? .unsatisfiable : .part(max(0, size - suffix)...(size - 1))
            return
        }
        let start = Self.number(first)
        let end = last.isEmpty ? Int.max : Self.number(last)
        guard start <= end, start < size else {
            self = .unsatisfiable
            return
        }
        self = .part(start...min(end, size - 1))
    }

    /// Digits as a number, saturating: a range past any file's end is just that.
    private static func number(_ digits: Substring) -> Int {
        Int(digits) ?? Int.max
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
