import PostgresNIO
import Storage
import _ConnectionPoolModule

/// Whether an error from PostgreSQL means the database is away (unreachable, restarting,
/// out of connections), not that a query was wrong: the server answers those 503, to be
/// tried again, as it does a run that could not be stored (`RunStoreUnavailable`).
public enum PostgresUnavailable {
    public static func matches(_ error: any Error) -> Bool {
        // The pool's own errors: it cannot connect (its circuit breaker tripped), it is shut
        // down, or the wait for a connection was given up.
        if error is RunStoreUnavailable || error is PostgresConnectionLost || error is ConnectionPoolError { return true }
        if let transaction = error as? PostgresTransactionError {
            return (transaction.closureError ?? transaction.beginError ?? transaction.commitError).map(matches) ?? false
        }
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed, .queryCancelled:
            return true
        case .server:
            // Class 08: connection exceptions; 57P01-57P03: shut down by an administrator,
            // crash shutdown, cannot connect now (starting up); 53300: too many connections.
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(state)
        default:
            return false
        }
    }
}
