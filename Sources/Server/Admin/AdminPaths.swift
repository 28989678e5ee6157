import Hummingbird

/// Which part of `/admin` a path is in.
enum AdminPaths {
    static func isAdmin(_ path: String) -> Bool { path == "/admin" || path.hasPrefix("/admin/") }
    /// JSON endpoints for the pages' scripts: refusals are JSON here, not pages or redirects.
    static func isAPI(_ path: String) -> Bool { path == "/admin/api" || path.hasPrefix("/admin/api/") }
    static let login = "/admin/login"

    /// Whether a refusal should be JSON: the `/admin/api/` endpoints, and the panel's own
    /// scripts posting a form in the background (they ask for `application/json`), which
    /// must see a refusal as one, not follow a redirect to a page that answers 200.
    static func wantsJSON(_ request: Request) -> Bool {
        isAPI(request.uri.path) || (request.headers[.accept] ?? "").contains("application/json")
    }

    /// `next` after a login, if it is a path inside the panel (no other site, no scheme,
    /// no `//host`, no backslash tricks); otherwise nil.
    static func safeNext(_ next: String?) -> String? {
        guard let next, next.hasPrefix("/admin"), !next.hasPrefix("//"), !next.contains("\\"),
            next.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }), next.count <= 2048
        else { return nil }
        let rest = next.dropFirst("/admin".count)
        guard rest.isEmpty || rest.hasPrefix("/") || rest.hasPrefix("?") else { return nil }
        return next
    }
}
