import Foundation
import Hummingbird
import HummingbirdTesting
import Storage
import Testing

@testable import Server
import TestSupport

/// The users page (admins only) and the audit log page.
@Suite("Admin: users and audit pages", .machineShare)
struct AdminUsersTests {
    @Test("an admin adds a user, changes a role, disables (their sessions end), enables and resets a password; each is audited")
    func adminManagesUsers() async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let app = try admin.build()
        try await AdminHarness.addAccounts(["alice": .admin], to: app.database)
        try await app.application.test(.router) { client in
            let alice = PanelBrowser(client)
            try await alice.logIn("alice")
            let added = try await alice.post("/admin/users", [("username", "bob"), ("role", "agent"), ("password", "bob's password")])
            #expect(added.status == .seeOther)
            #expect(added.headers[.location] == "/admin/users?done=added")
            let bob = try #require(try await app.database.account(named: "bob"))
            #expect(bob.role == .agent)
            let list = try await alice.get("/admin/users?done=added")
            #expect(list.text.contains("User added.") && list.text.contains(">bob<"))

            let bobBrowser = PanelBrowser(client)
            #expect(try await bobBrowser.logIn("bob", password: "bob's password").status == .seeOther)

            #expect(try await alice.post("/admin/users/\(bob.id)/role", [("role", "editor")]).status == .seeOther)
            #expect(try await app.database.account(id: bob.id)?.role == .editor)
            #expect(try await alice.post("/admin/users/\(bob.id)/disable").status == .seeOther)
            #expect(try await app.database.account(id: bob.id)?.disabled == true)
            #expect(try await bobBrowser.get("/admin").status == .seeOther, "a disabled user's session ends")
            #expect(try await alice.post("/admin/users/\(bob.id)/enable").status == .seeOther)
            #expect(try await alice.post("/admin/users/\(bob.id)/password", [("password", "a new password")]).status == .seeOther)
            #expect(try await bobBrowser.logIn("bob", password: "bob's password").status == .unauthorized)
            #expect(try await bobBrowser.logIn("bob", password: "a new password").status == .seeOther)

            let short = try await alice.post("/admin/users/\(bob.id)/password", [("password", "short")])
            #expect(short.status == .badRequest)
            #expect(short.text.contains("at least 10 characters"))
            let duplicate = try await alice.post("/admin/users", [("username", "BOB"), ("role", "agent"), ("password", "0123456789")])
            #expect(duplicate.status == .conflict)
            #expect(duplicate.text.contains("already exists"))
            let badName = try await alice.post("/admin/users", [("username", "b o b"), ("role", "agent"), ("password", "0123456789")])
            #expect(badName.status == .badRequest)
        }
        let audit = try await app.database.auditEntries(page: 1, limit: 50).filter { $0.actor == "alice" }.map { "\($0.action): \($0.detail)" }
        #expect(audit.contains("user added: bob as agent"))
        #expect(audit.contains("role changed: bob: agent → editor"))
        #expect(audit.contains("user disabled: bob"))
        #expect(audit.contains("user enabled: bob"))
        #expect(audit.contains("password reset: bob"))
        #expect(!audit.contains { $0.contains("password") && $0.contains("new password") })
    }

    @Test("the last enabled admin cannot demote or disable themselves: a 409 page that says why")
    func lastAdminIsKept() async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let app = try admin.build()
        try await AdminHarness.addAccounts(["alice": .admin], to: app.database)
        let alice = try #require(try await app.database.account(named: "alice"))
        try await app.application.test(.router) { client in
            let browser = PanelBrowser(client)
            try await browser.logIn("alice")
            let demote = try await browser.post("/admin/users/\(alice.id)/role", [("role", "agent")])
            #expect(demote.status == .conflict)
            #expect(demote.text.contains("last enabled admin"))
            let disable = try await browser.post("/admin/users/\(alice.id)/disable")
            #expect(disable.status == .conflict)
            #expect(try await app.database.account(id: alice.id)?.role == .admin)
            #expect(try await browser.get("/admin/users").status == .ok)
        }
    }

    @Test("the audit page lists entries newest first, 50 a page, read-only")
    func auditPage() async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let app = try admin.build()
        try await AdminHarness.addAccounts(["alice": .admin], to: app.database)
        for index in 1...60 {
            try await app.database.recordAudit(actor: "carol", action: "reply", detail: "message \(index)", address: "10.0.0.1")
        }
        try await app.application.test(.router) { client in
            let browser = PanelBrowser(client)
            try await browser.logIn("alice")
            let first = try await browser.get("/admin/audit")
            #expect(first.status == .ok)
            // The login came last, so it is first; message 60 before message 59.
            let text = first.text
            let login = try #require(text.range(of: ">login<"))
            let sixty = try #require(text.range(of: "message 60<"))
            let fiftyNine = try #require(text.range(of: "message 59<"))
            #expect(login.lowerBound < sixty.lowerBound && sixty.lowerBound < fiftyNine.lowerBound)
            #expect(!text.contains("message 10<"))
            #expect(text.contains(#"href="/admin/audit?page=2""#))
            let second = try await browser.get("/admin/audit?page=2")
            #expect(second.text.contains("message 10<") && second.text.contains("message 1<"))
            #expect(!second.text.contains("<form method=\"post\" action=\"/admin/audit"))
        }
    }
}
