import Foundation
import Hummingbird
import Storage

/// Finds the signed-in member of staff from the session cookie and puts them in the
/// context. Deny by default: on every route behind it but the login page, a visitor with
/// no valid session is sent to `/admin/login?next=...` (or told 401 in JSON under
/// `/admin/api/`), so a route added later is closed until it says otherwise.
struct AdminSessionMiddleware<Context: AdminRequestContext>: RouterMiddleware {
    let staff: any StaffStore
    let limits: StaffSessionLimits
    let clock: @Sendable () -> Date
    /// `last_seen_at` is written at most this often per session: every page and script
    /// request would otherwise be a write. The idle timeout is that much less exact.
    static var touchInterval: TimeInterval { 30 }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let cookie = AdminCookie.value(in: request) {
            let idHash = SessionToken.hash(cookie)
            let now = clock()
            if let session = try await staff.session(idHash: idHash, limits: limits, at: now) {
                if now.timeIntervalSince(session.lastSeenAt) >= Self.touchInterval { try await staff.touchSession(idHash: idHash, at: now) }
                context.staff = session
            }
        }
        if context.staff == nil, request.uri.path != AdminPaths.login {
            return try Self.refuseAnonymous(request)
        }
        return try await next(request, context)
    }

    static func refuseAnonymous(_ request: Request) throws -> Response {
        if AdminPaths.wantsJSON(request) { throw AdminError(.unauthorized, "you are not signed in (or your session has ended)") }
        var next = request.uri.path
        if let query = request.uri.query, !query.isEmpty { next += "?" + query }
        return redirect(to: loginURL(next: next))
    }

    static func loginURL(next: String?) -> String {
        guard let next = AdminPaths.safeNext(next), next != "/admin" else { return AdminPaths.login }
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&+=?#")
        return AdminPaths.login + "?next=" + (next.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
    }
}

/// A `303 See Other`: after a form post, the browser GETs the new place.
func redirect(to location: String) -> Response {
    Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
}
