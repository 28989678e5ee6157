import Foundation
import Hummingbird
import Logging
import PostgresStorage
import Storage
import NIOCore
import NIOHTTP1

/// Gives every error the seed's JSON shape: Hummingbird's own (unknown route, body too
/// large) keep their status; a body NIO cannot parse is a 400; a run that could not be
/// stored, a database that is away, or a transaction that lost a race with another, is a
/// 503 the caller can retry; a request the shutdown cut off is logged as such;
/// anything unexpected is logged and answered 500 without its details, so internals never
/// leak to callers.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch is CommitFailure, is RunStoreUnavailable {
            // Logged by the engine. Nothing was stored: the caller can send it again.
            throw APIError(.serviceUnavailable, "the message could not be stored just now; nothing of it was kept, send it again", retryAfter: 1)
        } catch is HTTPParserError {
            // The body broke off mid-way (bad chunked encoding, say): the client's mistake.
            throw APIError(.badRequest, "the request body is not valid HTTP (its chunked encoding, say)")
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "the request body is too large")
        } catch is CancellationError {
            // The shutdown's grace period ran out with this request under way: not a fault.
            logger.notice("request cut off by the shutdown", metadata: ["method": "\(request.method)", "path": "\(Self.loggable(request.uri.path))"])
            throw CancellationError()
        } catch let error as HTTPError {
            if error.status == .notFound {
                throw APIError(.notFound, "no such endpoint: \(request.method) \(request.uri.path)")
            }
            if error.status == .contentTooLarge {
                throw APIError(.contentTooLarge, "the request body is too large")
            }
            throw APIError(error.status, error.body ?? error.status.reasonPhrase)
        } catch {
            if let message = RetryableDatabaseError.message(for: error) {
                // Outside a run: a shared database that is away for now, or a transaction
                // that lost a race with another (a deadlock, a stale snapshot). Nothing was kept.
                logger.warning(
                    "request failed: the database is away or the request conflicted with another",
                    metadata: ["path": "\(Self.loggable(request.uri.path))", "error": "\(error)"])
                throw APIError(.serviceUnavailable, message, retryAfter: 1)
            }
            logger.error("request failed", metadata: ["method": "\(request.method)", "path": "\(Self.loggable(request.uri.path))", "error": "\(error)"])
            throw APIError(.internalServerError, "internal error")
        }
    }

    /// A path fit for the log: the Brevo webhook's secret is a path segment.
    static func loggable(_ path: String) -> String {
        path.hasPrefix("/webhooks/brevo/") ? "/webhooks/brevo/<secret>" : path
    }
}
