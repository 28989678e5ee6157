import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A private PostgreSQL server for the tests of one test process: `initdb` in a temporary
/// folder, `pg_ctl start` on a free loopback port with its Unix socket in that folder, one
/// fresh database per test (`makeDatabase()`), and `pg_ctl stop -m fast` plus the folder's
/// removal when the process exits.
///
/// - Started once, lazily, by the first test that asks (`shared`), and shared after.
/// - Authentication: trust for the superuser `replyflow` (socket and loopback), and a
///   password (SCRAM) for the user `replyflow_password`, whose password is `password`, for
///   the tests of a refused password.
/// - PostgreSQL refuses to run as root. As root (CI runs as root) initdb and pg_ctl run as
///   `nobody` through `runuser -u nobody --` (util-linux; `su -s /bin/sh nobody -c` where
///   runuser is missing), the temporary folder (under /tmp, which nobody can reach)
///   chowned to nobody first.
/// - Stopped on failure too: `atexit` stops it on a normal exit, and a watchdog shell
///   started with it stops it and removes the folder once this process is gone, however it
///   ended (a crash, `kill -9`).
/// - The binaries: `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin, else PATH.
///
/// Every wait is bounded: initdb 120 s, the start 30 s (`pg_ctl -w -t 30`), each psql 30 s.
public final class PostgresCluster: Sendable {
    public let port: Int
    /// The folder of the cluster: its data, its log, its Unix socket.
    public let directory: String
    public static let superuser = "replyflow"
    public static let passwordUser = "replyflow_password"
    public static let password = "password"

    private let binaries: String

    private init(port: Int, directory: String, binaries: String) {
        self.port = port
        self.directory = directory
        self.binaries = binaries
    }

    // MARK: - The shared cluster

    /// Why the PostgreSQL tests are skipped: PostgreSQL's binaries are missing and `CI` is
    /// unset; nil when they run. With `CI` set they always run, and fail without PostgreSQL.
    public static var skipReason: String? {
        guard binaryDirectory == nil, ProcessInfo.processInfo.environment["CI"] == nil else { return nil }
        return "PostgreSQL's binaries (initdb, pg_ctl, psql) are not installed; the PostgreSQL tests did not run (apt-get install postgresql)"
    }

    /// The folder holding initdb, pg_ctl, postgres and psql, or nil.
    public static let binaryDirectory: String? = findBinaries()

    private static let started: Result<PostgresCluster, StartFailure> = Result { () throws(StartFailure) in try start() }

    /// The process's cluster, started on first use, on a thread of its own: it takes
    /// seconds of waiting, and a detached task would hold one of the few threads every
    /// other test of the process runs on (two, on two cores), stalling their deadlines.
    public static func shared() async throws -> PostgresCluster {
        try await offThePool { try started.get() }
    }

    /// A new empty database owned by the superuser; returns its name.
    public func makeDatabase() async throws -> String {
        let name = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        try await psql("CREATE DATABASE \(name)")
        return name
    }

    /// A URL for `database` as the superuser over loopback TCP (no password, no TLS).
    public func url(database: String, user: String = PostgresCluster.superuser, password: String? = nil) -> String {
        let userInfo = password.map { "\(user):\($0)" } ?? user
        return "postgres://\(userInfo)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Runs `sql` as the superuser in the `postgres` database (or `database`).
    public func psql(_ sql: String, database: String = "postgres") async throws {
        let arguments = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", directory, "-p", String(port), "-U", Self.superuser, "-d", database, "-c", sql]
        let binaries = self.binaries
        let directory = self.directory
        _ = try await offThePool {
            try Self.run(binaries + "/psql", arguments, in: directory, timeout: 30, asPostgresUser: false)
        }
    }

    /// A reason the cluster could not start, with its log.
    public struct StartFailure: Error, CustomStringConvertible {
        public var description: String
    }

    // MARK: - Starting and stopping

    private static func start() throws(StartFailure) -> PostgresCluster {
        guard let binaries = binaryDirectory else {
            throw StartFailure(description: "no PostgreSQL binaries found (pg_config --bindir, /usr/lib/postgresql/*/bin, PATH); install postgresql")
        }
        let asRoot = geteuid() == 0
        // nobody must reach the folder: /tmp, not a TMPDIR that may be root's own.
        let parent = asRoot ? "/tmp" : NSTemporaryDirectory()
        let directory = (parent as NSString).appendingPathComponent("replyflow-postgres-\(getpid())-\(UUID().uuidString.prefix(8))")
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            if asRoot {
                guard let nobody = getpwnam("nobody") else {
                    throw StartFailure(description: "running as root, and there is no user nobody to run PostgreSQL as")
                }
                guard chown(directory, nobody.pointee.pw_uid, nobody.pointee.pw_gid) == 0 else {
                    throw StartFailure(description: "could not give \(directory) to nobody: \(String(cString: strerror(errno)))")
                }
            }
            let data = directory + "/data"
            try run(
                binaries + "/initdb", ["-D", data, "-U", superuser, "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"], in: directory,
                timeout: 120, asPostgresUser: asRoot)
            // The password user logs in over loopback with SCRAM; everyone else is trusted.
            let rules = """
                local all all trust
                host all \(passwordUser) 127.0.0.1/32 scram-sha-256
                host all all 127.0.0.1/32 trust

                """
            try Data(rules.utf8).write(to: URL(fileURLWithPath: data + "/pg_hba.conf"))
            var lastError: (any Error)?
            // A port found free may be taken before the server binds it: try another.
            for _ in 0..<3 {
                let port = try freePort()
                do {
                    try run(
                        binaries + "/pg_ctl",
                        [
                            "-D", data, "-l", directory + "/postgres.log", "-w", "-t", "30", "-o",
                            "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
                            "start",
                        ], in: directory, timeout: 45, asPostgresUser: asRoot)
                } catch {
                    lastError = error
                    continue
                }
                let cluster = PostgresCluster(port: port, directory: directory, binaries: binaries)
                cluster.stopAtExit(asRoot: asRoot)
                try run(
                    binaries + "/psql",
                    [
                        "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", directory, "-p", String(port), "-U", superuser, "-d", "postgres", "-c",
                        "CREATE ROLE \(passwordUser) LOGIN PASSWORD '\(password)'",
                    ], in: directory, timeout: 30, asPostgresUser: false)
                return cluster
            }
            let log = (try? String(contentsOfFile: directory + "/postgres.log", encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: directory)
            throw StartFailure(description: "PostgreSQL did not start: \(lastError.map { "\($0)" } ?? "")\n\(log)")
        } catch let failure as StartFailure {
            try? FileManager.default.removeItem(atPath: directory)
            throw failure
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw StartFailure(description: "\(error)")
        }
    }

    /// Stops the server and removes its folder when this process exits, or, through a
    /// watchdog, when it dies without exiting.
    private func stopAtExit(asRoot: Bool) {
        let stop = Self.command(
            binaries + "/pg_ctl", ["-D", directory + "/data", "-m", "fast", "-w", "-t", "30", "stop"], asPostgresUser: asRoot)
        let script = "\(stop.map(Self.shellQuote).joined(separator: " ")) >/dev/null 2>&1; rm -rf \(Self.shellQuote(directory))"
        PostgresClusterExit.script.withLock { $0 = script }
        atexit {
            guard let script = PostgresClusterExit.script.withLock({ $0 }) else { return }
            _ = try? PostgresCluster.run("/bin/sh", ["-c", script], in: "/", timeout: 40, asPostgresUser: false)
        }
        // In a session of its own, so that what ends the test run's process group (a
        // timeout, ^C) leaves it to clean up; its output goes nowhere.
        _ = try? Self.spawn(
            ["/bin/sh", "-c", "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; \(script)"], in: "/", output: nil, newSession: true)
    }

    // MARK: - Processes

    /// A failed command: its arguments and output.
    struct CommandFailed: Error, CustomStringConvertible {
        var description: String
    }

    /// The command line, run as nobody when PostgreSQL must not run as root.
    private static func command(_ executable: String, _ arguments: [String], asPostgresUser: Bool) -> [String] {
        guard asPostgresUser else { return [executable] + arguments }
        if FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser") || FileManager.default.isExecutableFile(atPath: "/sbin/runuser") {
            let runuser = FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser") ? "/usr/sbin/runuser" : "/sbin/runuser"
            return [runuser, "-u", "nobody", "--", executable] + arguments
        }
        return ["/bin/su", "-s", "/bin/sh", "nobody", "-c", ([executable] + arguments).map(shellQuote).joined(separator: " ")]
    }

    /// Runs a command to its end (killed after `timeout` seconds); throws with its output when it fails.
    ///
    /// posix_spawn and waitpid, not Foundation's `Process`: on Linux `Process` learns of the
    /// end through a descriptor the child inherits, and the server `pg_ctl start` leaves
    /// running inherits it too, so `pg_ctl` never looked finished.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], in directory: String, timeout: Double, asPostgresUser: Bool) throws -> String {
        let line = command(executable, arguments, asPostgresUser: asPostgresUser)
        // Output goes to a file, not a pipe: the server outlives pg_ctl, and a pipe it
        // inherited would never reach its end.
        let outputPath = NSTemporaryDirectory() + "replyflow-pg-command-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let pid = try spawn(line, in: directory, output: outputPath, newSession: false)
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped < 0, errno != EINTR { throw CommandFailed(description: "waitpid: \(String(cString: strerror(errno)))") }
            if Date() > deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw CommandFailed(description: "\(line.joined(separator: " ")) took longer than \(Int(timeout)) s")
            }
            usleep(20_000)
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED and WEXITSTATUS, which Swift does not import as functions.
        let exited = status & 0x7f == 0
        let code = (status >> 8) & 0xff
        guard exited, code == 0 else {
            throw CommandFailed(description: "\(line.joined(separator: " ")) failed (status \(status)): \(text)")
        }
        return text
    }

    /// Starts `line` with standard input from /dev/null and both outputs to `output` (or
    /// /dev/null), in `directory`; `newSession` puts it out of this process's group, so
    /// whatever ends the test run's group does not end it.
    static func spawn(_ line: [String], in directory: String, output: String?, newSession: Bool) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of this process's: PostgreSQL's processes would keep every socket open
        // here at the spawn (a test server's accepted connection, say) open for as long as
        // they run, so a connection the server closes would never close for its client.
        guard let closeFrom = Self.addCloseFrom, closeFrom(&actions, 3) == 0 else {
            throw CommandFailed(description: "posix_spawn_file_actions_addclosefrom_np is missing (glibc 2.34 or newer is needed)")
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The folder through a shell (posix_spawn_file_actions_addchdir_np and
        // POSIX_SPAWN_SETSID are not imported), and setsid(1) for a session of its own.
        var line = ["/bin/sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh", directory] + line
        if newSession, FileManager.default.isExecutableFile(atPath: "/usr/bin/setsid") { line = ["/usr/bin/setsid"] + line }
        let argv: [UnsafeMutablePointer<CChar>?] = line.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, line[0], &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw CommandFailed(description: "could not start \(line[0]): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and newer): a GNU extension,
    /// which Swift's Glibc module does not import.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    private static func shellQuote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A loopback port nothing listens on at this moment (see `FreePort`).
    public static func freePort() throws -> Int {
        try FreePort.next()
    }

    // MARK: - Finding PostgreSQL

    private static func findBinaries() -> String? {
        func complete(_ directory: String) -> Bool {
            ["initdb", "pg_ctl", "postgres", "psql"].allSatisfy { FileManager.default.isExecutableFile(atPath: directory + "/" + $0) }
        }
        var candidates: [String] = []
        for path in ["/usr/bin/pg_config", "/usr/local/bin/pg_config"] where FileManager.default.isExecutableFile(atPath: path) {
            if let output = try? run(path, ["--bindir"], in: "/", timeout: 10, asPostgresUser: false) {
                candidates.append(output.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        candidates += versions.compactMap(Int.init).sorted(by: >).map { "/usr/lib/postgresql/\($0)/bin" }
        // PATH: the folder initdb really lives in (/usr/local/bin/initdb may be a link).
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let initdb = String(folder) + "/initdb"
            if FileManager.default.isExecutableFile(atPath: initdb) {
                let resolved = (initdb as NSString).resolvingSymlinksInPath
                candidates.append((resolved as NSString).deletingLastPathComponent)
            }
        }
        return candidates.first(where: complete)
    }
}

/// The stop command `atexit` runs (a C function pointer captures nothing).
private enum PostgresClusterExit {
    static let script = PostgresLockedText()
}

/// A string behind a lock.
private final class PostgresLockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var text: String?
    func withLock<T>(_ body: (inout String?) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&text)
    }
}
