import Hummingbird

/// `/admin` on PostgreSQL: the panel (accounts, the inbox, the flow studio) still keeps
/// its data in the SQLite file, so on a shared database every page answers 503 with the
/// reason (a page, or JSON under `/admin/api/`, through `AdminResponseMiddleware`).
enum AdminUnavailableOnPostgres {
    static let message = "The admin panel runs on SQLite only for now: with DATABASE_URL use the command line (docs/scaling.md)"

    static func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        for path in ["/admin", "/admin/**"] {
            router.on(RouterPath(path), method: .get) { _, _ -> Response in throw APIError(.serviceUnavailable, message) }
            router.on(RouterPath(path), method: .post) { _, _ -> Response in throw APIError(.serviceUnavailable, message) }
        }
    }
}
