import Foundation
import Hummingbird
import HummingbirdTesting
import Server
import Storage

/// A server harness with staff accounts, and a browser-like client for the panel.
struct AdminHarness {
    var harness: ServerHarness
    static let password = "correct horse battery"

    init(flows: [String: String]? = nil) throws {
        harness = try ServerHarness(flows: flows)
        // bcrypt's least cost: these tests are about the panel, not about bcrypt's speed.
        harness.configuration.staffBcryptCost = 4
    }

    func build(clock: TestClock? = nil) throws -> ReplyflowServer.ServerApp {
        if let clock { return try harness.build(clock: clock.function) }
        return try harness.build()
    }

    /// Adds accounts (name → role) with `password`, straight into the app's database.
    static func addAccounts(_ accounts: [String: StaffRole], to database: ReplyflowDatabase) async throws {
        let hash = try await PasswordHasher(cost: 4).hash(password)
        for (name, role) in accounts.sorted(by: { $0.key < $1.key }) {
            _ = try await database.addAccount(username: name, role: role, passwordHash: hash)
        }
    }

    func remove() { harness.remove() }
}

/// The panel as a browser sees it: a cookie and the page's CSRF token.
final class PanelBrowser: @unchecked Sendable {
    let client: any TestClientProtocol
    var cookie: String?
    var csrf: String?

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    /// Another browser with the same cookie and token (changes to it leave this one be).
    func copy() -> PanelBrowser {
        let other = PanelBrowser(client)
        other.cookie = cookie
        other.csrf = csrf
        return other
    }

    static let formType: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    static func form(_ fields: [(String, String)]) -> ByteBuffer {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return ByteBuffer(
            string: fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&"))
    }

    var cookieHeader: HTTPFields {
        guard let cookie else { return [:] }
        return [.cookie: "replyflow_session=\(cookie)"]
    }

    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var all = cookieHeader
        for field in headers { all.append(field) }
        return try await client.execute(uri: uri, method: .get, headers: all)
    }

    /// Posts a form with the session's `_csrf` (unless `csrf` says otherwise) and a
    /// same-origin browser's headers.
    func post(_ uri: String, _ fields: [(String, String)] = [], csrf: String? = nil, headers: HTTPFields = [:]) async throws -> TestResponse {
        var all = cookieHeader
        all[.contentType] = "application/x-www-form-urlencoded"
        for field in headers { all[field.name] = field.value }
        var fields = fields
        if let token = csrf ?? self.csrf { fields.append(("_csrf", token)) }
        return try await client.execute(uri: uri, method: .post, headers: all, body: Self.form(fields))
    }

    /// Logs in; on success keeps the cookie and reads the CSRF token from `/admin`.
    @discardableResult
    func logIn(_ username: String, password: String = AdminHarness.password, next: String? = nil) async throws -> TestResponse {
        var fields = [("username", username), ("password", password)]
        if let next { fields.append(("next", next)) }
        var headers = cookieHeader
        headers[.contentType] = "application/x-www-form-urlencoded"
        headers[.origin] = "http://localhost"
        let response = try await client.execute(uri: "/admin/login", method: .post, headers: headers, body: Self.form(fields))
        if let value = Self.sessionCookie(in: response) {
            cookie = value
            let page = try await get("/admin")
            csrf = Self.csrfToken(in: page.text)
        }
        return response
    }

    /// The value of the `replyflow_session` cookie a response sets.
    static func sessionCookie(in response: TestResponse) -> String? {
        setCookie(in: response).flatMap { header in
            let value = header.split(separator: ";")[0].dropFirst("replyflow_session=".count)
            return value.isEmpty ? nil : String(value)
        }
    }

    static func setCookie(in response: TestResponse) -> String? {
        response.headers[values: .setCookie].first { $0.hasPrefix("replyflow_session=") }
    }

    static func csrfToken(in html: String) -> String? {
        guard let range = html.range(of: #"<meta name="csrf-token" content=""#) else { return nil }
        let rest = html[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
}
