import PostgresNIO

/// Whether an error from PostgreSQL means a transaction lost to a concurrent one, not that
/// it was wrong: a serialization failure (40001, a `REPEATABLE READ` read that another
/// commit made stale), a deadlock (40P01, PostgreSQL cancelled one side), or a lock it
/// could not get in time (55P03). Nothing of it was kept, and the same request succeeds
/// when sent again: the server answers 503 with `Retry-After`, not 500.
public enum PostgresConflict {
    /// The SQLSTATEs of lost races.
    static let states: Set<String> = ["40001", "40P01", "55P03"]

    public static func matches(_ error: any Error) -> Bool {
        if let transaction = error as? PostgresTransactionError {
            return (transaction.closureError ?? transaction.beginError ?? transaction.commitError).map(matches) ?? false
        }
        guard let error = error as? PSQLError, error.code == .server else { return false }
        return states.contains(error.serverInfo?[.sqlState] ?? "")
    }
}
