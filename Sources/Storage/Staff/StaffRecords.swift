import Foundation
import GRDB

// Rows of the staff tables read by column name into the public types.

extension StaffAccount: FetchableRecord {
    /// Reads `id, username, role, disabled, created_at` of `staff_accounts`. An unknown role
    /// (written by a newer version) reads as `agent`: the least it could be.
    public init(row: Row) {
        self.init(
            id: row["id"], username: row["username"], role: StaffRole(rawValue: row["role"]) ?? .agent, disabled: row["disabled"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]))
    }

    static let columns = "staff_accounts.id, staff_accounts.username, staff_accounts.role, staff_accounts.disabled, staff_accounts.created_at"
}

extension AuditEntry: FetchableRecord {
    public init(row: Row) {
        self.init(
            id: row["id"], at: Date(timeIntervalSince1970: row["at"]), actor: row["actor"], action: row["action"], detail: row["detail"],
            address: row["address"])
    }
}

extension StaffSession {
    /// A `staff_sessions` row joined with its account's columns.
    init(row: Row) {
        self.init(
            account: StaffAccount(row: row), csrfToken: row["csrf_token"], createdAt: Date(timeIntervalSince1970: row["session_created_at"]),
            lastSeenAt: Date(timeIntervalSince1970: row["last_seen_at"]))
    }
}
