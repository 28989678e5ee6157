import PostgresNIO

/// What went wrong in a PostgreSQL call, as one readable line.
///
/// postgres-nio's `PSQLError.description` is deliberately generic (its details may hold
/// data); Replyflow's lines need the server's message and SQLSTATE to say what to do. None
/// of it holds the password: the URL is never part of an error.
enum PostgresErrorText {
    /// The server's message with its SQLSTATE and detail, or the client's reason.
    static func describe(_ error: any Error) -> String {
        if let transaction = error as? PostgresTransactionError {
            // The closure's own error is the cause; a failed BEGIN or COMMIT otherwise.
            if let cause = transaction.closureError ?? transaction.beginError ?? transaction.commitError {
                return describe(cause)
            }
        }
        guard let error = error as? PSQLError else { return "\(error)" }
        if let server = error.serverInfo {
            var text = server[.message] ?? "error"
            if let state = server[.sqlState] { text += " (SQLSTATE \(state))" }
            if let detail = server[.detail] { text += ": \(detail)" }
            return text
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }

    /// The SQLSTATE of a server error, looking through a transaction's wrapper.
    static func sqlState(_ error: any Error) -> String? {
        if let transaction = error as? PostgresTransactionError {
            return (transaction.closureError ?? transaction.beginError ?? transaction.commitError).flatMap(sqlState)
        }
        return (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}
