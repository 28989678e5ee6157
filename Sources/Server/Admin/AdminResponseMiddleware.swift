import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// Every response under `/admin`: errors become a page (JSON under `/admin/api/`) with the
/// status they deserve, and the security headers are added. Added to the router before any
/// route, so unknown `/admin` paths and the address rate limit's refusals are pages too.
struct AdminResponseMiddleware<Context: RequestContext>: RouterMiddleware {
    let pages: AdminPages
    let logger: Logger

    static var securityHeaders: HTTPFields {
        [
            .contentSecurityPolicy:
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; media-src 'self' https:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
            .xContentTypeOptions: "nosniff",
            ExtraHeader.referrerPolicy: "same-origin",
            ExtraHeader.xFrameOptions: "DENY",
        ]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard AdminPaths.isAdmin(path) else { return try await next(request, context) }
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = self.response(for: error, request: request)
        }
        for field in Self.securityHeaders { response.headers[field.name] = field.value }
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }

    /// The refusal as the caller should see it; nothing internal leaks into it.
    func response(for error: any Error, request: Request) -> Response {
        let refusal: AdminError
        switch error {
        case let error as AdminError:
            refusal = error
        case let error as APIError:
            refusal = AdminError(error.status, error.message, retryAfter: error.retryAfter)
        case is NIOTooManyBytesError:
            refusal = AdminError(.contentTooLarge, "the request body is too large")
        case is HTTPParserError:
            refusal = AdminError(.badRequest, "the request body is not valid HTTP")
        case let error as HTTPError where error.status == .notFound:
            refusal = AdminError(.notFound, "there is no page \(request.uri.path)")
        case let error as HTTPError:
            refusal = AdminError(error.status, error.body ?? error.status.reasonPhrase)
        default:
            if let message = RetryableDatabaseError.message(for: error) {
                logger.warning(
                    "admin request failed: the database is away or the request conflicted with another",
                    metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
                refusal = AdminError(.serviceUnavailable, message, retryAfter: 1)
            } else {
                logger.error("admin request failed", metadata: ["method": "\(request.method)", "path": "\(request.uri.path)", "error": "\(error)"])
                refusal = AdminError(.internalServerError, "something went wrong on the server; it is logged")
            }
        }
        var response: Response
        if AdminPaths.wantsJSON(request) {
            response = JSONBody.response(["success": false, "error": refusal.message], status: refusal.status)
        } else {
            let context: [String: Any] = ["status": Int(refusal.status.code), "reason": refusal.status.reasonPhrase, "message": refusal.message]
            response =
                (try? pages.render("error", title: refusal.status.reasonPhrase, context: context, session: nil, status: refusal.status))
                ?? Response(
                    status: refusal.status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: refusal.message)))
        }
        if let retryAfter = refusal.retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }
}
