import Foundation
import NIOCore
import PostgresStorage

/// Everything `replyflow serve` reads from the environment and `.env`. Names are the seed
/// server's (`BOT_TOKEN`, `GROUP_CHAT_ID`, ...) so an existing `.env` keeps working.
public struct ServerConfiguration: Sendable {
    public var host = "0.0.0.0"
    public var port = 5000
    public var databasePath = "data/replyflow.sqlite"
    /// `DATABASE_URL`: a PostgreSQL database instead of the SQLite file, shared by any
    /// number of instances (docs/scaling.md).
    public var databaseURL: DatabaseURL?
    public var uploadsDirectory = "uploads"
    public var flowsDirectory = "flows"
    public var timeZone = TimeZone(identifier: "UTC")!
    public var autoModeDefault = true
    /// swift-log level name: trace, debug, info, notice, warning, error, critical.
    public var logLevel = "info"
    /// `text` (readable lines) or `json` (one object a line).
    public var logFormat = LogFormat.text
    /// How long traces and messages are kept (default: forever).
    public var retention = RetentionPolicy()

    /// Telegram is off without a bot token and a group.
    public var botToken: String?
    public var groupChatID: Int64?
    public var telegramAPIURL = "https://api.telegram.org"
    /// One forum topic per user instead of replies to forwarded messages.
    public var telegramTopics = false
    /// Set: updates arrive by webhook at `/webhooks/telegram`; unset: long polling.
    public var telegramWebhookURL: String?
    public var telegramWebhookSecret: String?
    /// Seconds of a `getUpdates` long poll.
    public var telegramPollTimeout = 25

    public var fcmServiceAccountPath: String?
    public var fcmAPIURL = "https://fcm.googleapis.com"

    /// socket.io heartbeat, in milliseconds.
    public var socketPingInterval = 25_000
    public var socketPingTimeout = 20_000

    /// Brevo Conversations (Instagram DMs) is off without an API key and an agent.
    public var brevoAPIKey: String?
    public var brevoAgentID: String?
    public var brevoAPIURL = "https://api.brevo.com/v3"
    /// Brevo's webhook must present it (path segment or bearer token); unset, the webhook is closed.
    public var brevoWebhookSecret: String?

    /// The AI: an OpenAI-compatible API.
    public var openAI = AIConfiguration()

    /// The key of the `/api` (`X-API-Key`); unset, the `/api` answers 401 to everyone.
    public var apiKey: String?

    /// Set: `/metrics` is served on this port of `metricsHost` only, without the API key (a
    /// second small server); unset: on the main port behind `X-API-Key`, and off (404)
    /// when no `API_KEY` is set either.
    public var metricsPort: Int?
    /// The address of the metrics port: loopback unless the operator opens it wider.
    public var metricsHost = "127.0.0.1"

    /// Seconds between heartbeat comments on a quiet `/api/stream`.
    public var streamHeartbeatSeconds = 15
    /// Stream events kept for `Last-Event-ID` resumption.
    public var streamRetention = 10_000

    /// Seconds a new connection has to send its first request head; a request whose head
    /// or body stops arriving is closed after `idleTimeoutSeconds`.
    public var requestTimeoutSeconds = 30
    /// Seconds a connection may send nothing while no response is under way (between
    /// keep-alive requests, or in a body that stopped) before it is closed. Event streams,
    /// long polls and WebSockets are not timed by it.
    public var idleTimeoutSeconds = 60
    /// Seconds requests under way get to finish after `SIGTERM` (or `SIGINT`); streams and
    /// idle connections are ended at once. What is still running then is cut off.
    public var shutdownGraceSeconds = 10

    /// Messages per minute per user on `/send_message` (0 = off).
    public var rateLimitPerUser = 30
    /// Requests per minute per client address (0 = off).
    public var rateLimitPerAddress = 0
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed.
    public var trustedProxies: Set<String> = []

    /// Minutes an admin-panel session lasts without a request.
    public var adminSessionIdleMinutes = 60
    /// Hours an admin-panel session lasts at most, however busy.
    public var adminSessionMaxHours = 12
    /// The bcrypt cost of staff passwords set from the panel (2^cost rounds; tests use 4).
    public var staffBcryptCost = 12

    /// Largest upload per file, in bytes (the seed's 10 MB).
    public var maxUploadBytes = 10 * 1024 * 1024
    public var maxPhotosPerMessage = 10
    /// Deliveries are retried this many times before they are marked failed.
    public var outboxMaxAttempts = 12

    public init() {}

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Where the server's data is, read from `environment` over the `.env` values as `load`
    /// reads it: `DATABASE_URL` (PostgreSQL) or `DATABASE_PATH` (SQLite, with its default).
    /// Also for the commands that read the server's data.
    public static func database(environment: [String: String], dotEnv: [String: String] = [:]) throws -> (path: String, url: DatabaseURL?) {
        let values = dotEnv.merging(environment) { _, environment in environment }
        return try database { key in (values[key]?.trimmingCharacters(in: .whitespaces)).flatMap { $0.isEmpty ? nil : $0 } }
    }

    private static func database(value: (String) -> String?) throws -> (path: String, url: DatabaseURL?) {
        let path = value("DATABASE_PATH")
        guard let url = value("DATABASE_URL") else { return (path ?? ServerConfiguration().databasePath, nil) }
        // Both set is ambiguous: which database holds the data? The operator says.
        guard path == nil else {
            throw Failure(description: "DATABASE_URL and DATABASE_PATH are both set: keep DATABASE_URL for PostgreSQL or DATABASE_PATH for SQLite")
        }
        do {
            return (ServerConfiguration().databasePath, try DatabaseURL.parse(url, setting: "DATABASE_URL"))
        } catch {
            throw Failure(description: error.description)
        }
    }

    /// Reads the settings from `environment`, falling back to the `.env` values.
    public static func load(environment: [String: String], dotEnv: [String: String] = [:]) throws -> ServerConfiguration {
        let values = dotEnv.merging(environment) { _, environment in environment }
        func value(_ key: String) -> String? {
            guard let raw = values[key]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
            guard let raw = value(key) else { return nil }
            guard let number = Int(raw), range.contains(number) else {
                throw Failure(description: "\(key)=\(raw) is not a whole number between \(range.lowerBound) and \(range.upperBound)")
            }
            return number
        }
        func retentionDays(_ key: String) throws -> Int? {
            guard let raw = value(key) else { return nil }
            guard let days = Int(raw), RetentionPolicy.days.contains(days) else {
                throw Failure(
                    description:
                        "\(key)=\(raw) is not a number of days between \(RetentionPolicy.days.lowerBound) and \(RetentionPolicy.days.upperBound) (leave it unset to keep everything)"
                )
            }
            return days
        }
        func httpURL(_ key: String, _ raw: String) throws -> String {
            guard let url = URL(string: raw), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw Failure(description: "\(key)=\(raw) is not an http(s) URL")
            }
            return Self.trimmingSlash(raw)
        }
        func flag(_ key: String) throws -> Bool? {
            guard let raw = value(key) else { return nil }
            switch raw.lowercased() {
            case "on", "true", "1", "yes": return true
            case "off", "false", "0", "no": return false
            default: throw Failure(description: "\(key)=\(raw) must be on or off")
            }
        }

        var configuration = ServerConfiguration()
        configuration.host = value("SERVER_HOST") ?? configuration.host
        configuration.port = try integer("SERVER_PORT", in: 0...65535) ?? configuration.port
        (configuration.databasePath, configuration.databaseURL) = try database(value: value)
        configuration.uploadsDirectory = value("UPLOADS_DIR") ?? configuration.uploadsDirectory
        configuration.flowsDirectory = value("FLOWS_DIR") ?? configuration.flowsDirectory
        if let zone = value("TIMEZONE") {
            guard let timeZone = TimeZone(identifier: zone) else {
                throw Failure(description: "TIMEZONE=\(zone) is not a time zone (for example Europe/Moscow)")
            }
            configuration.timeZone = timeZone
        }
        configuration.autoModeDefault = try flag("AUTO_MODE_DEFAULT") ?? configuration.autoModeDefault

        if let level = value("LOG_LEVEL")?.lowercased() {
            let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            guard levels.contains(level) else { throw Failure(description: "LOG_LEVEL=\(level) must be one of \(levels.joined(separator: ", "))") }
            configuration.logLevel = level
        }
        configuration.logFormat = try value("LOG_FORMAT").map(LogFormat.parse) ?? configuration.logFormat
        configuration.retention = RetentionPolicy(
            traceDays: try retentionDays("RETENTION_DAYS_TRACES"), messageDays: try retentionDays("RETENTION_DAYS_MESSAGES"))
        configuration.apiKey = value("API_KEY")
        configuration.metricsPort = try integer("METRICS_PORT", in: 1...65535)
        configuration.metricsHost = value("METRICS_HOST") ?? configuration.metricsHost
        if value("METRICS_HOST") != nil, configuration.metricsPort == nil {
            throw Failure(description: "METRICS_HOST is set but METRICS_PORT is not: set the port /metrics is to be served on")
        }
        if let port = configuration.metricsPort, port == configuration.port {
            throw Failure(description: "METRICS_PORT=\(port) is SERVER_PORT's port: give /metrics a port of its own")
        }
        configuration.streamHeartbeatSeconds = try integer("STREAM_HEARTBEAT_SECONDS", in: 1...300) ?? configuration.streamHeartbeatSeconds
        configuration.streamRetention = try integer("STREAM_RETENTION", in: 100...1_000_000) ?? configuration.streamRetention
        configuration.botToken = value("BOT_TOKEN")
        if let group = value("GROUP_CHAT_ID") {
            guard let id = Int64(group) else {
                throw Failure(description: "GROUP_CHAT_ID=\(group) is not a Telegram chat id (a number such as -1001234567890)")
            }
            configuration.groupChatID = id
        }
        configuration.telegramAPIURL = try value("TELEGRAM_API_URL").map { try httpURL("TELEGRAM_API_URL", $0) } ?? configuration.telegramAPIURL
        configuration.telegramTopics = try flag("TELEGRAM_TOPICS") ?? false
        // Checked here: registration would be refused, and retried forever. (http is for a
        // self-hosted Bot API server, which accepts it; Telegram's own wants https.)
        configuration.telegramWebhookURL = try value("TELEGRAM_WEBHOOK_URL").map { raw in
            guard let url = URL(string: raw), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), let host = url.host, !host.isEmpty else {
                throw Failure(
                    description: "TELEGRAM_WEBHOOK_URL=\(raw) is not a URL (it is where Telegram sends updates: https://YOUR-HOST/webhooks/telegram)")
            }
            return raw
        }
        if let secret = value("TELEGRAM_WEBHOOK_SECRET") {
            guard (1...256).contains(secret.count), secret.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
                throw Failure(description: "TELEGRAM_WEBHOOK_SECRET must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -")
            }
            configuration.telegramWebhookSecret = secret
        }
        configuration.telegramPollTimeout = try integer("TELEGRAM_POLL_TIMEOUT", in: 0...50) ?? configuration.telegramPollTimeout

        configuration.fcmServiceAccountPath = value("FCM_SERVICE_ACCOUNT_PATH")
        configuration.fcmAPIURL = try value("FCM_API_URL").map { try httpURL("FCM_API_URL", $0) } ?? configuration.fcmAPIURL

        configuration.brevoAPIKey = value("BREVO_API_KEY")
        configuration.brevoAgentID = value("BREVO_AGENT_ID")
        configuration.brevoAPIURL = try value("BREVO_API_URL").map { try httpURL("BREVO_API_URL", $0) } ?? configuration.brevoAPIURL
        if let secret = value("BREVO_WEBHOOK_SECRET") {
            guard secret.count >= 16, secret.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
                throw Failure(description: "BREVO_WEBHOOK_SECRET must be at least 16 characters of A-Z, a-z, 0-9, _ and - (it goes in the webhook's URL)")
            }
            configuration.brevoWebhookSecret = secret
        }
        configuration.openAI = try AIConfiguration.load(value: value, integer: integer, httpURL: httpURL)

        configuration.socketPingInterval = try integer("SOCKETIO_PING_INTERVAL_MS", in: 100...600_000) ?? configuration.socketPingInterval
        configuration.socketPingTimeout = try integer("SOCKETIO_PING_TIMEOUT_MS", in: 100...600_000) ?? configuration.socketPingTimeout

        configuration.requestTimeoutSeconds = try integer("REQUEST_TIMEOUT_SECONDS", in: 1...3600) ?? configuration.requestTimeoutSeconds
        configuration.idleTimeoutSeconds = try integer("IDLE_TIMEOUT_SECONDS", in: 1...3600) ?? configuration.idleTimeoutSeconds
        configuration.shutdownGraceSeconds = try integer("SHUTDOWN_GRACE_SECONDS", in: 0...3600) ?? configuration.shutdownGraceSeconds
        configuration.rateLimitPerUser = try integer("RATE_LIMIT_PER_USER", in: 0...1_000_000) ?? configuration.rateLimitPerUser
        configuration.rateLimitPerAddress = try integer("RATE_LIMIT_PER_ADDRESS", in: 0...10_000_000) ?? configuration.rateLimitPerAddress
        if let proxies = value("TRUSTED_PROXIES") {
            // Compared with each connection's peer address as NIO writes it: anything but an
            // IP address would never match, and the proxy's clients would all share its limit.
            configuration.trustedProxies = Set(
                try proxies.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { text in
                    guard let address = Self.canonicalIPAddress(text) else {
                        throw Failure(description: "TRUSTED_PROXIES: \(text) is not an IP address (a comma-separated list such as 127.0.0.1, ::1)")
                    }
                    return address
                })
        }
        configuration.adminSessionIdleMinutes = try integer("ADMIN_SESSION_IDLE_MINUTES", in: 1...10_080) ?? configuration.adminSessionIdleMinutes
        configuration.adminSessionMaxHours = try integer("ADMIN_SESSION_MAX_HOURS", in: 1...720) ?? configuration.adminSessionMaxHours
        configuration.staffBcryptCost = try integer("STAFF_BCRYPT_COST", in: 4...31) ?? configuration.staffBcryptCost
        return configuration
    }

    /// Telegram is on when it has both a token and a group to forward to.
    public var telegramEnabled: Bool { botToken != nil && groupChatID != nil }

    /// Instagram replies go out when Brevo has a key and an agent to send as.
    public var brevoEnabled: Bool { brevoAPIKey != nil && brevoAgentID != nil }

    /// An IP address written the way NIO writes a peer's (`::1` for `0:0:0:0:0:0:0:1`), or
    /// nil when `text` is not one.
    static func canonicalIPAddress(_ text: String) -> String? {
        (try? SocketAddress(ipAddress: text, port: 0))?.ipAddress
    }

    static func trimmingSlash(_ url: String) -> String {
        url.hasSuffix("/") ? String(url.dropLast()) : url
    }
}
