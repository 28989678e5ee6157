import ArgumentParser
import Foundation
import PostgresStorage
import Server
import Storage

/// `replyflow users ...`: the admin panel's accounts, on the server's database. Safe while
/// the server runs (SQLite's WAL; the serve lock is not taken). Each change is audited
/// with the actor "command line".
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Manage the admin panel's accounts (safe while the server runs).",
        discussion: """
            Make the first admin with `replyflow users add alice --role admin`; the password
            is asked for on the terminal (twice, not shown), or read from the first line of
            standard input with --password-stdin. Roles: agent (the inbox), editor (the inbox
            and the flows), admin (everything, users and the audit log too). On PostgreSQL
            (--db postgres://... or DATABASE_URL) the accounts are those of every instance.
            """,
        subcommands: [Add.self, List.self, SetRole.self, Disable.self, Enable.self, ResetPassword.self]
    )

    /// The audit log's actor for these commands.
    static let actor = "command line"

    /// What every `users` subcommand takes.
    struct Common: ParsableArguments {
        @OptionGroup var database: ServerDatabaseOptions

        @Option(name: .customLong("bcrypt-cost"), help: .hidden)
        var bcryptCost: Int?

        /// Runs `body` on the accounts of the server's database: the SQLite file (made and
        /// migrated when new, for the first admin before the first start), or the PostgreSQL
        /// database of `--db postgres://...` or `DATABASE_URL` (migrated too).
        func withStore(_ body: (any StaffStore) async throws -> Void) async throws {
            switch try database.location() {
            case .sqlite(let path):
                let store: ReplyflowDatabase
                do {
                    store = try ReplyflowDatabase(path: path)
                } catch {
                    throw CommandFailure("cannot open the database \(path): \(error)")
                }
                try await body(store)
            case .postgres(let url, let setting):
                try await ServerDatabaseLocation.withPostgres(url, setting: setting) { postgres in
                    do {
                        try await postgres.migrate()
                    } catch {
                        throw CommandFailure("\(error)")
                    }
                    try await body(PostgresStaffStore(postgres))
                }
            }
        }

        /// `--bcrypt-cost`, else STAFF_BCRYPT_COST, else 12.
        func hasher(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PasswordHasher {
            let raw = bcryptCost.map(String.init) ?? environment["STAFF_BCRYPT_COST"]
            guard let raw, !raw.isEmpty else { return PasswordHasher() }
            guard let cost = Int(raw), (4...31).contains(cost) else { throw CommandFailure("STAFF_BCRYPT_COST=\(raw) is not a whole number between 4 and 31") }
            return PasswordHasher(cost: cost)
        }
    }

    // MARK: The commands as a library (tests call these)

    static func add(username: String, role: StaffRole, password: String, database: any StaffStore, hasher: PasswordHasher, console: Console) async throws {
        if let problem = StaffRules.usernameProblem(username) { throw CommandFailure(problem) }
        if let problem = StaffRules.passwordProblem(password) { throw CommandFailure(problem) }
        let hash = try await hasher.hash(password)
        do {
            _ = try await database.addAccount(username: username, role: role, passwordHash: hash)
        } catch let error as StaffAccountError {
            throw CommandFailure(error.description)
        }
        try await database.recordAudit(actor: actor, action: "user added", detail: "\(username) as \(role.rawValue)", address: nil)
        console.line("Added \(username) (\(role.rawValue)).")
    }

    static func list(database: any StaffStore, console: Console) async throws {
        let accounts = try await database.accounts()
        guard !accounts.isEmpty else {
            console.line("No users yet. Make the first admin with: replyflow users add NAME --role admin")
            return
        }
        let width = max(4, accounts.map(\.username.count).max() ?? 0)
        console.line(pad("NAME", width) + "  ROLE    STATE     CREATED")
        let formatter = ISO8601DateFormatter()
        for account in accounts {
            console.line(
                pad(account.username, width) + "  " + pad(account.role.rawValue, 6) + "  " + pad(account.disabled ? "disabled" : "enabled", 8) + "  "
                    + formatter.string(from: account.createdAt))
        }
    }

    static func setRole(username: String, role: StaffRole, database: any StaffStore, console: Console) async throws {
        let account = try await existing(username, in: database)
        do {
            try await database.setRole(accountID: account.id, to: role)
        } catch let error as StaffAccountError {
            throw CommandFailure(error.description)
        }
        try await database.recordAudit(
            actor: actor, action: "role changed", detail: "\(account.username): \(account.role.rawValue) → \(role.rawValue)", address: nil)
        console.line("\(account.username) is now \(role.rawValue).")
    }

    static func setDisabled(username: String, _ disabled: Bool, database: any StaffStore, console: Console) async throws {
        let account = try await existing(username, in: database)
        do {
            try await database.setDisabled(accountID: account.id, disabled)
        } catch let error as StaffAccountError {
            throw CommandFailure(error.description)
        }
        try await database.recordAudit(actor: actor, action: disabled ? "user disabled" : "user enabled", detail: account.username, address: nil)
        console.line(disabled ? "Disabled \(account.username); their sessions ended." : "Enabled \(account.username).")
    }

    static func resetPassword(username: String, password: String, database: any StaffStore, hasher: PasswordHasher, console: Console) async throws {
        let account = try await existing(username, in: database)
        if let problem = StaffRules.passwordProblem(password) { throw CommandFailure(problem) }
        try await database.setPasswordHash(accountID: account.id, try await hasher.hash(password))
        try await database.recordAudit(actor: actor, action: "password reset", detail: account.username, address: nil)
        console.line("Reset the password of \(account.username); their sessions ended.")
    }

    static func existing(_ username: String, in database: any StaffStore) async throws -> StaffAccount {
        guard let account = try await database.account(named: username) else {
            throw CommandFailure("there is no user \(username) (see `replyflow users list`)")
        }
        return account
    }

    static func role(_ name: String) throws -> StaffRole {
        guard let role = StaffRules.role(named: name) else { throw ValidationError("unknown role \"\(name)\": \(StaffRules.unknownRoleHint)") }
        return role
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
