import Channels
import Foundation
import Logging

/// How a call the server waits on is retried (a question to the AI, a file download):
/// timeouts, 429 and 5xx are tried again after a backoff (or the `Retry-After` the service
/// asked for), up to `maxAttempts`; a wait longer than `maxWait` is not worth it for
/// someone who is waiting, so the caller gives up and decides what follows.
struct RetryPolicy: Sendable {
    var maxAttempts: Int
    var baseDelay: Duration = .seconds(1)
    var maxWait: Duration = .seconds(20)

    func run<T: Sendable>(_ what: String, logger: Logger, _ body: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch let error as DeliveryError {
                guard case .retry(let after) = error.disposition, attempt < maxAttempts else { throw error }
                let backoff = baseDelay * (1 << (attempt - 1))
                let wait = max(after ?? .zero, backoff)
                guard wait <= maxWait else { throw error }
                logger.notice(
                    "call failed, retrying",
                    metadata: [
                        "call": "\(what)", "attempt": "\(attempt)", "retry_in": "\(wait)", "error": "\(error.description)",
                    ])
                try await Task.sleep(for: wait)
                attempt += 1
            }
        }
    }
}
