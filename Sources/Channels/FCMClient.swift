import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import NIOCore
import NIOHTTP1

/// A client for Firebase Cloud Messaging HTTP v1.
///
/// It signs an RS256 JWT with the service account's key, exchanges it at the account's own
/// `token_uri` for an OAuth2 access token, caches that token until five minutes before it expires
/// (concurrent sends share one refresh), and posts messages to
/// `{apiBaseURL}/v1/projects/{project_id}/messages:send`.
///
/// Failures are thrown as ``DeliveryError``: `UNREGISTERED`, `SENDER_ID_MISMATCH` and an
/// `INVALID_ARGUMENT` about the registration token → `.dropRecipient`; `QUOTA_EXCEEDED`,
/// `UNAVAILABLE`, `INTERNAL` and other 5xx → `.retry(after: Retry-After)`; everything else → `.fail`.
/// The client never retries on its own.
public actor FCMClient {
    /// The OAuth2 scope needed to send messages.
    public static let scope = "https://www.googleapis.com/auth/firebase.messaging"
    /// How long before expiry a cached access token is replaced.
    public static let refreshMargin: TimeInterval = 300

    /// The account messages are sent as.
    public nonisolated let serviceAccount: ServiceAccount
    private let apiBaseURL: String
    private let httpClient: HTTPClient
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let requestTimeout: TimeAmount
    private let keys: JWTKeyCollection
    private var keysLoaded = false
    private var cachedToken: AccessToken?
    private var refreshTask: Task<AccessToken, any Error>?
    private var tokenFetches = 0

    private struct AccessToken: Sendable {
        var value: String
        var expiresAt: Date
    }

    /// Creates a client.
    /// - Parameters:
    ///   - serviceAccount: the parsed key file (see ``ServiceAccount/load(path:)``).
    ///   - apiBaseURL: the FCM API root without a trailing slash (a fake server in tests).
    ///   - httpClient: a shared HTTP client; the caller owns its lifetime.
    ///   - logger: where token refreshes and failures are logged.
    ///   - now: the clock used for JWT times and token expiry (injectable for tests).
    ///   - requestTimeout: timeout of each HTTP request.
    /// - Throws: ``ServiceAccountError`` if the private key is not a usable RSA key.
    public init(
        serviceAccount: ServiceAccount,
        apiBaseURL: String = "https://fcm.googleapis.com",
        httpClient: HTTPClient,
        logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init,
        requestTimeout: TimeAmount = .seconds(30)
    ) throws {
        let key: Insecure.RSA.PrivateKey
        do {
            key = try serviceAccount.signingKey()
        } catch {
            throw ServiceAccountError(path: serviceAccount.clientEmail, problem: .invalidPrivateKey(String(describing: error)))
        }
        self.serviceAccount = serviceAccount
        self.apiBaseURL = apiBaseURL.hasSuffix("/") ? String(apiBaseURL.dropLast()) : apiBaseURL
        self.httpClient = httpClient
        self.logger = logger
        self.now = now
        self.requestTimeout = requestTimeout
        self.keys = JWTKeyCollection()
        self.signingKey = key
    }

    private let signingKey: Insecure.RSA.PrivateKey

    /// How many times an access token was fetched from the token endpoint (for diagnostics and tests).
    public var accessTokenFetchCount: Int { tokenFetches }

    /// Forgets the cached access token so the next send fetches a new one.
    public func invalidateAccessToken() {
        cachedToken = nil
    }

    /// Sends a notification to one device and returns the message name (`projects/…/messages/…`).
    ///
    /// - Parameters:
    ///   - token: the device's FCM registration token.
    ///   - title: notification title, if any.
    ///   - body: notification body.
    ///   - data: extra key/value pairs delivered to the app (values are strings, as FCM requires).
    public func send(token: String, title: String?, body: String, data: [String: String] = [:]) async throws -> String {
        let accessToken = try await validAccessToken()
        let message = SendRequest(
            message: .init(
                token: token,
                notification: .init(title: title, body: body),
                data: data.isEmpty ? nil : data,
                android: .init(priority: "HIGH"),
                apns: .init(payload: .init(aps: .init(sound: "default")))
            ))
        var request = HTTPClientRequest(url: "\(apiBaseURL)/v1/projects/\(serviceAccount.projectID)/messages:send")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(accessToken)")
        request.headers.add(name: "Content-Type", value: "application/json; charset=UTF-8")
        do {
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(message)))
        } catch {
            throw DeliveryError(.fail, "FCM send: could not encode message: \(error)")
        }
        let response: CollectedResponse
        do {
            response = try await httpClient.collect(request, timeout: requestTimeout, maxBodyBytes: 1024 * 1024)
        } catch {
            throw DeliveryError.transport(error, service: "FCM send")
        }
        guard response.status == .ok else {
            throw classifySendFailure(response)
        }
        struct Sent: Decodable { var name: String }
        guard let sent = try? JSONDecoder().decode(Sent.self, from: response.bodyData) else {
            throw DeliveryError(.fail, "FCM send: unexpected response: \(response.bodyExcerpt)", httpStatus: 200)
        }
        return sent.name
    }

    // MARK: - Access token

    private func validAccessToken() async throws -> String {
        if let cached = cachedToken, cached.expiresAt.timeIntervalSince(now()) > Self.refreshMargin {
            return cached.value
        }
        if let refreshTask {
            return try await refreshTask.value.value
        }
        let task = Task { try await self.fetchAccessToken() }
        refreshTask = task
        defer { refreshTask = nil }
        let token = try await task.value
        cachedToken = token
        return token.value
    }

    private func fetchAccessToken() async throws -> AccessToken {
        tokenFetches += 1
        if !keysLoaded {
            await keys.add(rsa: signingKey, digestAlgorithm: .sha256)
            keysLoaded = true
        }
        let issuedAt = Int(now().timeIntervalSince1970)
        let assertion: String
        do {
            assertion = try await keys.sign(
                GoogleAssertion(
                    iss: serviceAccount.clientEmail, scope: Self.scope, aud: serviceAccount.tokenURI,
                    iat: issuedAt, exp: issuedAt + 3600
                ))
        } catch {
            throw DeliveryError(.fail, "FCM token: could not sign the JWT assertion: \(error)")
        }
        var request = HTTPClientRequest(url: serviceAccount.tokenURI)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let form = "grant_type=\(formURLEncode("urn:ietf:params:oauth:grant-type:jwt-bearer"))&assertion=\(formURLEncode(assertion))"
        request.body = .bytes(ByteBuffer(string: form))
        let response: CollectedResponse
        do {
            response = try await httpClient.collect(request, timeout: requestTimeout, maxBodyBytes: 64 * 1024)
        } catch {
            throw DeliveryError.transport(error, service: "FCM token")
        }
        struct TokenResponse: Decodable {
            var accessToken: String?
            var expiresIn: Int?
            var error: String?
            var errorDescription: String?
            enum CodingKeys: String, CodingKey {
                case accessToken = "access_token", expiresIn = "expires_in"
                case error, errorDescription = "error_description"
            }
        }
        let decoded = try? JSONDecoder().decode(TokenResponse.self, from: response.bodyData)
        let status = Int(response.status.code)
        guard response.status == .ok else {
            let what = [decoded?.error, decoded?.errorDescription].compactMap { $0 }.joined(separator: ": ")
            let message =
                "FCM token endpoint \(serviceAccount.tokenURI) answered HTTP \(status): "
                + (what.isEmpty ? response.bodyExcerpt : what)
            logger.warning("FCM access token request failed", metadata: ["status": "\(status)", "error": "\(what)"])
            if status >= 500 || status == 429 {
                let after = parseRetryAfter(response.headers.first(name: "Retry-After"), now: now())
                throw DeliveryError(.retry(after: after), message, httpStatus: status, serviceCode: decoded?.error)
            }
            throw DeliveryError(.fail, message, httpStatus: status, serviceCode: decoded?.error)
        }
        guard let accessToken = decoded?.accessToken, !accessToken.isEmpty else {
            throw DeliveryError(.fail, "FCM token endpoint: response without access_token: \(response.bodyExcerpt)", httpStatus: status)
        }
        let lifetime = TimeInterval(decoded?.expiresIn ?? 3600)
        logger.debug("FCM access token refreshed", metadata: ["expires_in": "\(Int(lifetime))"])
        return AccessToken(value: accessToken, expiresAt: now().addingTimeInterval(lifetime))
    }

    // MARK: - Errors

    private func classifySendFailure(_ response: CollectedResponse) -> DeliveryError {
        struct ErrorBody: Decodable {
            struct Inner: Decodable {
                struct Detail: Decodable {
                    struct FieldViolation: Decodable { var field: String?; var description: String? }
                    var type: String?
                    var errorCode: String?
                    var fieldViolations: [FieldViolation]?
                    enum CodingKeys: String, CodingKey { case type = "@type", errorCode, fieldViolations }
                }
                var code: Int?
                var message: String?
                var status: String?
                var details: [Detail]?
            }
            var error: Inner
        }
        let status = Int(response.status.code)
        let body = try? JSONDecoder().decode(ErrorBody.self, from: response.bodyData)
        let details = body?.error.details ?? []
        let fcmCode = details.first { $0.type?.hasSuffix("google.firebase.fcm.v1.FcmError") == true }?.errorCode
        let code = fcmCode ?? body?.error.status ?? "HTTP_\(status)"
        let serverMessage = body?.error.message ?? response.bodyExcerpt
        let message = "FCM send: \(code) (HTTP \(status)): \(serverMessage)"
        let retryAfter = parseRetryAfter(response.headers.first(name: "Retry-After"), now: now())
        logger.debug("FCM send failed", metadata: ["status": "\(status)", "code": "\(code)"])

        switch code {
        case "UNREGISTERED", "SENDER_ID_MISMATCH":
            return DeliveryError(.dropRecipient, message, httpStatus: status, serviceCode: code)
        case "INVALID_ARGUMENT":
            let aboutToken =
                (fcmCode != nil && serverMessage.lowercased().contains("registration token"))
                || details.contains { detail in
                    detail.fieldViolations?.contains { $0.field == "message.token" } == true
                }
            return DeliveryError(aboutToken ? .dropRecipient : .fail, message, httpStatus: status, serviceCode: code)
        case "QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL":
            return DeliveryError(.retry(after: retryAfter), message, httpStatus: status, serviceCode: code)
        case "THIRD_PARTY_AUTH_ERROR":
            return DeliveryError(.fail, message, httpStatus: status, serviceCode: code)
        default:
            break
        }
        if status == 401 {
            // The access token was rejected (revoked or expired early): fetch a new one next time.
            cachedToken = nil
            return DeliveryError(.retry(after: retryAfter), message, httpStatus: status, serviceCode: code)
        }
        if status == 429 || status >= 500 {
            return DeliveryError(.retry(after: retryAfter), message, httpStatus: status, serviceCode: code)
        }
        return DeliveryError(.fail, message, httpStatus: status, serviceCode: code)
    }
}

/// The claims of the service-account JWT (Google OAuth2 "JWT bearer" flow).
private struct GoogleAssertion: JWTPayload {
    var iss: String
    var scope: String
    var aud: String
    var iat: Int
    var exp: Int

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// `{"message": {...}}` for `messages:send`.
private struct SendRequest: Encodable {
    struct Message: Encodable {
        struct Notification: Encodable { var title: String?; var body: String }
        struct Android: Encodable { var priority: String }
        struct APNS: Encodable {
            struct Payload: Encodable {
                struct APS: Encodable { var sound: String }
                var aps: APS
            }
            var payload: Payload
        }
        var token: String
        var notification: Notification
        var data: [String: String]?
        var android: Android
        var apns: APNS
    }
    var message: Message
}
