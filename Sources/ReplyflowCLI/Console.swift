import Foundation
import Synchronization

/// Where commands write. Colour only on a terminal (and never with NO_COLOR), so piped
/// output and files stay plain.
public final class Console: @unchecked Sendable {
    // Commands run on one task; the buffers are only touched from it.
    private let writeOut: (String) -> Void
    private let writeError: (String) -> Void
    public let colour: Bool

    public init(colour: Bool, out: @escaping (String) -> Void, error: @escaping (String) -> Void) {
        self.colour = colour
        self.writeOut = out
        self.writeError = error
    }

    /// The process's stdout and stderr.
    public static func standard() -> Console {
        let environment = ProcessInfo.processInfo.environment
        let colour = isatty(STDOUT_FILENO) == 1 && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
        return Console(colour: colour, out: { StandardStream.out.write($0) }, error: { StandardStream.error.write($0) })
    }

    /// A console that keeps what was written, for tests.
    public static func capturing() -> (Console, CapturedOutput) {
        let captured = CapturedOutput()
        return (Console(colour: false, out: { captured.out += $0 }, error: { captured.error += $0 }), captured)
    }

    public func line(_ text: String = "") { writeOut(text + "\n") }
    public func errorLine(_ text: String) { writeError(text + "\n") }
    public func write(_ text: String) { writeOut(text) }

    public func bold(_ text: String) -> String { paint(text, "1") }
    public func red(_ text: String) -> String { paint(text, "31") }
    public func green(_ text: String) -> String { paint(text, "32") }
    public func yellow(_ text: String) -> String { paint(text, "33") }
    public func dim(_ text: String) -> String { paint(text, "2") }

    private func paint(_ text: String, _ code: String) -> String {
        colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}

/// Output kept by `Console.capturing()`.
public final class CapturedOutput: @unchecked Sendable {
    public var out = ""
    public var error = ""
}

/// Buffered stdout/stderr: replay writes a line per event with `--json`, and unbuffered
/// writes would cost a system call each.
final class StandardStream: Sendable {
    static let out = StandardStream(descriptor: STDOUT_FILENO)
    static let error = StandardStream(descriptor: STDERR_FILENO)
    private let descriptor: Int32
    private let buffer: Mutex<[UInt8]>

    init(descriptor: Int32) {
        self.descriptor = descriptor
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1 << 16)
        buffer = Mutex(bytes)
    }

    func write(_ text: String) {
        let full = buffer.withLock { buffer in
            buffer.append(contentsOf: text.utf8)
            return buffer.count >= 1 << 16 || descriptor == STDERR_FILENO
        }
        if full { flush() }
    }

    func flush() {
        buffer.withLock { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = buffer[offset...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
                if written <= 0 { break }
                offset += written
            }
            buffer.removeAll(keepingCapacity: true)
        }
    }

    static func flushAll() {
        out.flush()
        error.flush()
    }
}
