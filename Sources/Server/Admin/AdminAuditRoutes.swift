import Hummingbird
import Storage

/// `GET /admin/audit` (admins only): the audit log, newest first, 50 a page, read-only.
struct AdminAuditRoutes<Context: AdminRequestContext> {
    let staff: any StaffStore
    let pages: AdminPages
    static var pageSize: Int { 50 }

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("audit") { request, context in try await page(request, context: context) }
    }

    func page(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.admin)
        var page = 1
        if let raw = request.uri.queryParameters.get("page") {
            guard let number = Int(raw), number >= 1, number <= 1_000_000 else { throw AdminError(.badRequest, "page must be a whole number from 1") }
            page = number
        }
        let total = try await staff.auditEntryCount()
        let entries = try await staff.auditEntries(page: page, limit: Self.pageSize).map { entry -> [String: Any] in
            ["at": AdminDates.format(entry.at), "actor": entry.actor, "action": entry.action, "detail": entry.detail, "address": entry.address ?? ""]
        }
        let hasOlder = page * Self.pageSize < total
        let values: [String: Any] = [
            "entries": entries, "total": total, "page": page, "hasNewer": page > 1, "previousPage": page - 1, "hasOlder": hasOlder, "nextPage": page + 1,
        ]
        return try pages.render("audit", title: "Audit log", context: values, session: session)
    }
}
