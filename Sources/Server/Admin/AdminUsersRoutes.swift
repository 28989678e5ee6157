import Foundation
import Hummingbird
import Storage

/// `/admin/users` (admins only): the accounts, and forms to add one, change a role,
/// disable or enable, and reset a password. Each change is audited with the target's name.
/// A mistake (a bad name, a short password, the last admin) shows the page again with
/// the reason and a 4xx status.
struct AdminUsersRoutes<Context: AdminRequestContext> {
    let staff: any StaffStore
    let pages: AdminPages
    let hasher: PasswordHasher
    let auditor: AdminAuditor
    let clock: @Sendable () -> Date

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("users") { request, context in
            let notice = request.uri.queryParameters.get("done").flatMap { Self.notices[String($0)] }
            return try await page(context: context, notice: notice)
        }
        group.post("users") { request, context in try await addUser(request, context: context) }
        group.post("users/:id/role") { request, context in try await changeRole(request, context: context) }
        group.post("users/:id/disable") { request, context in try await setDisabled(true, request, context: context) }
        group.post("users/:id/enable") { request, context in try await setDisabled(false, request, context: context) }
        group.post("users/:id/password") { request, context in try await resetPassword(request, context: context) }
    }

    /// What `?done=` says after a change (fixed sentences, so a link cannot put words on the page).
    static var notices: [String: String] {
        [
            "added": "User added.", "role": "Role changed.", "disabled": "User disabled; their sessions ended.", "enabled": "User enabled.",
            "password": "Password reset; their sessions ended.",
        ]
    }

    func page(context: Context, error: String? = nil, notice: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let session = try context.requireStaff(.admin)
        let accounts = try await staff.accounts().map { account -> [String: Any] in
            [
                "id": String(account.id), "username": account.username, "role": account.role.rawValue, "disabled": account.disabled,
                "created": AdminDates.format(account.createdAt),
                "roles": StaffRole.allCases.map { ["name": $0.rawValue, "selected": $0 == account.role] },
            ]
        }
        var values: [String: Any] = ["accounts": accounts, "allRoles": StaffRole.allCases.map(\.rawValue)]
        if let error { values["error"] = error }
        if let notice { values["notice"] = notice }
        return try pages.render("users", title: "Users", context: values, session: session, status: status)
    }

    func addUser(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.admin)
        var request = request
        let form = try await AdminForm.read(&request)
        let username = (form.first("username") ?? "").trimmingCharacters(in: .whitespaces)
        let password = form.first("password") ?? ""
        if let problem = StaffRules.usernameProblem(username) ?? StaffRules.passwordProblem(password) {
            return try await page(context: context, error: problem, status: .badRequest)
        }
        guard let role = StaffRules.role(named: form.first("role") ?? "") else {
            return try await page(context: context, error: "choose a role: \(StaffRules.unknownRoleHint)", status: .badRequest)
        }
        let hash = try await hasher.hash(password)
        do {
            _ = try await staff.addAccount(username: username, role: role, passwordHash: hash, at: clock())
        } catch let error as StaffAccountError {
            return try await page(context: context, error: error.description, status: .conflict)
        }
        try await auditor.record("user added", detail: "\(username) as \(role.rawValue)", by: session, request: request, context: context)
        return redirect(to: "/admin/users?done=added")
    }

    func changeRole(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.admin)
        var request = request
        let form = try await AdminForm.read(&request)
        let account = try await target(context)
        guard let role = StaffRules.role(named: form.first("role") ?? "") else {
            return try await page(context: context, error: "choose a role: \(StaffRules.unknownRoleHint)", status: .badRequest)
        }
        do {
            try await staff.setRole(accountID: account.id, to: role, at: clock())
        } catch let error as StaffAccountError {
            return try await page(context: context, error: error.description, status: .conflict)
        }
        try await auditor.record(
            "role changed", detail: "\(account.username): \(account.role.rawValue) → \(role.rawValue)", by: session, request: request, context: context)
        return redirect(to: "/admin/users?done=role")
    }

    func setDisabled(_ disabled: Bool, _ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.admin)
        let account = try await target(context)
        do {
            try await staff.setDisabled(accountID: account.id, disabled, at: clock())
        } catch let error as StaffAccountError {
            return try await page(context: context, error: error.description, status: .conflict)
        }
        try await auditor.record(disabled ? "user disabled" : "user enabled", detail: account.username, by: session, request: request, context: context)
        return redirect(to: "/admin/users?done=\(disabled ? "disabled" : "enabled")")
    }

    func resetPassword(_ request: Request, context: Context) async throws -> Response {
        let session = try context.requireStaff(.admin)
        var request = request
        let form = try await AdminForm.read(&request)
        let account = try await target(context)
        if let problem = StaffRules.passwordProblem(form.first("password") ?? "") {
            return try await page(context: context, error: "\(account.username): \(problem)", status: .badRequest)
        }
        try await staff.setPasswordHash(accountID: account.id, try await hasher.hash(form.first("password") ?? ""), at: clock())
        try await auditor.record("password reset", detail: account.username, by: session, request: request, context: context)
        // Resetting one's own password ends one's own session too: sign in again.
        return redirect(to: account.id == session.account.id ? AdminPaths.login : "/admin/users?done=password")
    }

    /// The account named by the `:id` in the path.
    func target(_ context: Context) async throws -> StaffAccount {
        guard let raw = context.parameters.get("id"), let id = Int64(raw) else { throw AdminError(.badRequest, "the user id is not a number") }
        guard let account = try await staff.account(id: id) else { throw AdminError(.notFound, "there is no user #\(id)") }
        return account
    }
}
