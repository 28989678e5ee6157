import Foundation
import Hummingbird
import Logging
import Storage

/// Writes the audit log for panel actions: who (the signed-in username), what, to what,
/// and from which address (honouring `TRUSTED_PROXIES`). Never give it a password, a
/// session id or a token.
public struct AdminAuditor: Sendable {
    public let staff: any StaffStore
    public let clientAddress: ClientAddress
    let clock: @Sendable () -> Date
    let logger: Logger

    public init(staff: any StaffStore, clientAddress: ClientAddress, clock: @escaping @Sendable () -> Date = Date.init, logger: Logger) {
        self.staff = staff
        self.clientAddress = clientAddress
        self.clock = clock
        self.logger = logger
    }

    /// The client's address of a request.
    public func address(of request: Request, context: some RemoteAddressRequestContext) -> String {
        clientAddress.of(request, peer: context.remoteAddress)
    }

    /// Appends an entry by `actor` (a username). A failure to write it fails the request:
    /// an action that cannot be audited is not done silently.
    public func record(_ action: String, detail: String, actor: String, request: Request, context: some RemoteAddressRequestContext) async throws {
        try await staff.recordAudit(actor: actor, action: action, detail: detail, address: address(of: request, context: context), at: clock())
    }

    /// Appends an entry by the signed-in member of staff.
    public func record(_ action: String, detail: String, by session: StaffSession, request: Request, context: some RemoteAddressRequestContext) async throws {
        try await record(action, detail: detail, actor: session.account.username, request: request, context: context)
    }
}
