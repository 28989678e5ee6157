import Foundation

/// Takes secrets out of log text: the configured ones by value (bot token, API keys,
/// webhook secrets) wherever they appear, and what looks like a credential by its shape,
/// for secrets the configuration does not hold (an FCM access token, a private key, a
/// session cookie, a bearer token, a Telegram token inside a service's error page).
///
/// Every line `replyflow serve` writes goes through it (`RedactingLogHandler`): an error
/// that embeds a request URL (Telegram's carries the bot token) cannot leak it, whatever
/// code logged it.
public struct SecretRedactor: Sendable {
    /// What a secret becomes.
    public static let mask = "[redacted]"
    /// Shorter configured values are not searched for: masking every "ab" in a log would
    /// hide everything and protect nothing.
    static let shortestSecret = 6

    private let secrets: [String]

    /// Redacts `secrets` (longest first, so a secret containing another goes whole) and the
    /// credential shapes.
    public init(secrets: [String]) {
        self.secrets = Array(Set(secrets.filter { $0.count >= Self.shortestSecret })).sorted { $0.count > $1.count }
    }

    /// The secrets of a configuration: every token, key and webhook secret it holds.
    public init(configuration: ServerConfiguration) {
        self.init(
            secrets: [
                configuration.botToken, configuration.apiKey, configuration.brevoAPIKey, configuration.brevoWebhookSecret,
                configuration.telegramWebhookSecret, configuration.openAI.apiKey, configuration.databaseURL?.password,
            ].compactMap { $0 })
    }

    /// `text` with every secret replaced by `mask`.
    public func redact(_ text: String) -> String {
        var text = text
        for secret in secrets where text.contains(secret) {
            text = text.replacingOccurrences(of: secret, with: Self.mask)
        }
        for shape in CredentialShape.all {
            text = shape.redact(text)
        }
        return text
    }
}

/// A kind of credential recognised by how it looks.
private struct CredentialShape: @unchecked Sendable {
    // NSRegularExpression is immutable once made and safe to share between threads.
    let expression: NSRegularExpression
    let template: String

    init(_ pattern: String, _ template: String) {
        // The patterns are constants, tested by `SecretRedactionTests`.
        expression = try! NSRegularExpression(pattern: pattern, options: [])
        self.template = template
    }

    func redact(_ text: String) -> String {
        let range = NSRange(text.startIndex..., in: text)
        guard expression.firstMatch(in: text, options: [], range: range) != nil else { return text }
        return expression.stringByReplacingMatches(in: text, options: [], range: range, withTemplate: template)
    }

    static let all = [
        // A PEM private key (an FCM service account's), whole, its newlines escaped or not.
        CredentialShape(#"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"#, SecretRedactor.mask),
        // A Telegram bot token (`123456789:AA...`), as in `/bot<token>/getUpdates`.
        CredentialShape(#"\b[0-9]{5,12}:[A-Za-z0-9_-]{30,}"#, SecretRedactor.mask),
        // A Google OAuth access token (FCM's).
        CredentialShape(#"\bya29\.[A-Za-z0-9._-]+"#, SecretRedactor.mask),
        // A JSON Web Token (the signed assertion FCM's service account trades for a token).
        CredentialShape(#"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"#, SecretRedactor.mask),
        // `Authorization: Bearer ...`.
        CredentialShape(#"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"#, "$1" + SecretRedactor.mask),
        // A password in a URL (`https://user:password@host`).
        CredentialShape(#"(://[^/\s:@]+:)[^/\s@]+@"#, "$1" + SecretRedactor.mask + "@"),
        // The admin panel's session cookie.
        CredentialShape(#"(replyflow_session=)[^;\s"]+"#, "$1" + SecretRedactor.mask),
        // `key=value` and `"key": "value"` for names that hold credentials.
        CredentialShape(
            #"(?i)("?\b(?:access_token|refresh_token|id_token|secret_token|private_key|client_secret|api[_-]?key|password|secret)"?\s*[:=]\s*"?)[^"\s,&;}]+"#,
            "$1" + SecretRedactor.mask),
    ]
}
