import Hummingbird
import Storage

/// A request context the admin panel can run on: it knows the peer's address (rate limits,
/// the audit log) and carries the signed-in member of staff.
public protocol AdminRequestContext: RemoteAddressRequestContext {
    /// Set by `AdminSessionMiddleware` on every `/admin` route once the session is checked.
    var staff: StaffSession? { get set }
}

extension AdminRequestContext {
    /// The signed-in member of staff if their role is at least `role`; otherwise throws the
    /// refusal the panel shows (401 when nobody is signed in, 403 when the role is short).
    /// Handlers call it even behind `RequireRoleMiddleware`: deny by default, twice.
    public func requireStaff(_ role: StaffRole = .agent) throws -> StaffSession {
        guard let staff else { throw AdminError(.unauthorized, "you are not signed in") }
        guard staff.account.role >= role else {
            throw AdminError(.forbidden, "this needs the \(role.rawValue) role or higher; you are signed in as \(staff.account.role.rawValue)")
        }
        return staff
    }
}
