import PostgresStorage

/// A configuration problem that stops `replyflow serve` before it listens: printed as
/// one line (or one line per flow error), never as a stack trace.
public struct StartupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension StartupError {
    /// What `replyflow serve` says when given a `DATABASE_URL`: the URL is read and checked,
    /// the PostgreSQL schema and `migrate-to-postgres` exist, serving on it does not yet.
    public static func postgresNotFinished(_ url: DatabaseURL) -> StartupError {
        StartupError(
            "PostgreSQL storage is not finished yet: DATABASE_URL (\(url)) is valid, but replyflow serve still runs on SQLite only; unset DATABASE_URL and use DATABASE_PATH (see docs/scaling.md)"
        )
    }
}
