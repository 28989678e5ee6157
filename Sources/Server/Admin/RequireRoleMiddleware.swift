import Hummingbird
import Storage

/// Lets through only members of staff whose role is at least `role`; a signed-in person
/// without it gets a 403 page (JSON under `/admin/api/`). Behind `AdminSessionMiddleware`.
struct RequireRoleMiddleware<Context: AdminRequestContext>: RouterMiddleware {
    let role: StaffRole

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.staff != nil else { return try AdminSessionMiddleware<Context>.refuseAnonymous(request) }
        _ = try context.requireStaff(role)
        return try await next(request, context)
    }
}
