import Foundation
import Hummingbird
import Logging
import Storage

/// The admin panel under `/admin`: login, the users and audit pages, the assets, and the
/// route groups other panel pages are added to (`AdminRouteGroups`).
///
/// Layers, outermost first: `AdminResponseMiddleware` (on the router: error pages and
/// security headers), `AdminSessionMiddleware` (who is signed in; deny by default),
/// `CSRFMiddleware` (state changes come from our pages), then `RequireRoleMiddleware` per
/// group. `/api/*` is untouched: it stays key-only, no cookie.
struct AdminController<Context: AdminRequestContext> {
    let staff: any StaffStore
    let pages: AdminPages
    let hasher: PasswordHasher
    let auditor: AdminAuditor
    let limits: StaffSessionLimits
    let clock: @Sendable () -> Date
    let logger: Logger

    init(staff: any StaffStore, pages: AdminPages, configuration: ServerConfiguration, clock: @escaping @Sendable () -> Date, logger: Logger) {
        self.staff = staff
        self.pages = pages
        hasher = PasswordHasher(cost: configuration.staffBcryptCost)
        auditor = AdminAuditor(staff: staff, clientAddress: ClientAddress(trustedProxies: configuration.trustedProxies), clock: clock, logger: logger)
        limits = StaffSessionLimits(
            idle: TimeInterval(configuration.adminSessionIdleMinutes * 60), absolute: TimeInterval(configuration.adminSessionMaxHours * 3600))
        self.clock = clock
        self.logger = logger
    }

    /// Failed sign-ins allowed in `window` seconds.
    static var failuresPerAccount: Int { 10 }
    static var failuresPerAddress: Int { 30 }
    static var failureWindow: Double { 15 * 60 }

    /// Adds the panel's routes; returns the groups further pages go in.
    @discardableResult
    func addRoutes(to router: Router<Context>) -> AdminRouteGroups<Context> {
        let admin = router.group("admin")
        AdminAssetRoutes<Context>(pages: pages).addRoutes(to: admin)
        let signedIn = admin.group()
            .add(middleware: AdminSessionMiddleware<Context>(staff: staff, limits: limits, clock: clock))
            .add(middleware: CSRFMiddleware<Context>())
        AdminLoginRoutes<Context>(
            staff: staff, pages: pages, hasher: hasher, auditor: auditor, limits: limits,
            failuresPerAddress: RateLimiter(limit: Self.failuresPerAddress, perSeconds: Self.failureWindow, clock: clock),
            failuresPerAccount: RateLimiter(limit: Self.failuresPerAccount, perSeconds: Self.failureWindow, clock: clock), clock: clock, logger: logger
        ).addRoutes(to: signedIn)
        let groups = AdminRouteGroups(signedIn: signedIn, pages: pages, auditor: auditor)
        // Who is signed in, for the pages' scripts (and the CSRF token they send back).
        signedIn.get("api/me") { _, context in
            let session = try context.requireStaff()
            return JSONBody.response(["username": session.account.username, "role": session.account.role.rawValue, "csrfToken": session.csrfToken])
        }
        let admins = groups.requiring(.admin)
        AdminUsersRoutes<Context>(staff: staff, pages: pages, hasher: hasher, auditor: auditor, clock: clock).addRoutes(to: admins)
        AdminAuditRoutes<Context>(staff: staff, pages: pages).addRoutes(to: admins)
        return groups
    }
}

/// Where panel pages are added: every route in them has a checked session and the CSRF
/// check; `requiring(role)` adds the role check.
struct AdminRouteGroups<Context: AdminRequestContext> {
    /// `/admin/...` for anyone signed in.
    let signedIn: RouterGroup<Context>
    /// The pages and layout the panel renders with (`render`, `assetURL`).
    let pages: AdminPages
    /// The audit log writer, with the client address as `TRUSTED_PROXIES` tells it.
    let auditor: AdminAuditor

    /// `/admin/...` for members of staff with at least `role`.
    func requiring(_ role: StaffRole) -> RouterGroup<Context> {
        signedIn.group().add(middleware: RequireRoleMiddleware<Context>(role: role))
    }
}
