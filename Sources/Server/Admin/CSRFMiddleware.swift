import Hummingbird

/// Refuses state-changing requests that did not come from the panel's own pages: every
/// method but GET and HEAD must come from this site (`Sec-Fetch-Site` not `cross-site`,
/// `Origin`, when sent, this very host) and carry the session's CSRF token, as the form
/// field `_csrf` or the header `X-CSRF-Token`. The login form has no session yet: the
/// same-site check alone guards it.
struct CSRFMiddleware<Context: AdminRequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method == .get || request.method == .head { return try await next(request, context) }
        if let refusal = Self.crossSiteRefusal(request) { throw AdminError(.forbidden, refusal) }
        if request.method == .post, request.uri.path == AdminPaths.login { return try await next(request, context) }
        guard let session = context.staff else { throw AdminError(.unauthorized, "you are not signed in") }
        var request = request
        var token = request.headers[ExtraHeader.xCSRFToken]
        if token == nil, AdminForm.isForm(request) {
            // Signed in: a flow studio draft may be large (the login above reads small forms only).
            token = try await AdminForm.read(&request, upTo: AdminForm.maxDraftBytes).first("_csrf")
        }
        guard let token, !token.isEmpty else {
            throw AdminError(.forbidden, "refused: the request carries no CSRF token (reload the page and try again)")
        }
        guard ConstantTime.equals(token, session.csrfToken) else {
            throw AdminError(.forbidden, "refused: the CSRF token is wrong or from an old session (reload the page and try again)")
        }
        return try await next(request, context)
    }

    /// Why the request looks like it came from another site, or nil.
    static func crossSiteRefusal(_ request: Request) -> String? {
        if request.headers[ExtraHeader.secFetchSite]?.lowercased() == "cross-site" {
            return "refused: the request came from another site (Sec-Fetch-Site: cross-site)"
        }
        guard let origin = request.headers[.origin] else { return nil }
        guard let host = request.head.authority, hostPart(ofOrigin: origin) == normalised(host) else {
            return "refused: the request came from another site (Origin: \(origin.prefix(200)))"
        }
        return nil
    }

    /// `host[:port]` of an origin (`http://Example.com:80` → `example.com`); nil for `null`.
    static func hostPart(ofOrigin origin: String) -> String? {
        guard let schemeEnd = origin.range(of: "://") else { return nil }
        let scheme = origin[..<schemeEnd.lowerBound].lowercased()
        var authority = String(origin[schemeEnd.upperBound...])
        if authority.hasSuffix("/") { authority.removeLast() }
        guard !authority.isEmpty, !authority.contains("/") else { return nil }
        return normalised(authority, defaultPort: scheme == "https" ? "443" : "80")
    }

    /// Lowercased, without a default port (a Host header may or may not name it).
    static func normalised(_ authority: String, defaultPort: String? = nil) -> String {
        var value = authority.lowercased()
        for port in [defaultPort, "80", "443"].compactMap({ $0 }) where value.hasSuffix(":" + port) {
            value.removeLast(port.count + 1)
            break
        }
        return value
    }
}
