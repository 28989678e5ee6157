import Hummingbird

/// Form posts to the panel (`application/x-www-form-urlencoded`), read with `FormQuery`
/// (`+` is a space, `%2B` a plus). The body is collected into the request, so the CSRF
/// check and the handler can both read it.
enum AdminForm {
    /// Form bodies the panel reads (the login, the users page's forms, replies) are small.
    static var maxBytes: Int { 256 * 1024 }
    /// The flow studio's forms, from signed-in staff only: a flow file may be 1,000,000
    /// bytes, and percent-encoding makes a non-Latin text up to three times as long.
    static var maxDraftBytes: Int { 3 * 1024 * 1024 + 64 * 1024 }

    static func isForm(_ request: Request) -> Bool {
        request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true
    }

    static func read(_ request: inout Request, upTo limit: Int = maxBytes) async throws -> FormQuery {
        guard isForm(request) else {
            throw AdminError(.unsupportedMediaType, "send the form as application/x-www-form-urlencoded")
        }
        let body = try await request.collectBody(upTo: limit)
        return FormQuery(String(buffer: body))
    }
}
