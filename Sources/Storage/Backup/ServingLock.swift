import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Says that a `replyflow serve` is using a database file: held from start to exit on a
/// file beside it (`<database>.lock`), released by the system when the process ends,
/// however it ends. A second server on the same file would deliver the same outbox items
/// twice, and a restore under a running server would be overwritten by it.
///
/// It is an advisory `flock` on its own file, not a lock on the database: SQLite's own
/// locks on the database are POSIX record locks, which closing any other descriptor of
/// the database file would drop.
public final class ServingLock: Sendable {
    /// The lock file of the database at `databasePath`.
    public static func path(for databasePath: String) -> String { databasePath + ".lock" }

    private let descriptor: Int32

    /// Takes the lock, or throws `Held` at once when another process (or another
    /// `ServingLock` in this one) has it.
    public init(databasePath: String) throws {
        let path = Self.path(for: databasePath)
        let directory = (databasePath as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw Failure(description: "could not open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            close(descriptor)
            if reason == EWOULDBLOCK { throw Held(databasePath: databasePath) }
            throw Failure(description: "could not lock \(path): \(String(cString: strerror(reason)))")
        }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// Another process serves the database.
    public struct Held: Error, CustomStringConvertible {
        public var databasePath: String
        public var description: String { "a replyflow server is running on \(databasePath)" }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }
}
