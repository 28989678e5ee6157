import Foundation

/// What a member of staff may do in the admin panel. Each role includes the ones below it:
/// `agent` (the inbox) < `editor` (the inbox and the flows) < `admin` (everything, users
/// and the audit log too). The raw value is stored: never rename a case.
public enum StaffRole: String, Sendable, Comparable, CaseIterable, Codable {
    case agent, editor, admin

    private var rank: Int {
        switch self {
        case .agent: 0
        case .editor: 1
        case .admin: 2
        }
    }

    public static func < (lhs: StaffRole, rhs: StaffRole) -> Bool { lhs.rank < rhs.rank }
}

/// A person's admin-panel account (never its password hash: see `StaffCredentials`).
public struct StaffAccount: Sendable, Equatable, Codable {
    public var id: Int64
    public var username: String
    public var role: StaffRole
    /// A disabled account cannot log in, and its sessions end.
    public var disabled: Bool
    public var createdAt: Date

    public init(id: Int64, username: String, role: StaffRole, disabled: Bool, createdAt: Date) {
        self.id = id
        self.username = username
        self.role = role
        self.disabled = disabled
        self.createdAt = createdAt
    }
}

/// An account with its stored password hash: only what a login checks against.
public struct StaffCredentials: Sendable {
    public var account: StaffAccount
    public var passwordHash: String

    public init(account: StaffAccount, passwordHash: String) {
        self.account = account
        self.passwordHash = passwordHash
    }
}

/// A signed-in browser: the account (as it is now: a role change applies at once) and the
/// session's CSRF token, which every state-changing request must carry.
public struct StaffSession: Sendable, Equatable {
    public var account: StaffAccount
    public var csrfToken: String
    public var createdAt: Date
    public var lastSeenAt: Date

    public init(account: StaffAccount, csrfToken: String, createdAt: Date, lastSeenAt: Date) {
        self.account = account
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
    }
}

/// How long a session lasts: `idle` without a request, `absolute` since it began.
public struct StaffSessionLimits: Sendable, Equatable {
    public var idle: TimeInterval
    public var absolute: TimeInterval

    public init(idle: TimeInterval, absolute: TimeInterval) {
        self.idle = idle
        self.absolute = absolute
    }

    /// Whether a session begun at `createdAt` and last seen at `lastSeenAt` is over at `now`.
    public func hasExpired(createdAt: Date, lastSeenAt: Date, now: Date) -> Bool {
        now.timeIntervalSince(lastSeenAt) >= idle || now.timeIntervalSince(createdAt) >= absolute
    }
}

/// One line of the audit log: who did what, when, from where. Append-only.
public struct AuditEntry: Sendable, Equatable {
    public var id: Int64
    public var at: Date
    /// The account's username, or "command line" for the `replyflow users` commands.
    public var actor: String
    /// What happened: `login`, `login failed`, `user added`, `role changed`, ...
    public var action: String
    /// What it was done to (a username, a message id); never a password or token.
    public var detail: String
    /// The client's address (nil from the command line).
    public var address: String?

    public init(id: Int64, at: Date, actor: String, action: String, detail: String, address: String?) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.detail = detail
        self.address = address
    }
}

/// Why a change to the staff accounts was refused; each says so in a sentence for people.
public enum StaffAccountError: Error, Equatable, CustomStringConvertible {
    case duplicateUsername(String)
    case unknownAccount(String)
    /// The change would leave no enabled admin: nobody could manage accounts any more.
    case lastAdmin(String)

    public var description: String {
        switch self {
        case .duplicateUsername(let name): "a user named \(name) already exists (user names ignore case)"
        case .unknownAccount(let name): "there is no user \(name)"
        case .lastAdmin(let name): "\(name) is the last enabled admin: make another admin first"
        }
    }
}
