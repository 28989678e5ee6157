import Foundation
import Hummingbird
import HummingbirdTesting
import Storage
import Testing

@testable import Server
import TestSupport

/// CSRF, cross-site requests, roles, escaping, headers, assets and error pages.
@Suite("Admin: security", .machineShare)
struct AdminSecurityTests {
    func signedIn(_ accounts: [String: StaffRole], _ body: @escaping @Sendable ([String: PanelBrowser], ReplyflowDatabase) async throws -> Void) async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let app = try admin.build()
        try await AdminHarness.addAccounts(accounts, to: app.database)
        try await app.application.test(.router) { client in
            var browsers: [String: PanelBrowser] = [:]
            for name in accounts.keys {
                let browser = PanelBrowser(client)
                #expect(try await browser.logIn(name).status == .seeOther)
                browsers[name] = browser
            }
            try await body(browsers, app.database)
        }
    }

    @Test("a state change without the CSRF token, or with a wrong one, is refused 403 and changes nothing; the header works too")
    func csrfToken() async throws {
        try await signedIn(["alice": .admin]) { browsers, database in
            let alice = browsers["alice"]!
            let fields = [("username", "bob"), ("role", "agent"), ("password", "0123456789")]
            let missing = alice.copy()
            missing.csrf = nil
            let none = try await missing.post("/admin/users", fields)
            #expect(none.status == .forbidden)
            #expect(none.text.contains("no CSRF token"))
            let wrong = try await alice.post("/admin/users", fields, csrf: String(repeating: "A", count: 43))
            #expect(wrong.status == .forbidden)
            #expect(wrong.text.contains("CSRF token is wrong"))
            #expect(try await database.account(named: "bob") == nil)
            let viaHeader = try await missing.post("/admin/users", fields, headers: [.init("X-CSRF-Token")!: alice.csrf!])
            #expect(viaHeader.status == .seeOther)
            #expect(try await database.account(named: "bob") != nil)
        }
    }

    @Test("a cross-site request is refused even with the right token: Sec-Fetch-Site cross-site, or a foreign Origin; the login form too")
    func crossSite() async throws {
        try await signedIn(["alice": .admin]) { browsers, database in
            let alice = browsers["alice"]!
            let fields = [("username", "bob"), ("role", "agent"), ("password", "0123456789")]
            let fetchSite = try await alice.post("/admin/users", fields, headers: [.init("Sec-Fetch-Site")!: "cross-site"])
            #expect(fetchSite.status == .forbidden)
            #expect(fetchSite.text.contains("another site"))
            let origin = try await alice.post("/admin/users", fields, headers: [.origin: "https://evil.example"])
            #expect(origin.status == .forbidden)
            let nullOrigin = try await alice.post("/admin/users", fields, headers: [.origin: "null"])
            #expect(nullOrigin.status == .forbidden)
            #expect(try await database.account(named: "bob") == nil)
            let sameOrigin = try await alice.post("/admin/users", fields, headers: [.origin: "http://localhost", .init("Sec-Fetch-Site")!: "same-origin"])
            #expect(sameOrigin.status == .seeOther)

            let login = try await alice.client.execute(
                uri: "/admin/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .origin: "https://evil.example"],
                body: PanelBrowser.form([("username", "alice"), ("password", AdminHarness.password)]))
            #expect(login.status == .forbidden)
            #expect(PanelBrowser.setCookie(in: login) == nil)
        }
    }

    @Test("roles are checked on the server: agents and editors are refused the users and audit pages with a 403 page; agents see the inbox")
    func roles() async throws {
        try await signedIn(["alice": .admin, "eve": .editor, "bob": .agent]) { browsers, database in
            for name in ["bob", "eve"] {
                let browser = browsers[name]!
                for uri in ["/admin/users", "/admin/audit"] {
                    let refused = try await browser.get(uri)
                    #expect(refused.status == .forbidden, "\(name) \(uri)")
                    #expect(refused.headers[.contentType]?.hasPrefix("text/html") == true)
                    #expect(refused.text.contains("needs the admin role"))
                }
                let post = try await browser.post("/admin/users", [("username", "mallory"), ("role", "admin"), ("password", "0123456789")])
                #expect(post.status == .forbidden)
                let inbox = try await browser.get("/admin")
                #expect(inbox.status == .ok)
                #expect(!inbox.text.contains(#"href="/admin/users""#), "no Users link for \(name)")
            }
            #expect(try await database.account(named: "mallory") == nil)
            let page = try await browsers["alice"]!.get("/admin")
            #expect(page.text.contains(#"href="/admin/users""#) && page.text.contains(#"href="/admin/audit""#))
            let me = try await browsers["bob"]!.get("/admin/api/me")
            #expect(me.json["username"] as? String == "bob" && me.json["role"] as? String == "agent")
        }
    }

    @Test("what users typed is escaped: a name or audit detail <img src=x onerror=alert(1)> shows as text")
    func escaping() async throws {
        let attack = "<img src=x onerror=alert(1)>"
        try await signedIn(["alice": .admin]) { browsers, database in
            // A name the rules refuse, put in directly: the pages must still escape it.
            _ = try await database.addAccount(username: attack, role: .agent, passwordHash: "x")
            let stranger = PanelBrowser(browsers["alice"]!.client)
            _ = try await stranger.logIn(attack, password: "whatever it is")
            try await database.recordAudit(actor: "alice", action: "reply", detail: attack, address: nil)
            for uri in ["/admin/users", "/admin/audit"] {
                let page = try await browsers["alice"]!.get(uri)
                #expect(page.status == .ok)
                #expect(!page.text.contains("<img"), "\(uri)")
                #expect(page.text.contains("&lt;img src=x onerror=alert(1)&gt;"), "\(uri)")
            }
            #expect(stranger.cookie == nil)
            let form = try await stranger.logIn(attack, password: "whatever it is")
            #expect(!form.text.contains("<img"))
        }
    }

    @Test("every /admin response has the security headers; pages are not cached; no inline script or style")
    func securityHeaders() async throws {
        try await signedIn(["alice": .admin]) { browsers, _ in
            let alice = browsers["alice"]!
            for uri in ["/admin", "/admin/users", "/admin/audit", "/admin/traces", "/admin/experiments", "/admin/login", "/admin/nothing-here", "/admin/assets/panel.css"] {
                let response = try await alice.get(uri)
                #expect(
                    response.headers[.contentSecurityPolicy]
                        == "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; media-src 'self' https:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
                    "\(uri)")
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                #expect(response.headers[.init("Referrer-Policy")!] == "same-origin")
                #expect(response.headers[.init("X-Frame-Options")!] == "DENY")
                if !uri.contains("assets") {
                    #expect(response.headers[.cacheControl] == "no-store", "\(uri)")
                    #expect(!response.text.contains("<script>") && !response.text.contains("<style") && !response.text.contains(" style="), "\(uri)")
                }
            }
            // The /api is untouched: key-only, the session cookie is no key.
            let api = try await alice.get("/api/chats")
            #expect(api.status == .unauthorized)
            #expect(api.headers[.contentSecurityPolicy] == nil)
        }
    }

    @Test("assets: content type, a strong ETag, cached for ever at the current ?v=, revalidated otherwise, 304 on If-None-Match, no session needed")
    func assets() async throws {
        let admin = try AdminHarness()
        defer { admin.remove() }
        let pages = AdminPages()
        try await admin.build().application.test(.router) { client in
            let css = try await client.execute(uri: pages.assetURL("panel.css"), method: .get)
            #expect(css.status == .ok)
            #expect(css.headers[.contentType] == "text/css; charset=utf-8")
            let etag = try #require(css.headers[.eTag])
            #expect(etag.hasPrefix("\"") && !etag.hasPrefix("W/"))
            #expect(css.headers[.cacheControl] == "public, max-age=31536000, immutable")
            #expect(css.text.contains(":root"))
            let js = try await client.execute(uri: "/admin/assets/panel.js?v=old", method: .get)
            #expect(js.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(js.headers[.cacheControl] == "no-cache")
            let again = try await client.execute(uri: pages.assetURL("panel.css"), method: .get, headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified)
            #expect(again.body.readableBytes == 0)
            let missing = try await client.execute(uri: "/admin/assets/nope.js", method: .get)
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType]?.hasPrefix("text/html") == true)
        }
    }

    @Test("mistakes under /admin are 4xx pages, never 500: unknown page, bad ids, bad paging, a JSON body to a form")
    func badInput() async throws {
        try await signedIn(["alice": .admin]) { browsers, _ in
            let alice = browsers["alice"]!
            let unknown = try await alice.get("/admin/nothing-here")
            #expect(unknown.status == .notFound)
            #expect(unknown.text.contains("there is no page /admin/nothing-here"))
            #expect(try await alice.post("/admin/users/abc/role", [("role", "agent")]).status == .badRequest)
            #expect(try await alice.post("/admin/users/999/role", [("role", "agent")]).status == .notFound)
            #expect(try await alice.post("/admin/users/1/role", [("role", "owner")]).status == .badRequest)
            #expect(try await alice.get("/admin/audit?page=zero").status == .badRequest)
            let json = try await alice.client.execute(
                uri: "/admin/users", method: .post,
                headers: [.cookie: "replyflow_session=\(alice.cookie!)", .contentType: "application/json", .init("X-CSRF-Token")!: alice.csrf!],
                body: ByteBuffer(string: "{}"))
            #expect(json.status == .unsupportedMediaType)
            let apiUnknown = try await alice.get("/admin/api/nothing")
            #expect(apiUnknown.status == .notFound)
            #expect(apiUnknown.json["success"] as? Bool == false)
        }
    }
}
