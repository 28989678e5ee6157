import Foundation
import Hummingbird
import Logging
import Storage

/// `GET/POST /admin/login` and `POST /admin/logout`.
///
/// A login gets a new session id every time (an id planted in the browser beforehand is
/// worth nothing). Failed logins are counted per address and per account; while either is
/// over its limit an attempt is answered 429 without checking the password. Every
/// attempt is logged and audited, never with the password.
struct AdminLoginRoutes<Context: AdminRequestContext> {
    let staff: any StaffStore
    let pages: AdminPages
    let hasher: PasswordHasher
    let auditor: AdminAuditor
    let limits: StaffSessionLimits
    let failuresPerAddress: RateLimiter
    let failuresPerAccount: RateLimiter
    let clock: @Sendable () -> Date
    let logger: Logger

    static var wrongCredentials: String { "wrong user name or password" }

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("login") { request, context in try showForm(request, context: context) }
        group.post("login") { request, context in try await logIn(request, context: context) }
        group.post("logout") { request, context in try await logOut(request, context: context) }
    }

    func showForm(_ request: Request, context: Context) throws -> Response {
        let next = AdminPaths.safeNext(request.uri.queryParameters.get("next"))
        if context.staff != nil { return redirect(to: next ?? "/admin") }
        return try form(next: next, username: "", error: nil, status: .ok)
    }

    func form(next: String?, username: String, error: String?, status: HTTPResponse.Status) throws -> Response {
        var values: [String: Any] = ["next": next ?? "", "username": username]
        if let error { values["error"] = error }
        return try pages.render("login", title: "Sign in", context: values, session: nil, status: status)
    }

    func logIn(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let fields = try await AdminForm.read(&request)
        let username = (fields.first("username") ?? "").trimmingCharacters(in: .whitespaces)
        let password = fields.first("password") ?? ""
        let next = AdminPaths.safeNext(fields.first("next"))
        let address = auditor.address(of: request, context: context)
        // Names are case-insensitive: "Alice" and "alice" share one count.
        let accountKey = username.lowercased()
        let shownName = String(username.prefix(StaffRules.maximumUsernameLength))

        if let wait = failuresPerAddress.wait(for: address) ?? failuresPerAccount.wait(for: accountKey) {
            logger.warning("login refused: too many failed attempts", metadata: ["username": "\(shownName)", "address": "\(address)"])
            try await auditor.record("login refused", detail: "too many failed attempts for \(shownName)", actor: shownName, request: request, context: context)
            throw AdminError(.tooManyRequests, "too many failed sign-ins; try again in \(Self.minutes(wait))", retryAfter: wait)
        }

        var credentials: StaffCredentials?
        if !username.isEmpty { credentials = try await staff.credentials(named: username) }
        let usable = credentials.flatMap { $0.account.disabled ? nil : $0 }
        let passwordFits = password.utf8.count <= StaffRules.maximumPasswordBytes * 16
        guard try await hasher.verify(passwordFits ? password : "", against: usable?.passwordHash), passwordFits, let account = usable?.account else {
            _ = failuresPerAddress.check(address)
            _ = failuresPerAccount.check(accountKey)
            logger.warning("login failed", metadata: ["username": "\(shownName)", "address": "\(address)"])
            try await auditor.record("login failed", detail: shownName, actor: shownName, request: request, context: context)
            return try form(next: next, username: shownName, error: Self.wrongCredentials, status: .unauthorized)
        }

        // The session the browser had (another account's, say) ends: one browser, one session.
        if let old = AdminCookie.value(in: request) { try await staff.endSession(idHash: SessionToken.hash(old)) }
        let sessionID = SessionToken.random()
        try await staff.createSession(
            idHash: SessionToken.hash(sessionID), accountID: account.id, csrfToken: SessionToken.random(), address: address,
            userAgent: request.headers[.userAgent], limits: limits, at: clock())
        logger.info("login", metadata: ["username": "\(account.username)", "address": "\(address)"])
        try await auditor.record("login", detail: account.username, actor: account.username, request: request, context: context)
        var response = redirect(to: next ?? "/admin")
        response.setCookie(AdminCookie.session(sessionID, secure: auditor.clientAddress.cameOverHTTPS(request, peer: context.remoteAddress)))
        return response
    }

    func logOut(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff()
        if let cookie = AdminCookie.value(in: request) { try await staff.endSession(idHash: SessionToken.hash(cookie)) }
        try await auditor.record("logout", detail: session.account.username, by: session, request: request, context: context)
        var response = redirect(to: AdminPaths.login)
        response.setCookie(AdminCookie.cleared(secure: auditor.clientAddress.cameOverHTTPS(request, peer: context.remoteAddress)))
        return response
    }

    static func minutes(_ seconds: Int) -> String {
        seconds < 60 ? "\(seconds) s" : "\((seconds + 59) / 60) min"
    }
}
