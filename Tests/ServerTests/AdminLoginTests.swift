import Foundation
import Hummingbird
import HummingbirdTesting
import Storage
import Testing

@testable import Server
import TestSupport

/// Signing in and out of the panel, sessions and their timeouts.
@Suite("Admin: login and sessions", .machineShare)
struct AdminLoginTests {
    @Test("a visitor without a session is sent to the login page, with where they wanted to go; /admin/api answers 401 JSON")
    func anonymousIsRedirected() async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        try await admin.build().application.test(.router) { client in
            let inbox = try await client.execute(uri: "/admin", method: .get)
            #expect(inbox.status == .seeOther)
            #expect(inbox.headers[.location] == "/admin/login")
            let users = try await client.execute(uri: "/admin/users?x=1", method: .get)
            #expect(users.status == .seeOther)
            #expect(users.headers[.location] == "/admin/login?next=/admin/users%3Fx%3D1")
            let post = try await client.execute(uri: "/admin/users", method: .post)
            #expect(post.status == .seeOther)
            let api = try await client.execute(uri: "/admin/api/me", method: .get)
            #expect(api.status == .unauthorized)
            #expect(api.json["success"] as? Bool == false)
            let login = try await client.execute(uri: "/admin/login?next=/admin/users", method: .get)
            #expect(login.status == .ok)
            #expect(login.text.contains(#"name="username""#) && login.text.contains(#"name="password""#))
            #expect(login.text.contains(#"name="next" value="/admin/users""#))
            #expect(login.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
        }
    }

    @Test("the right password signs in: 303 to the panel, an HttpOnly SameSite=Lax cookie for /admin (not Secure on plain HTTP), audited")
    func loginSucceeds() async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let app = try admin.build()
        try await AdminHarness.addAccounts(["alice": .admin], to: app.database)
        try await app.application.test(.router) { client in
            let browser = PanelBrowser(client)
            let response = try await browser.logIn("alice")
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/admin")
            let setCookie = try #require(PanelBrowser.setCookie(in: response))
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Lax") && setCookie.contains("Path=/admin"))
            #expect(!setCookie.contains("Secure"))
            #expect(browser.cookie?.count == 43)
            let page = try await browser.get("/admin")
            #expect(page.status == .ok)
            #expect(page.text.contains("alice") && page.text.contains("admin"))
            #expect(browser.csrf?.count == 43)
            #expect(page.text.contains(#"<link rel="stylesheet" href="/admin/assets/panel.css?v="#))
            #expect(page.text.contains(#"action="/admin/logout""#))
            #expect(page.headers[.cacheControl] == "no-store")
        }
        let audit = try await app.database.auditEntries(page: 1, limit: 10)
        #expect(audit.first?.action == "login" && audit.first?.actor == "alice")
        // Only the hash of the cookie is stored.
        let stored = try await app.database.writer.read { db in try String.fetchAll(db, sql: "SELECT id_hash FROM staff_sessions") }
        #expect(stored.count == 1 && stored[0].count == 64)
    }

    @Test("a wrong password, an unknown name and a disabled account get the same 401 form; each failure is audited without the password")
    func loginFails() async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let app = try admin.build()
        try await AdminHarness.addAccounts(["alice": .admin, "dave": .agent], to: app.database)
        try await app.database.setDisabled(accountID: try #require(try await app.database.account(named: "dave")).id, true)
        try await app.application.test(.router) { client in
            for (name, password) in [("alice", "wrong password!"), ("nobody", AdminHarness.password), ("dave", AdminHarness.password), ("", "")] {
                let browser = PanelBrowser(client)
                let response = try await browser.logIn(name, password: password)
                #expect(response.status == .unauthorized, "\(name)")
                #expect(response.text.contains("wrong user name or password"))
                #expect(PanelBrowser.setCookie(in: response) == nil)
            }
        }
        let audit = try await app.database.auditEntries(page: 1, limit: 10)
        #expect(audit.filter { $0.action == "login failed" }.count == 4)
        #expect(!audit.contains { $0.detail.contains("wrong password") })
    }

    @Test("next is followed only inside the panel")
    func nextStaysInThePanel() async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let app = try admin.build()
        try await AdminHarness.addAccounts(["alice": .admin], to: app.database)
        try await app.application.test(.router) { client in
            for (next, expected) in [
                ("/admin/users", "/admin/users"), ("https://evil.example/", "/admin"), ("//evil.example/admin", "/admin"), ("/admin\\@evil", "/admin"),
                ("/administrator", "/admin"),
            ] {
                let browser = PanelBrowser(client)
                let response = try await browser.logIn("alice", next: next)
                #expect(response.headers[.location] == expected, "\(next)")
            }
        }
    }

    @Test("failed logins are limited per account (10 in 15 min) and per address (30): then 429 with Retry-After, even with the right password")
    func failedLoginsAreLimited() async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let clock = TestClock()
        let app = try admin.build(clock: clock)
        try await AdminHarness.addAccounts(["alice": .admin, "bob": .agent], to: app.database)
        try await app.application.test(.router) { client in
            let browser = PanelBrowser(client)
            for _ in 0..<10 { #expect(try await browser.logIn("alice", password: "not the password").status == .unauthorized) }
            let limited = try await browser.logIn("alice")
            #expect(limited.status == .tooManyRequests)
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 > 0)
            #expect(limited.text.contains("too many failed sign-ins"))
            #expect(browser.cookie == nil)
            // Another account from the same address is not limited yet (10 of its 30).
            #expect(try await browser.logIn("bob").status == .seeOther)
            clock.advance(15 * 60 + 1)
            let later = PanelBrowser(client)
            #expect(try await later.logIn("alice").status == .seeOther)

            // Per address: 30 failures over many names.
            for index in 0..<30 { _ = try await PanelBrowser(client).logIn("nobody\(index)", password: "x") }
            let fresh = PanelBrowser(client)
            #expect(try await fresh.logIn("bob").status == .tooManyRequests)
        }
        let actions = try await app.database.auditEntries(page: 1, limit: 100).map(\.action)
        #expect(actions.contains("login refused"))
    }

    @Test("sessions live in the database: a rebuilt app on the same file knows the cookie")
    func sessionSurvivesRestart() async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let first = try admin.build()
        try await AdminHarness.addAccounts(["alice": .admin], to: first.database)
        let cookie = try await first.application.test(.router) { client in
            let browser = PanelBrowser(client)
            try await browser.logIn("alice")
            return try #require(browser.cookie)
        }
        try await admin.build().application.test(.router) { client in
            let browser = PanelBrowser(client)
            browser.cookie = cookie
            let page = try await browser.get("/admin")
            #expect(page.status == .ok)
            #expect(page.text.contains("alice"))
        }
    }

    @Test("a session ends after the idle timeout, and after the absolute timeout however busy")
    func sessionTimeouts() async throws {
        var admin = try AdminHarness()
        defer { admin.remove() }
        admin.harness.configuration.adminSessionIdleMinutes = 60
        admin.harness.configuration.adminSessionMaxHours = 12
        let clock = TestClock()
        let app = try admin.build(clock: clock)
        try await AdminHarness.addAccounts(["alice": .admin], to: app.database)
        try await app.application.test(.router) { client in
            let browser = PanelBrowser(client)
            try await browser.logIn("alice")
            clock.advance(59 * 60)
            #expect(try await browser.get("/admin").status == .ok)
            clock.advance(59 * 60)
            #expect(try await browser.get("/admin").status == .ok, "each request restarts the idle time")
            clock.advance(61 * 60)
            #expect(try await browser.get("/admin").status == .seeOther, "idle for over an hour")

            let busy = PanelBrowser(client)
            try await busy.logIn("alice")
            for _ in 0..<(12 * 2 - 1) {
                clock.advance(30 * 60)
                #expect(try await busy.get("/admin").status == .ok)
            }
            clock.advance(30 * 60)
            let expired = try await busy.get("/admin")
            #expect(expired.status == .seeOther, "12 hours after login")
        }
    }

    @Test("every login makes a new session id, and the one the browser had ends")
    func newSessionIDAtLogin() async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let app = try admin.build()
        try await AdminHarness.addAccounts(["alice": .admin], to: app.database)
        try await app.application.test(.router) { client in
            let browser = PanelBrowser(client)
            try await browser.logIn("alice")
            let first = try #require(browser.cookie)
            try await browser.logIn("alice")
            let second = try #require(browser.cookie)
            #expect(first != second)
            let old = PanelBrowser(client)
            old.cookie = first
            #expect(try await old.get("/admin").status == .seeOther)
            #expect(try await browser.get("/admin").status == .ok)
        }
    }

    @Test("logout ends the session, clears the cookie and is audited; it needs the CSRF token")
    func logout() async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let app = try admin.build()
        try await AdminHarness.addAccounts(["alice": .admin], to: app.database)
        try await app.application.test(.router) { client in
            let browser = PanelBrowser(client)
            try await browser.logIn("alice")
            #expect(try await browser.post("/admin/logout", csrf: "wrong").status == .forbidden)
            let response = try await browser.post("/admin/logout")
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/admin/login")
            #expect(PanelBrowser.setCookie(in: response)?.contains("Max-Age=0") == true)
            #expect(try await browser.get("/admin").status == .seeOther)
        }
        #expect(try await app.database.auditEntries(page: 1, limit: 1).first?.action == "logout")
    }

    @Test("the cookie is Secure only when a trusted proxy says the browser came over HTTPS")
    func secureCookieBehindTrustedProxy() async throws {
        for (trusted, proto, secure) in [(["127.0.0.1"], "https", true), ([], "https", false), (["127.0.0.1"], "http", false)] {
            var admin = try AdminHarness()
            defer { admin.remove() }
            admin.harness.configuration.trustedProxies = Set(trusted)
            let app = try admin.build()
            try await AdminHarness.addAccounts(["alice": .admin], to: app.database)
            try await app.application.test(.live) { client in
                let response = try await client.execute(
                    uri: "/admin/login", method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded", .init("X-Forwarded-Proto")!: proto],
                    body: PanelBrowser.form([("username", "alice"), ("password", AdminHarness.password)]))
                #expect(response.status == .seeOther)
                let cookie = try #require(PanelBrowser.setCookie(in: response))
                #expect(cookie.contains("; Secure") == secure, "\(trusted) \(proto): \(cookie)")
            }
        }
    }
}
