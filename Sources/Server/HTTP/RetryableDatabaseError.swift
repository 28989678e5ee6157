import PostgresStorage

/// A database error that is not the caller's doing and passes if the request is sent
/// again: the shared database is away (`PostgresUnavailable`), or the request's
/// transaction lost a race with another (`PostgresConflict`). The API answers it 503 with
/// `Retry-After` (`JSONErrorMiddleware`), the admin panel with an error page of the same
/// status (`AdminResponseMiddleware`); neither is a 500.
enum RetryableDatabaseError {
    /// What the caller is told, or nil for any other error.
    static func message(for error: any Error) -> String? {
        if PostgresConflict.matches(error) {
            return "the request conflicted with a change made at the same moment; nothing of it was kept, send it again"
        }
        if PostgresUnavailable.matches(error) { return "the database cannot be reached just now; try again" }
        return nil
    }
}
