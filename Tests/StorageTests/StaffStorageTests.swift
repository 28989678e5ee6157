import Foundation
import GRDB
import Testing

@testable import Storage
import TestSupport

@Suite("Storage: staff accounts, sessions, audit log", .machineShare)
struct StaffStorageTests {
    let start = Date(timeIntervalSince1970: 1_767_261_600)
    let limits = StaffSessionLimits(idle: 3600, absolute: 12 * 3600)

    @Test("roles are ordered agent < editor < admin")
    func roleOrder() {
        #expect(StaffRole.agent < .editor && StaffRole.editor < .admin)
        #expect(StaffRole.allCases.sorted() == [.agent, .editor, .admin])
    }

    @Test("accounts: added, found by name ignoring case, listed; a duplicate name is refused")
    func accounts() async throws {
        let database = try ReplyflowDatabase()
        let alice = try await database.addAccount(username: "alice", role: .admin, passwordHash: "h1", at: start)
        _ = try await database.addAccount(username: "bob", role: .agent, passwordHash: "h2", at: start)
        #expect(try await database.account(named: "ALICE") == alice)
        #expect(try await database.account(id: alice.id)?.username == "alice")
        #expect(try await database.accounts().map(\.username) == ["alice", "bob"])
        #expect(try await database.credentials(named: "Alice")?.passwordHash == "h1")
        await #expect(throws: StaffAccountError.duplicateUsername("Alice")) {
            _ = try await database.addAccount(username: "Alice", role: .agent, passwordHash: "h3")
        }
    }

    @Test("the last enabled admin can be neither demoted nor disabled; with a second admin both work")
    func lastAdmin() async throws {
        let database = try ReplyflowDatabase()
        let alice = try await database.addAccount(username: "alice", role: .admin, passwordHash: "h")
        await #expect(throws: StaffAccountError.lastAdmin("alice")) { try await database.setRole(accountID: alice.id, to: .editor) }
        await #expect(throws: StaffAccountError.lastAdmin("alice")) { try await database.setDisabled(accountID: alice.id, true) }
        let carol = try await database.addAccount(username: "carol", role: .admin, passwordHash: "h")
        try await database.setDisabled(accountID: carol.id, true)
        // A disabled admin does not count.
        await #expect(throws: StaffAccountError.lastAdmin("alice")) { try await database.setRole(accountID: alice.id, to: .agent) }
        try await database.setDisabled(accountID: carol.id, false)
        #expect(try await database.setRole(accountID: alice.id, to: .editor).role == .editor)
        #expect(try await database.account(id: alice.id)?.role == .editor)
    }

    @Test("a session is found by its hash with its account as it is now, and ends when idle, too old, logged out or disabled")
    func sessions() async throws {
        let database = try ReplyflowDatabase()
        let bob = try await database.addAccount(username: "bob", role: .agent, passwordHash: "h")
        _ = try await database.addAccount(username: "alice", role: .admin, passwordHash: "h")
        try await database.createSession(idHash: "s1", accountID: bob.id, csrfToken: "t1", address: "127.0.0.1", userAgent: "test", limits: limits, at: start)
        let found = try #require(try await database.session(idHash: "s1", limits: limits, at: start.addingTimeInterval(60)))
        #expect(found.account.username == "bob" && found.csrfToken == "t1" && found.createdAt == start)
        #expect(try await database.session(idHash: "nope", limits: limits, at: start) == nil)
        // Idle: an hour without a request.
        #expect(try await database.session(idHash: "s1", limits: limits, at: start.addingTimeInterval(3600)) == nil)
        // Touched every 50 minutes it lives, up to the absolute limit.
        var now = start
        for _ in 0..<14 {
            now += 50 * 60
            if try await database.session(idHash: "s1", limits: limits, at: now) == nil { break }
            try await database.touchSession(idHash: "s1", at: now)
        }
        #expect(now.timeIntervalSince(start) >= 12 * 3600 - 50 * 60)
        #expect(try await database.session(idHash: "s1", limits: limits, at: start.addingTimeInterval(12 * 3600)) == nil)

        try await database.createSession(idHash: "s2", accountID: bob.id, csrfToken: "t2", address: nil, userAgent: nil, limits: limits, at: start)
        try await database.setRole(accountID: bob.id, to: .editor)
        #expect(try await database.session(idHash: "s2", limits: limits, at: start)?.account.role == .editor)
        try await database.endSession(idHash: "s2")
        #expect(try await database.session(idHash: "s2", limits: limits, at: start) == nil)

        try await database.createSession(idHash: "s3", accountID: bob.id, csrfToken: "t3", address: nil, userAgent: nil, limits: limits, at: start)
        try await database.setDisabled(accountID: bob.id, true)
        #expect(try await database.session(idHash: "s3", limits: limits, at: start) == nil)
        #expect(try await database.sessionCount(accountID: bob.id) == 0)
    }

    @Test("a new password hash ends the account's sessions")
    func passwordResetEndsSessions() async throws {
        let database = try ReplyflowDatabase()
        let bob = try await database.addAccount(username: "bob", role: .agent, passwordHash: "old")
        try await database.createSession(idHash: "s1", accountID: bob.id, csrfToken: "t", address: nil, userAgent: nil, limits: limits, at: start)
        try await database.setPasswordHash(accountID: bob.id, "new")
        #expect(try await database.credentials(named: "bob")?.passwordHash == "new")
        #expect(try await database.session(idHash: "s1", limits: limits, at: start) == nil)
    }

    @Test("a login drops sessions that are over, so the table does not grow")
    func expiredSessionsArePruned() async throws {
        let database = try ReplyflowDatabase()
        let bob = try await database.addAccount(username: "bob", role: .agent, passwordHash: "h")
        try await database.createSession(idHash: "old", accountID: bob.id, csrfToken: "t", address: nil, userAgent: nil, limits: limits, at: start)
        try await database.createSession(
            idHash: "new", accountID: bob.id, csrfToken: "t", address: nil, userAgent: nil, limits: limits, at: start.addingTimeInterval(2 * 3600))
        #expect(try await database.sessionCount(accountID: bob.id) == 1)
    }

    @Test("the audit log pages newest first")
    func audit() async throws {
        let database = try ReplyflowDatabase()
        for index in 1...5 {
            try await database.recordAudit(actor: "alice", action: "login", detail: "entry \(index)", address: "10.0.0.\(index)", at: start + Double(index))
        }
        try await database.recordAudit(actor: "command line", action: "user added", detail: "bob as agent", address: nil, at: start + 10)
        #expect(try await database.auditEntryCount() == 6)
        let first = try await database.auditEntries(page: 1, limit: 4)
        #expect(first.map(\.detail) == ["bob as agent", "entry 5", "entry 4", "entry 3"])
        #expect(first[0].actor == "command line" && first[0].address == nil)
        #expect(try await database.auditEntries(page: 2, limit: 4).map(\.detail) == ["entry 2", "entry 1"])
    }
}
