import Logging
import PostgresNIO

/// Connects once and runs `SELECT 1`, so that a server on PostgreSQL (or
/// `migrate-to-postgres`) stops at start with one line saying what to fix: a wrong
/// password, a host or port where nothing answers, a database that does not exist.
///
/// It connects outside the pool on purpose: `PostgresClient` retries a failing connection
/// in the background, which is right while serving and wrong at start.
public enum PostgresStartupCheck {
    /// A reason the database cannot be used, as one line (no stack trace, no password).
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Throws `Failure` when `url` does not lead to a database Replyflow can log in to.
    /// `setting` names where the URL came from, for the advice (`DATABASE_URL`, `--to`).
    public static func check(_ url: DatabaseURL, setting: String = "DATABASE_URL", logger: Logger) async throws(Failure) {
        do {
            let connection = try await PostgresConnection.connect(configuration: url.connectionConfiguration(), id: 1, logger: logger)
            do {
                _ = try await connection.query("SELECT 1", logger: logger).collect()
            } catch {
                try? await connection.close()
                throw error
            }
            try? await connection.close()
        } catch {
            throw Failure(description: explain(error, url: url, setting: setting))
        }
    }

    /// The line for a failed connection.
    static func explain(_ error: any Error, url: DatabaseURL, setting: String) -> String {
        let place = url.place
        guard let error = error as? PSQLError else {
            // Making the TLS context (sslmode prefer or require) is the only other failure.
            return "cannot set up TLS for PostgreSQL at \(place) (\(error)); fix the system's certificates or set sslmode=disable in \(setting)"
        }
        if let state = error.serverInfo?[.sqlState] {
            let message = error.serverInfo?[.message] ?? "refused"
            switch state {
            case "28P01":
                return "PostgreSQL at \(place) refused the password of user \(url.user); correct the password in \(setting)"
            case "28000":
                return "PostgreSQL at \(place) does not let user \(url.user) log in (\(message)); check the user in \(setting) and the server's pg_hba.conf"
            case "3D000":
                return
                    "the database \(url.database) does not exist at \(place); create it (createdb -O \(url.user) \(url.database)) or correct the name in \(setting)"
            case "53300":
                return "PostgreSQL at \(place) has no free connection (too many clients); raise max_connections or stop other clients"
            case "57P03":
                return "PostgreSQL at \(place) is starting or stopping; try again in a moment"
            default:
                return "PostgreSQL at \(place) refused the connection: \(message) (SQLSTATE \(state))"
            }
        }
        switch error.code {
        case .authMechanismRequiresPassword:
            return "PostgreSQL at \(place) asks user \(url.user) for a password; add it to \(setting) (postgres://USER:PASSWORD@HOST/DATABASE)"
        case .sslUnsupported:
            return "PostgreSQL at \(place) does not offer TLS and \(setting) has sslmode=require; turn TLS on in the server, or use sslmode=prefer or disable"
        case .connectionError:
            return "cannot reach PostgreSQL at \(place) (\(reason(error.underlying))); check that it runs and that the host and port in \(setting) are right"
        default:
            return "cannot use PostgreSQL at \(place): \(PostgresErrorText.describe(error))"
        }
    }

    /// Why a connection could not be opened, in words.
    private static func reason(_ underlying: (any Error)?) -> String {
        let text = underlying.map { "\($0)" } ?? ""
        if text.contains("Connection refused") { return "connection refused" }
        if text.contains("No such file") { return "no socket file there" }
        if text.lowercased().contains("timeout") || text.lowercased().contains("timed out") {
            return "no answer within \(DatabaseURL.connectTimeout.components.seconds) s"
        }
        if text.contains("resolve") || text.contains("dns") || text.contains("DNS") { return "the host name does not resolve" }
        return text.isEmpty ? "no connection" : text
    }
}
