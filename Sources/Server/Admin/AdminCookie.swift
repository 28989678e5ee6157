import Hummingbird

/// The session cookie: `HttpOnly` (no script reads it), `SameSite=Lax` (not sent with
/// another site's form posts), `Path=/admin`, and `Secure` when the browser came over HTTPS.
enum AdminCookie {
    static let name = "replyflow_session"

    static func session(_ value: String, secure: Bool) -> Cookie {
        Cookie(name: name, value: value, path: "/admin", secure: secure, httpOnly: true, sameSite: .lax)
    }

    /// Tells the browser to forget the cookie.
    static func cleared(secure: Bool) -> Cookie {
        Cookie(name: name, value: "", maxAge: 0, path: "/admin", secure: secure, httpOnly: true, sameSite: .lax)
    }

    /// The well-formed session id the request carries, if any.
    static func value(in request: Request) -> String? {
        guard let value = request.cookies[name]?.value, SessionToken.isWellFormed(value) else { return nil }
        return value
    }
}
