import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A child process for tests, with the part of Foundation's `Process` API the tests use.
///
/// Not Foundation's `Process`: on Linux its `run()` lists `/proc/self/fd` to close every
/// descriptor in the child, and copies each entry's 256-byte name out of `readdir`'s
/// buffer whatever the name's length. With about 1,360 descriptors open the buffer is full,
/// its last entry ends near the buffer's end, and the copy reads past it: the whole test
/// process died of SIGSEGV in CI while the server suites ran side by side. Here the child's
/// other descriptors are closed by `posix_spawn_file_actions_addclosefrom_np` (the kernel's
/// `close_range`), and nothing of the parent's is read.
public final class ChildProcess: @unchecked Sendable {
    public var executableURL: URL?
    public var arguments: [String] = []
    /// The child's environment; nil inherits this process's.
    public var environment: [String: String]?
    public var currentDirectoryURL: URL?
    /// A `Pipe`, a `FileHandle`, or nil to inherit this process's.
    public var standardInput: Any?
    public var standardOutput: Any?
    public var standardError: Any?
    /// Called once the child has ended, on a thread of its own.
    public var terminationHandler: (@Sendable (ChildProcess) -> Void)?

    private let lock = NSLock()
    private let ended = DispatchSemaphore(value: 0)
    private var pid: pid_t = 0
    private var status: Int32?
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init() {}

    public var processIdentifier: Int32 { lock.withLock { pid } }

    public var isRunning: Bool { lock.withLock { pid != 0 && status == nil } }

    /// The exit code, or the signal that ended the child. Only once it has ended.
    public var terminationStatus: Int32 {
        let status = lock.withLock { self.status } ?? 0
        return Self.signalled(status) ? status & 0x7f : (status >> 8) & 0xff
    }

    public var terminationReason: Process.TerminationReason {
        Self.signalled(lock.withLock { status } ?? 0) ? .uncaughtSignal : .exit
    }

    public func run() throws {
        guard let executable = executableURL?.path else { throw Failure(description: "no executable") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var parentEnds: [FileHandle] = []
        for (target, stream, writes) in [(Int32(0), standardInput, false), (1, standardOutput, true), (2, standardError, true)] {
            switch stream {
            case let pipe as Pipe:
                let childEnd = writes ? pipe.fileHandleForWriting : pipe.fileHandleForReading
                posix_spawn_file_actions_adddup2(&actions, childEnd.fileDescriptor, target)
                parentEnds.append(childEnd)
            case let handle as FileHandle where handle.fileDescriptor < 0:
                // `FileHandle.nullDevice` has no descriptor of its own.
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", writes ? O_WRONLY : O_RDONLY, 0)
            case let handle as FileHandle:
                posix_spawn_file_actions_adddup2(&actions, handle.fileDescriptor, target)
            default:
                break
            }
        }
        if let directory = currentDirectoryURL?.path {
            guard let addChangeDirectory = Self.addChangeDirectory else { throw Failure(description: "posix_spawn cannot change directory here") }
            _ = directory.withCString { addChangeDirectory(&actions, $0) }
        }
        _ = Self.addCloseFrom?(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, as Foundation's `Process` does: a signal to the test run's
        // group does not reach it.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let environmentLines = environment.map { $0.map { "\($0.key)=\($0.value)" } }
        let envp: [UnsafeMutablePointer<CChar>?]? = environmentLines.map { $0.map { strdup($0) } + [nil] }
        defer { envp?.forEach { free($0) } }
        var child: pid_t = 0
        let result =
            if let envp {
                posix_spawn(&child, executable, &actions, &attributes, argv, envp)
            } else {
                posix_spawn(&child, executable, &actions, &attributes, argv, environ)
            }
        guard result == 0 else {
            throw Failure(description: "could not start \(executable): \(String(cString: strerror(result)))")
        }
        // The child's ends belong to the child now: without closing them here, a reader
        // of the other end would never see the end of the output.
        for end in parentEnds { try? end.close() }
        let started = child
        lock.withLock { pid = started }
        Thread.detachNewThread { [self] in reap(started) }
    }

    /// Blocks until the child has ended. From async code the `async` overload is chosen:
    /// blocking would hold one of the cooperative pool's few threads (two on two cores),
    /// and every test's server would stall with it.
    public func waitUntilExit() {
        ended.wait()
        ended.signal()
    }

    /// Suspends until the child has ended, holding no thread.
    public func waitUntilExit() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = lock.withLock { () -> Bool in
                guard status == nil else { return true }
                waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// SIGTERM.
    public func terminate() {
        let pid = processIdentifier
        if pid > 0 { kill(pid, SIGTERM) }
    }

    private func reap(_ child: pid_t) {
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        let waiting = lock.withLock {
            self.status = status
            defer { waiters = [] }
            return waiters
        }
        ended.signal()
        for waiter in waiting { waiter.resume() }
        terminationHandler?(self)
    }

    /// WIFSIGNALED, which Swift does not import as a function.
    private static func signalled(_ status: Int32) -> Bool {
        let signal = status & 0x7f
        return signal != 0 && signal != 0x7f
    }

    // glibc's `_np` file actions (2.29 and 2.34), which its headers declare only for
    // _GNU_SOURCE: looked up by name, nil on a libc without them.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias AddChangeDirectory = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private static let addCloseFrom: AddCloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np")
    private static let addChangeDirectory: AddChangeDirectory? = symbol("posix_spawn_file_actions_addchdir_np")

    private static func symbol<T>(_ name: String) -> T? {
        guard let handle = dlopen(nil, RTLD_NOW), let address = dlsym(handle, name) else { return nil }
        return unsafeBitCast(address, to: T.self)
    }
}
