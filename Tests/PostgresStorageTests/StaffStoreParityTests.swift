import Foundation
import Logging
import PostgresNIO
import PostgresStorage
import Storage
import TestSupport
import Testing

/// The admin panel's accounts, sessions and audit log answer alike on both databases, and
/// the last enabled admin survives two instances demoting each other at once.
@Suite(
    "Staff accounts on both databases", .timeLimit(.minutes(5)),
    .disabled(if: postgresMissing, "PostgreSQL's binaries are not installed (apt-get install postgresql); CI=1 makes this a failure"), .machineShare)
struct StaffStoreParityTests {
    private let logger = PostgresTestDatabase.logger

    @Test("accounts, roles, sessions and the audit log: the same answers on SQLite and PostgreSQL")
    func sameAnswers() async throws {
        let want = try await Self.transcript(try ReplyflowDatabase())
        let database = try await PostgresTestDatabase.make()
        try await ReplyflowPostgres.withDatabase(database.url, logger: logger) { postgres in
            try await postgres.migrate()
            let got = try await Self.transcript(PostgresStaffStore(postgres))
            #expect(got.count == want.count)
            for (index, (line, expected)) in zip(got, want).enumerated() where line != expected {
                Issue.record("call \(index): PostgreSQL \(line), SQLite \(expected)")
            }
        }
        // The script reaches every rule, so answers that are always empty cannot pass.
        #expect(want.contains("add anna again: a user named anna already exists (user names ignore case)"))
        #expect(want.contains("demote Anna: Anna is the last enabled admin: make another admin first"))
        #expect(want.contains("session after disable: nil"))
        #expect(want.contains { $0.hasPrefix("login ANNA: ") && $0.contains("hash-a") })
    }

    @Test("two admins disabling each other at once on two instances: one succeeds, one admin is left")
    func lastAdminUnderConcurrency() async throws {
        let database = try await PostgresTestDatabase.make()
        try await database.withTwoInstances { first, second in
            let (a, b) = (PostgresStaffStore(first), PostgresStaffStore(second))
            for round in 0..<10 {
                let one = try await a.addAccount(username: "one-\(round)", role: .admin, passwordHash: "h", at: Date())
                let two = try await a.addAccount(username: "two-\(round)", role: .admin, passwordHash: "h", at: Date())
                // Only these two are enabled admins.
                for account in try await a.accounts() where account.id != one.id && account.id != two.id && !account.disabled {
                    try await a.setDisabled(accountID: account.id, true, at: Date())
                }
                async let first: Bool = (try? await a.setDisabled(accountID: one.id, true, at: Date())) != nil
                async let second: Bool = (try? await b.setDisabled(accountID: two.id, true, at: Date())) != nil
                let succeeded = await [first, second].filter { $0 }.count
                #expect(succeeded == 1, "round \(round)")
                let admins = try await a.accounts().filter { $0.role == .admin && !$0.disabled }
                #expect(admins.count == 1, "round \(round)")
            }
        }
    }

    /// The same calls on either database, each answer as one line.
    private static func transcript(_ store: any StaffStore) async throws -> [String] {
        var lines: [String] = []
        func note(_ label: String, _ body: () async throws -> String) async {
            do { lines.append("\(label): \(try await body())") } catch { lines.append("\(label): \(error)") }
        }
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        let limits = StaffSessionLimits(idle: 3_600, absolute: 86_400)
        func describe(_ account: StaffAccount?) -> String {
            account.map { "#\($0.id) \($0.username) \($0.role.rawValue) disabled=\($0.disabled) \($0.createdAt.timeIntervalSince1970)" } ?? "nil"
        }
        func describe(_ session: StaffSession?) -> String {
            session.map { "\(describe($0.account)) csrf=\($0.csrfToken) \($0.createdAt.timeIntervalSince1970) \($0.lastSeenAt.timeIntervalSince1970)" } ?? "nil"
        }
        await note("add Anna") { describe(try await store.addAccount(username: "Anna", role: .admin, passwordHash: "hash-a", at: t0)) }
        await note("add bob") { describe(try await store.addAccount(username: "bob", role: .agent, passwordHash: "hash-b", at: t0 + 1)) }
        await note("add anna again") { describe(try await store.addAccount(username: "anna", role: .agent, passwordHash: "x", at: t0 + 2)) }
        await note("add Carl") { describe(try await store.addAccount(username: "Carl", role: .editor, passwordHash: "hash-c", at: t0 + 3)) }
        await note("accounts") { try await store.accounts().map(describe).joined(separator: "; ") }
        await note("named ANNA") { describe(try await store.account(named: "ANNA")) }
        await note("named nobody") { describe(try await store.account(named: "nobody")) }
        await note("id 2") { describe(try await store.account(id: 2)) }
        await note("id 99") { describe(try await store.account(id: 99)) }
        await note("login ANNA") { try await store.credentials(named: "ANNA").map { "\(describe($0.account)) \($0.passwordHash)" } ?? "nil" }
        await note("login nobody") { try await store.credentials(named: "nobody").map { describe($0.account) } ?? "nil" }
        await note("promote bob") { describe(try await store.setRole(accountID: 2, to: .editor, at: t0 + 4)) }
        await note("demote Anna") { describe(try await store.setRole(accountID: 1, to: .agent, at: t0 + 5)) }
        await note("disable Anna") { describe(try await store.setDisabled(accountID: 1, true, at: t0 + 5)) }
        await note("role of #99") { describe(try await store.setRole(accountID: 99, to: .agent, at: t0 + 5)) }
        await note("make Carl admin") { describe(try await store.setRole(accountID: 3, to: .admin, at: t0 + 6)) }

        await note("session bob") {
            try await store.createSession(
                idHash: "h-bob", accountID: 2, csrfToken: "c1", address: "10.0.0.1", userAgent: String(repeating: "u", count: 600), limits: limits, at: t0 + 10)
            return describe(try await store.session(idHash: "h-bob", limits: limits, at: t0 + 20))
        }
        await note("session Anna") {
            try await store.createSession(idHash: "h-anna", accountID: 1, csrfToken: "c2", address: nil, userAgent: nil, limits: limits, at: t0 + 11)
            return "\(try await store.sessionCount(accountID: 1))"
        }
        await note("touched") {
            try await store.touchSession(idHash: "h-bob", at: t0 + 3_000)
            return describe(try await store.session(idHash: "h-bob", limits: limits, at: t0 + 5_000))
        }
        await note("idle too long") { describe(try await store.session(idHash: "h-anna", limits: limits, at: t0 + 5_000)) }
        await note("unknown session") { describe(try await store.session(idHash: "nope", limits: limits, at: t0 + 20)) }
        await note("disable Anna now") { describe(try await store.setDisabled(accountID: 1, true, at: t0 + 30)) }
        await note("session after disable") { describe(try await store.session(idHash: "h-anna", limits: limits, at: t0 + 31)) }
        await note("sessions of Anna") { "\(try await store.sessionCount(accountID: 1))" }
        await note("new password bob") {
            try await store.setPasswordHash(accountID: 2, "hash-b2", at: t0 + 40)
            return "\(try await store.sessionCount(accountID: 2)) \(try await store.credentials(named: "BOB")?.passwordHash ?? "nil")"
        }
        await note("old sessions dropped at login") {
            try await store.createSession(idHash: "h-c1", accountID: 3, csrfToken: "c3", address: nil, userAgent: nil, limits: limits, at: t0 + 50)
            try await store.createSession(idHash: "h-c2", accountID: 3, csrfToken: "c4", address: nil, userAgent: nil, limits: limits, at: t0 + 100_000)
            return "\(try await store.sessionCount(accountID: 3))"
        }
        await note("logout") {
            try await store.endSession(idHash: "h-c2")
            return "\(try await store.sessionCount(accountID: 3))"
        }
        for n in 0..<5 {
            await note("audit \(n)") {
                try await store.recordAudit(actor: "Anna", action: "action \(n)", detail: "detail \(n)", address: n % 2 == 0 ? "10.0.0.\(n)" : nil, at: t0 + Double(n))
                return "ok"
            }
        }
        await note("audit count") { "\(try await store.auditEntryCount())" }
        for page in 1...3 {
            await note("audit page \(page)") {
                try await store.auditEntries(page: page, limit: 2).map { "\($0.id) \($0.at.timeIntervalSince1970) \($0.actor) \($0.action) \($0.detail) \($0.address ?? "-")" }
                    .joined(separator: "; ")
            }
        }
        return lines
    }
}
