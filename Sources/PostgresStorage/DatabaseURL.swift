import Foundation

/// Where a PostgreSQL database is and how to log in: `DATABASE_URL` (and `--to` of
/// `replyflow migrate-to-postgres`), read as libpq reads a connection URL.
///
/// Forms:
/// - `postgres://USER:PASSWORD@HOST:PORT/DATABASE` (`postgresql://` too); the port defaults to 5432,
///   user and password are percent-decoded (`p%40ss` is `p@ss`), `[::1]` is an IPv6 host.
/// - `?sslmode=disable|prefer|require` (default `prefer`). `require` also verifies the
///   server's certificate (postgres-nio's default TLS), as libpq's `verify-full` does.
/// - `?host=/run/postgresql`: a Unix socket in that folder (`.s.PGSQL.PORT`); the host part
///   of the URL is then left empty (`postgres://USER@/DATABASE?host=/run/postgresql`).
///   TLS does not apply to a socket, so `sslmode` is ignored there.
///
/// The password never appears in `description` or in a parse error: both go to logs.
public struct DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    /// Whether the connection uses TLS.
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, prefer, require
    }

    /// A TCP host and port, or a Unix socket folder (and the port its socket file is named after).
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unixSocket(directory: String, port: Int)
    }

    public var user: String
    /// Nil when the URL has none (trust or peer authentication); `""` is an empty password.
    public var password: String?
    public var endpoint: Endpoint
    public var database: String
    public var sslMode: SSLMode

    public init(user: String, password: String?, endpoint: Endpoint, database: String, sslMode: SSLMode = .prefer) {
        self.user = user
        self.password = password
        self.endpoint = endpoint
        self.database = database
        self.sslMode = sslMode
    }

    public static let defaultPort = 5432

    /// A URL that could not be read: one line naming the setting, never the password.
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// The socket file of a Unix-socket endpoint, as the server names it.
    public var unixSocketPath: String? {
        guard case .unixSocket(let directory, let port) = endpoint else { return nil }
        return (directory.hasSuffix("/") ? String(directory.dropLast()) : directory) + "/.s.PGSQL.\(port)"
    }

    /// Where it connects, for messages: `host:port` or the socket file.
    public var place: String {
        switch endpoint {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unixSocket: return unixSocketPath ?? ""
        }
    }

    /// The URL with the password replaced by `[redacted]`: safe for logs and errors.
    public var description: String {
        let userInfo = Self.encode(user) + (password == nil ? "" : ":[redacted]")
        switch endpoint {
        case .tcp(let host, let port):
            let hostText = host.contains(":") ? "[\(host)]" : host
            return "postgres://\(userInfo)@\(hostText):\(port)/\(Self.encode(database))?sslmode=\(sslMode.rawValue)"
        case .unixSocket(let directory, let port):
            let portText = port == Self.defaultPort ? "" : ":\(port)"
            return "postgres://\(userInfo)@\(portText)/\(Self.encode(database))?host=\(directory)"
        }
    }

    // MARK: - Parsing

    /// Reads `text`; `setting` names where it came from in errors (`DATABASE_URL`, `--to`).
    public static func parse(_ text: String, setting: String = "DATABASE_URL") throws(Failure) -> DatabaseURL {
        let example = "postgres://USER:PASSWORD@HOST:PORT/DATABASE"
        func failure(_ message: String) -> Failure { Failure(description: "\(setting) \(message)") }

        let text = text.trimmingCharacters(in: .whitespaces)
        guard let schemeEnd = text.range(of: "://"), !text[..<schemeEnd.lowerBound].isEmpty,
            text[..<schemeEnd.lowerBound].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." })
        else {
            // The value itself is not repeated: a mistyped URL may still hold the password.
            throw failure("is not a URL: expected \(example)")
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw failure("has the scheme \(scheme)://; Replyflow reads postgres:// or postgresql:// (\(example))")
        }
        var rest = Substring(text[schemeEnd.upperBound...])
        // The user information ends at the last "@", so a password with an unescaped "/",
        // "?" or "@" is still read whole; the query starts after it.
        let at = rest.lastIndex(of: "@")
        var query: Substring = ""
        if let mark = rest[(at ?? rest.startIndex)...].firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var userInfo: Substring = ""
        if let at {
            userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
        }
        let slash = rest.firstIndex(of: "/")
        let hostPort = slash.map { rest[..<$0] } ?? rest
        let path = slash.map { rest[rest.index(after: $0)...] } ?? ""

        // User and password.
        let userPart = userInfo.firstIndex(of: ":").map { userInfo[..<$0] } ?? userInfo
        let passwordPart = userInfo.firstIndex(of: ":").map { userInfo[userInfo.index(after: $0)...] }
        guard let user = String(userPart).removingPercentEncoding else { throw failure("has a broken %-escape in its user name") }
        guard !user.isEmpty else { throw failure("names no user: expected \(example)") }
        var password: String?
        if let passwordPart {
            guard let decoded = String(passwordPart).removingPercentEncoding else { throw failure("has a broken %-escape in its password") }
            password = decoded
        }

        // Host and port.
        var host: String
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw failure("has an IPv6 host without its closing ]") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw failure("has something after its IPv6 host: expected [HOST]:PORT") }
                portText = after.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            portText = hostPort[hostPort.index(after: colon)...]
        } else {
            host = String(hostPort)
        }
        host = host.removingPercentEncoding ?? host
        var port = defaultPort
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                // Not repeated either: with the "@HOST" forgotten, the "port" is the password.
                throw failure("has a port that is not a number from 1 to 65535: expected \(example)")
            }
            port = number
        }

        // Database.
        guard let database = String(path).removingPercentEncoding, !database.isEmpty else {
            throw failure("names no database: add it after the host, as in \(example)")
        }
        guard !database.contains("/") else { throw failure("has \"/\" in its database name \"\(database)\"") }

        // Parameters.
        var sslMode = SSLMode.prefer
        var socketDirectory: String?
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let name = pair.firstIndex(of: "=").map { pair[..<$0] } ?? pair
            let rawValue = pair.firstIndex(of: "=").map { pair[pair.index(after: $0)...] } ?? ""
            let value = String(rawValue).removingPercentEncoding ?? String(rawValue)
            switch name {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    throw failure("has sslmode=\(value); use disable, prefer or require")
                }
                sslMode = mode
            case "host":
                guard value.hasPrefix("/") else {
                    throw failure("has host=\(value); the host parameter is a Unix socket folder such as /run/postgresql")
                }
                socketDirectory = value
            default:
                throw failure("has the parameter \"\(name)\", which Replyflow does not read (it reads sslmode and host)")
            }
        }

        let endpoint: Endpoint
        if let socketDirectory {
            guard host.isEmpty else {
                throw failure("names both the host \(host) and the socket folder host=\(socketDirectory); leave the host part empty for a socket")
            }
            endpoint = .unixSocket(directory: socketDirectory, port: port)
        } else {
            guard !host.isEmpty else { throw failure("names no host: expected \(example), or ?host=/socket/folder") }
            endpoint = .tcp(host: host, port: port)
        }
        return DatabaseURL(user: user, password: password, endpoint: endpoint, database: database, sslMode: sslMode)
    }

    /// Percent-encodes what would break a URL's user or database part.
    private static func encode(_ text: String) -> String {
        var allowed = CharacterSet.urlUserAllowed
        allowed.remove(charactersIn: ":@/?#")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
