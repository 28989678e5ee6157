import PostgresNIO

extension DatabaseURL {
    /// The pool's configuration: where, who, and TLS as `sslmode` says.
    func clientConfiguration() -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        switch endpoint {
        case .tcp(let host, let port):
            configuration = PostgresClient.Configuration(
                host: host, port: port, username: user, password: password, database: database, tls: clientTLS)
        case .unixSocket:
            configuration = PostgresClient.Configuration(
                unixSocketPath: unixSocketPath ?? "", username: user, password: password, database: database)
        }
        configuration.options.connectTimeout = Self.connectTimeout
        // A transaction left open by an instance cut off mid-commit (no reset reaches the
        // server) would hold its locks, the live events' ordering lock among them, until
        // TCP gives up, hours later: the server ends such a session after a minute. No
        // transaction of Replyflow's waits idle (runs wait for the AI outside one).
        configuration.options.additionalStartupParameters = [("idle_in_transaction_session_timeout", "60s")]
        return configuration
    }

    /// One connection's configuration (the start-up check connects once, outside the pool,
    /// so a refusal comes back at once instead of being retried by the pool).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        switch endpoint {
        case .tcp(let host, let port):
            configuration = PostgresConnection.Configuration(
                host: host, port: port, username: user, password: password, database: database, tls: try connectionTLS())
        case .unixSocket:
            configuration = PostgresConnection.Configuration(
                unixSocketPath: unixSocketPath ?? "", username: user, password: password, database: database)
        }
        configuration.options.connectTimeout = .seconds(Self.connectTimeout.components.seconds)
        return configuration
    }

    /// A host that does not answer is given up on after this long.
    static let connectTimeout: Duration = .seconds(10)

    private var clientTLS: PostgresClient.Configuration.TLS {
        switch sslMode {
        case .disable: return .disable
        case .prefer: return .prefer(.makeClientConfiguration())
        case .require: return .require(.makeClientConfiguration())
        }
    }

    /// A single connection takes a ready TLS context; making one can fail (no system trust
    /// store), and that is an error, never a quiet fall back to plain text.
    private func connectionTLS() throws -> PostgresConnection.Configuration.TLS {
        switch sslMode {
        case .disable: return .disable
        case .prefer: return .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }
}
