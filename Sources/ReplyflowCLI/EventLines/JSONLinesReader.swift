import Foundation

/// Reads a file line by line in fixed-size chunks, so memory stays flat however long
/// the file is.
// Owned by one thread at a time (replay hands it to its reader thread), hence unchecked.
final class JSONLinesReader: @unchecked Sendable {
    private let descriptor: Int32
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var atEOF = false
    /// 1-based number of the line last returned.
    private(set) var lineNumber = 0

    init?(path: String, chunkSize: Int = 1 << 20) {
        descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        buffer = [UInt8](repeating: 0, count: chunkSize)
    }

    deinit { close(descriptor) }

    /// An event is a few hundred bytes; a longer line is not one, and buffering it whole
    /// would let one bad line take all the memory.
    static let maximumLineLength = 1 << 20

    /// Calls `body` with the next line's bytes (without the newline), or with nil for a
    /// line longer than `maximumLineLength` (skipped); returns nil at the end of the file.
    func nextLine<T>(_ body: (UnsafeBufferPointer<UInt8>?) -> T) -> T? {
        var skipping = false
        while true {
            if let newline = newlineIndex() {
                lineNumber += 1
                let lineStart = start
                start = newline + 1
                if skipping { return body(nil) }
                var lineEnd = newline
                if lineEnd > lineStart, buffer[lineEnd - 1] == 13 { lineEnd -= 1 }
                return buffer.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[lineStart..<lineEnd])) }
            }
            if atEOF {
                guard start < end || skipping else { return nil }
                lineNumber += 1
                let lineStart = start
                start = end
                if skipping { return body(nil) }
                return buffer.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[lineStart..<end])) }
            }
            if end - start >= Self.maximumLineLength {
                // Drop what we have of the over-long line and keep reading to its end.
                skipping = true
                start = end
            }
            fill()
        }
    }

    /// The index of the next newline in the unread bytes, found with `memchr` (vectorised
    /// in the C library; a Swift search over the array slice was a tenth of the reader).
    private func newlineIndex() -> Int? {
        guard start < end else { return nil }
        return buffer.withUnsafeBufferPointer { bytes in
            memchr(bytes.baseAddress! + start, 10, end - start).map { UnsafeRawPointer($0) - UnsafeRawPointer(bytes.baseAddress!) }
        }
    }

    /// Moves the unread tail to the front and reads more; grows the buffer (up to about
    /// twice `maximumLineLength`) for a line longer than it.
    private func fill() {
        if start > 0 {
            let remaining = end - start
            if remaining > 0 {
                buffer.withUnsafeMutableBufferPointer { pointer in
                    _ = memmove(pointer.baseAddress!, pointer.baseAddress! + start, remaining)
                }
            }
            start = 0
            end = remaining
        }
        if end == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }
        let count = buffer.withUnsafeMutableBufferPointer { pointer in
            read(descriptor, pointer.baseAddress! + end, pointer.count - end)
        }
        if count <= 0 { atEOF = true } else { end += count }
    }
}
