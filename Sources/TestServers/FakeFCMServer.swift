import Foundation
import Hummingbird
import JWTKit
import NIOConcurrencyHelpers
import NIOCore

/// What the fake FCM server answers for a device token.
public enum FCMOutcome: Sendable, Equatable {
    /// 200 with a message name.
    case success
    /// 404 `NOT_FOUND` with FcmError `UNREGISTERED`.
    case unregistered
    /// 400 `INVALID_ARGUMENT`: "The registration token is not a valid FCM registration token".
    case invalidToken
    /// 403 `PERMISSION_DENIED` with FcmError `SENDER_ID_MISMATCH`.
    case senderIDMismatch
    /// 429 `RESOURCE_EXHAUSTED` with FcmError `QUOTA_EXCEEDED` and, if given, `Retry-After` seconds.
    case quotaExceeded(retryAfter: Int?)
    /// 503 `UNAVAILABLE` with, if given, `Retry-After` seconds.
    case unavailable(retryAfter: Int?)
    /// 500 `INTERNAL`.
    case internalError
    /// 401 `UNAUTHENTICATED` with FcmError `THIRD_PARTY_AUTH_ERROR` (APNs / web push credentials).
    case thirdPartyAuthError
}

/// A failure of the fake OAuth2 token endpoint.
public enum FCMTokenFailure: Sendable, Equatable {
    /// HTTP 503 `{"error":"backend_error"}`.
    case serverError
    /// HTTP 400 `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`.
    case invalidGrant
}

/// One call of the fake token endpoint.
public struct FCMTokenRequest: Sendable {
    /// The `grant_type` form field.
    public var grantType: String?
    /// The verified JWT claims (nil when the assertion did not verify).
    public var claims: FakeJSON?
    /// The access token issued, when the request succeeded.
    public var issuedToken: String?
    /// The `expires_in` returned.
    public var expiresIn: Int?
    /// HTTP status answered.
    public var status: Int
    /// Why it was rejected, if it was.
    public var error: String?
}

/// One call of the fake `messages:send`.
public struct FCMRecordedMessage: Sendable {
    /// The project id from the path.
    public var projectID: String
    /// The `Authorization` header.
    public var authorization: String?
    /// The whole JSON body, if it was JSON.
    public var body: FakeJSON?
    /// HTTP status answered.
    public var status: Int
    /// `ok` or the FCM error code answered (`UNREGISTERED`, `QUOTA_EXCEEDED`, `INVALID_ARGUMENT`, …).
    public var outcome: String
    /// The message name returned on success.
    public var name: String?
    /// A violation of the FCM API by the sender, if any.
    public var violation: String?

    /// `message`.
    public var message: FakeJSON? { body?["message"] }
    /// `message.token`.
    public var token: String? { message?["token"]?.stringValue }
    /// `message.notification.title`.
    public var title: String? { message?["notification"]?["title"]?.stringValue }
    /// `message.notification.body`.
    public var text: String? { message?["notification"]?["body"]?.stringValue }
    /// `message.data` as strings.
    public var data: [String: String] {
        (message?["data"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
    }
    /// `message.android.priority`.
    public var androidPriority: String? { message?["android"]?["priority"]?.stringValue }
}

/// A clock tests can move by hand, shared by a client under test and a fake server.
public final class ManualClock: Sendable {
    private let current: NIOLockedValueBox<Date>

    /// Creates a clock showing `start`.
    public init(start: Date = Date()) {
        current = NIOLockedValueBox(start)
    }

    /// The clock's time.
    public func now() -> Date {
        current.withLockedValue { $0 }
    }

    /// Moves the clock forward.
    public func advance(by seconds: TimeInterval) {
        current.withLockedValue { $0 = $0.addingTimeInterval(seconds) }
    }
}

/// A fake FCM HTTP v1 API and Google OAuth2 token endpoint on 127.0.0.1.
///
/// - `POST /token` checks `grant_type`, verifies the RS256 JWT assertion against the test service
///   account's public key (iss, aud = this endpoint's URL, scope, exp − iat ≤ 3600, times around now)
///   and issues access tokens with a configurable `expires_in`.
/// - `POST /v1/projects/{id}/messages:send` checks the bearer token (issued and not expired), the
///   project id and the message shape (exactly one target; notification title/body strings; data
///   values strings, no reserved keys; android priority NORMAL/HIGH; no unknown fields), records the
///   message and answers with the programmed per-token outcome in FCM's real error shape.
///
/// Use ``serviceAccountJSON()`` for a key file that points at this fake.
public final class FakeFCMServer: Sendable {
    /// The project id the fake accepts.
    public let projectID: String
    /// The service account e-mail the fake expects as JWT issuer.
    public let clientEmail: String

    let state: FCMFakeState
    private let server = LoopbackServer()
    private let portBox = PortBox()

    /// Creates a fake (not yet listening).
    /// - Parameters:
    ///   - projectID: the project id in `messages:send` paths.
    ///   - clientEmail: the service account e-mail expected as JWT issuer.
    ///   - accessTokenLifetime: `expires_in` of issued access tokens, in seconds.
    ///   - now: the clock used to check JWT times and access-token expiry.
    public init(
        projectID: String = "replyflow-test",
        clientEmail: String = "fcm-sender@replyflow-test.iam.gserviceaccount.com",
        accessTokenLifetime: Int = 3599,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.projectID = projectID
        self.clientEmail = clientEmail
        self.state = FCMFakeState(
            projectID: projectID, clientEmail: clientEmail, lifetime: accessTokenLifetime, now: now
        )
    }

    /// Starts listening and returns the base URL (use it as FCM `apiBaseURL`).
    @discardableResult
    public func start() async throws -> URL {
        let state = self.state
        let port = try await server.start(name: "FakeFCMServer") { request, _ in
            await FCMRequestHandler.handle(request, state: state)
        }
        await portBox.set(port)
        await state.setTokenURL("http://127.0.0.1:\(port)/token")
        return URL(string: "http://127.0.0.1:\(port)")!
    }

    /// Stops listening.
    public func stop() async {
        await server.stop()
        await portBox.set(nil)
    }

    /// The base URL once started.
    public var baseURL: URL? {
        get async { await portBox.port.map { URL(string: "http://127.0.0.1:\($0)")! } }
    }

    /// The token endpoint URL once started (`http://127.0.0.1:PORT/token`).
    public var tokenURL: String? {
        get async { await portBox.port.map { "http://127.0.0.1:\($0)/token" } }
    }

    /// A service-account file whose `token_uri` is this fake's token endpoint (call after ``start()``).
    public func serviceAccountJSON() async throws -> String {
        guard let tokenURL = await tokenURL else { throw LoopbackServerError.notStarted("FakeFCMServer") }
        return Self.makeServiceAccountJSON(tokenURI: tokenURL, projectID: projectID, clientEmail: clientEmail)
    }

    /// Builds the content of a service-account key file with the TEST RSA key.
    public static func makeServiceAccountJSON(
        tokenURI: String,
        projectID: String = "replyflow-test",
        clientEmail: String = "fcm-sender@replyflow-test.iam.gserviceaccount.com",
        privateKeyPEM: String = FakeFCMServer.testPrivateKeyPEM
    ) -> String {
        let object: FakeJSON = [
            "type": "service_account",
            "project_id": .string(projectID),
            "private_key_id": "0000000000000000000000000000000000000000",
            "private_key": .string(privateKeyPEM.hasSuffix("\n") ? privateKeyPEM : privateKeyPEM + "\n"),
            "client_email": .string(clientEmail),
            "client_id": "100000000000000000000",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": .string(tokenURI),
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "universe_domain": "googleapis.com",
        ]
        return object.jsonString
    }

    /// Checks a `messages:send` body as the fake does; returns the problem FCM would report, or nil.
    public static func problem(inSendBody body: FakeJSON) -> String? {
        FCMFakeState.validate(body)?.message
    }

    // MARK: Programming

    /// Sets the outcome for sends to `token`: for the next `times` sends, or for all when `times` is nil.
    public func setOutcome(_ outcome: FCMOutcome, forToken token: String, times: Int? = nil) async {
        await state.setOutcome(outcome, token: token, times: times)
    }

    /// Makes the next `count` token requests fail.
    public func failNextTokenRequests(_ count: Int, with failure: FCMTokenFailure) async {
        await state.failTokens(count, failure)
    }

    /// Changes `expires_in` of access tokens issued from now on.
    public func setAccessTokenLifetime(_ seconds: Int) async {
        await state.setLifetime(seconds)
    }

    /// Invalidates every access token issued so far (sends with them get 401 UNAUTHENTICATED).
    public func revokeAccessTokens() async {
        await state.revoke()
    }

    // MARK: Records

    /// Calls of the token endpoint.
    public func tokenRequests() async -> [FCMTokenRequest] {
        await state.tokenRecords
    }

    /// Calls of `messages:send`, accepted or not.
    public func messages() async -> [FCMRecordedMessage] {
        await state.messageRecords
    }

    /// Sends that were accepted (status 200).
    public func deliveredMessages() async -> [FCMRecordedMessage] {
        await state.messageRecords.filter { $0.status == 200 }
    }

    /// Every violation of the FCM or OAuth2 API seen so far, one line each.
    public func violations() async -> [String] {
        await state.violations
    }

    /// Forgets recorded requests and violations.
    public func resetRecords() async {
        await state.resetRecords()
    }

    /// Waits until at least `count` sends were recorded.
    @discardableResult
    public func waitForMessages(_ count: Int, timeout: Duration = .seconds(5)) async throws -> [FCMRecordedMessage] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let records = await state.messageRecords
            if records.count >= count { return records }
            if ContinuousClock.now >= deadline {
                throw FakeServerTimeout("waited \(timeout) for \(count) FCM send(s), got \(records.count)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// Routes raw HTTP requests of the fake FCM server.
enum FCMRequestHandler {
    static func handle(_ request: Request, state: FCMFakeState) async -> Response {
        var request = request
        let path = request.uri.path
        let body = (try? await request.collectBody(upTo: 1024 * 1024)) ?? ByteBuffer()
        guard request.method == .post else {
            return .json(googleError(405, "Method Not Allowed", "INVALID_ARGUMENT"), status: .init(code: 405))
        }
        if path == "/token" {
            let (status, json) = await state.token(contentType: request.headers[.contentType], body: body)
            return .json(json, status: .init(code: status))
        }
        let segments = path.split(separator: "/").map(String.init)
        if segments.count == 4, segments[0] == "v1", segments[1] == "projects", segments[3] == "messages:send" {
            let (status, json, retryAfter) = await state.send(
                projectID: segments[2], authorization: request.headers[.authorization],
                contentType: request.headers[.contentType], body: body
            )
            var headers: HTTPFields = [:]
            if let retryAfter { headers[.retryAfter] = String(retryAfter) }
            return .json(json, status: .init(code: status), headers: headers)
        }
        await state.recordViolation("unknown path \(path)")
        return .json(googleError(404, "Not Found", "NOT_FOUND"), status: .notFound)
    }

    static func googleError(_ code: Int, _ message: String, _ status: String, details: [FakeJSON] = []) -> FakeJSON {
        var error: [String: FakeJSON] = [
            "code": .int(Int64(code)), "message": .string(message), "status": .string(status),
        ]
        if !details.isEmpty { error["details"] = .array(details) }
        return ["error": .object(error)]
    }

    static func fcmError(_ code: Int, _ message: String, _ status: String, errorCode: String) -> FakeJSON {
        googleError(
            code, message, status,
            details: [
                [
                    "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": .string(errorCode),
                ]
            ])
    }

    static func badRequest(_ message: String, field: String) -> FakeJSON {
        googleError(
            400, message, "INVALID_ARGUMENT",
            details: [
                [
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [["field": .string(field), "description": .string(message)]],
                ]
            ])
    }
}

/// The claims the fake expects in the JWT assertion.
private struct AssertionClaims: JWTPayload {
    var iss: String?
    var scope: String?
    var aud: String?
    var iat: Double?
    var exp: Double?
    var sub: String?

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// State and behaviour of the fake FCM server.
actor FCMFakeState {
    let projectID: String
    let clientEmail: String
    private let now: @Sendable () -> Date
    private var lifetime: Int
    private var tokenURL = ""
    private let keys = JWTKeyCollection()
    private var keysLoaded = false

    private(set) var tokenRecords: [FCMTokenRequest] = []
    private(set) var messageRecords: [FCMRecordedMessage] = []
    private(set) var violations: [String] = []
    private var accessTokens: [String: Date] = [:]
    private var issued = 0
    private var sent = 0
    private var outcomes: [String: [(outcome: FCMOutcome, remaining: Int?)]] = [:]
    private var tokenFailures: [FCMTokenFailure] = []

    init(projectID: String, clientEmail: String, lifetime: Int, now: @escaping @Sendable () -> Date) {
        self.projectID = projectID
        self.clientEmail = clientEmail
        self.lifetime = lifetime
        self.now = now
    }

    func setTokenURL(_ url: String) { tokenURL = url }
    func setLifetime(_ seconds: Int) { lifetime = seconds }
    func revoke() { accessTokens.removeAll() }
    func failTokens(_ count: Int, _ failure: FCMTokenFailure) {
        tokenFailures.append(contentsOf: Array(repeating: failure, count: max(0, count)))
    }
    func recordViolation(_ text: String) { violations.append(text) }
    func resetRecords() {
        tokenRecords = []
        messageRecords = []
        violations = []
    }

    func setOutcome(_ outcome: FCMOutcome, token: String, times: Int?) {
        if times == nil { outcomes[token] = [] }
        outcomes[token, default: []].append((outcome, times))
    }

    private func takeOutcome(for token: String) -> FCMOutcome {
        guard var queue = outcomes[token], !queue.isEmpty else { return .success }
        let entry = queue[0]
        if let remaining = entry.remaining {
            if remaining <= 1 { queue.removeFirst() } else { queue[0].remaining = remaining - 1 }
            outcomes[token] = queue
        }
        return entry.outcome
    }

    // MARK: Token endpoint

    func token(contentType: String?, body: ByteBuffer) async -> (Int, FakeJSON) {
        var record = FCMTokenRequest(grantType: nil, claims: nil, issuedToken: nil, expiresIn: nil, status: 400, error: nil)
        func reject(_ status: Int, _ error: String, _ description: String, violation: Bool = true) -> (Int, FakeJSON) {
            record.status = status
            record.error = "\(error): \(description)"
            tokenRecords.append(record)
            if violation { violations.append("token: \(error): \(description)") }
            return (status, ["error": .string(error), "error_description": .string(description)])
        }
        let mediaType = RequestParsing.headerValueAndParameters(contentType ?? "").0.lowercased()
        guard mediaType == "application/x-www-form-urlencoded" else {
            return reject(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded, got \(contentType ?? "none")")
        }
        let form = Dictionary(
            RequestParsing.parseURLEncoded(String(decoding: body.readableBytesView, as: UTF8.self)),
            uniquingKeysWith: { _, last in last }
        )
        record.grantType = form["grant_type"]
        guard form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer" else {
            return reject(400, "unsupported_grant_type", "Invalid grant_type: \(form["grant_type"] ?? "")")
        }
        guard let assertion = form["assertion"], !assertion.isEmpty else {
            return reject(400, "invalid_request", "Missing required parameter: assertion")
        }
        if !keysLoaded {
            if let key = try? Insecure.RSA.PrivateKey(pem: FakeFCMServer.testPrivateKeyPEM) {
                await keys.add(rsa: key.publicKey, digestAlgorithm: .sha256)
            }
            keysLoaded = true
        }
        let claims: AssertionClaims
        do {
            claims = try await keys.verify(assertion, as: AssertionClaims.self)
        } catch {
            return reject(400, "invalid_grant", "Invalid JWT Signature.")
        }
        let parts = assertion.split(separator: ".")
        if parts.count == 3, let headerData = Data(base64URL: String(parts[0])),
            let header = try? FakeJSON.parse(headerData)
        {
            if header["alg"]?.stringValue != "RS256" {
                return reject(400, "invalid_grant", "JWT header alg must be RS256")
            }
        }
        record.claims = [
            "iss": claims.iss.map(FakeJSON.string) ?? .null, "scope": claims.scope.map(FakeJSON.string) ?? .null,
            "aud": claims.aud.map(FakeJSON.string) ?? .null,
            "iat": claims.iat.map { .int(Int64($0)) } ?? .null, "exp": claims.exp.map { .int(Int64($0)) } ?? .null,
        ]
        guard claims.iss == clientEmail else {
            return reject(400, "invalid_grant", "Invalid JWT: iss is \(claims.iss ?? "missing"), expected \(clientEmail)")
        }
        guard claims.aud == tokenURL else {
            return reject(400, "invalid_grant", "Invalid JWT: aud is \(claims.aud ?? "missing"), expected \(tokenURL)")
        }
        let scopes = (claims.scope ?? "").split(separator: " ").map(String.init)
        guard
            scopes.contains("https://www.googleapis.com/auth/firebase.messaging")
                || scopes.contains("https://www.googleapis.com/auth/cloud-platform")
        else {
            return reject(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided: \(claims.scope ?? "none")")
        }
        let current = now().timeIntervalSince1970
        guard let iat = claims.iat, let exp = claims.exp, exp > iat, exp - iat <= 3600,
            iat <= current + 300, exp > current
        else {
            return reject(
                400, "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."
            )
        }
        if !tokenFailures.isEmpty {
            switch tokenFailures.removeFirst() {
            case .serverError:
                return reject(503, "backend_error", "The service is currently unavailable.", violation: false)
            case .invalidGrant:
                return reject(400, "invalid_grant", "Invalid JWT Signature.", violation: false)
            }
        }
        issued += 1
        let accessToken = "ya29.fake-access-token-\(issued)"
        accessTokens[accessToken] = now().addingTimeInterval(TimeInterval(lifetime))
        record.issuedToken = accessToken
        record.expiresIn = lifetime
        record.status = 200
        tokenRecords.append(record)
        return (200, ["access_token": .string(accessToken), "expires_in": .int(Int64(lifetime)), "token_type": "Bearer"])
    }

    // MARK: messages:send

    func send(projectID: String, authorization: String?, contentType: String?, body: ByteBuffer) -> (Int, FakeJSON, Int?) {
        var record = FCMRecordedMessage(
            projectID: projectID, authorization: authorization, body: try? FakeJSON.parse(Data(body.readableBytesView)),
            status: 400, outcome: "INVALID_ARGUMENT", name: nil, violation: nil
        )
        func reject(_ status: Int, _ code: String, _ json: FakeJSON, _ violation: String) -> (Int, FakeJSON, Int?) {
            record.status = status
            record.outcome = code
            record.violation = violation
            messageRecords.append(record)
            violations.append("messages:send: \(violation)")
            return (status, json, nil)
        }

        let bearerPrefix = "Bearer "
        guard let authorization, authorization.hasPrefix(bearerPrefix),
            let expiry = accessTokens[String(authorization.dropFirst(bearerPrefix.count))]
        else {
            return reject(
                401, "UNAUTHENTICATED",
                FCMRequestHandler.googleError(
                    401,
                    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
                    "UNAUTHENTICATED"
                ), "missing or unknown bearer token")
        }
        guard expiry > now() else {
            return reject(
                401, "UNAUTHENTICATED",
                FCMRequestHandler.googleError(
                    401, "Request had invalid authentication credentials. The access token expired.", "UNAUTHENTICATED"
                ), "expired access token used")
        }
        guard projectID == self.projectID else {
            return reject(
                403, "PERMISSION_DENIED",
                FCMRequestHandler.googleError(
                    403,
                    "Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/\(projectID)' (or it may not exist).",
                    "PERMISSION_DENIED"
                ), "wrong project id \(projectID)")
        }
        let mediaType = RequestParsing.headerValueAndParameters(contentType ?? "").0.lowercased()
        guard mediaType == "application/json" else {
            return reject(
                400, "INVALID_ARGUMENT", FCMRequestHandler.badRequest("Content-Type must be application/json", field: ""),
                "Content-Type \(contentType ?? "none")")
        }
        guard let json = record.body else {
            return reject(
                400, "INVALID_ARGUMENT", FCMRequestHandler.badRequest("Invalid JSON payload received.", field: ""),
                "body is not JSON")
        }
        if let problem = Self.validate(json) {
            return reject(400, "INVALID_ARGUMENT", FCMRequestHandler.badRequest(problem.message, field: problem.field), problem.message)
        }
        let token = json["message"]?["token"]?.stringValue ?? ""
        let outcome = token.isEmpty ? .success : takeOutcome(for: token)
        func programmed(_ status: Int, _ json: FakeJSON, _ code: String, retryAfter: Int? = nil) -> (Int, FakeJSON, Int?) {
            record.status = status
            record.outcome = code
            messageRecords.append(record)
            return (status, json, retryAfter)
        }
        switch outcome {
        case .success:
            sent += 1
            let name = "projects/\(projectID)/messages/0:\(1_700_000_000_000 + sent)%fake"
            record.status = 200
            record.outcome = "ok"
            record.name = name
            messageRecords.append(record)
            return (200, ["name": .string(name)], nil)
        case .unregistered:
            return programmed(404, FCMRequestHandler.fcmError(404, "Requested entity was not found.", "NOT_FOUND", errorCode: "UNREGISTERED"), "UNREGISTERED")
        case .invalidToken:
            return programmed(
                400,
                FCMRequestHandler.fcmError(
                    400, "The registration token is not a valid FCM registration token", "INVALID_ARGUMENT", errorCode: "INVALID_ARGUMENT"
                ), "INVALID_ARGUMENT")
        case .senderIDMismatch:
            return programmed(
                403, FCMRequestHandler.fcmError(403, "SenderId mismatch", "PERMISSION_DENIED", errorCode: "SENDER_ID_MISMATCH"), "SENDER_ID_MISMATCH")
        case .quotaExceeded(let retryAfter):
            return programmed(
                429,
                FCMRequestHandler.fcmError(
                    429, "Quota exceeded for quota metric 'Send requests' and limit 'Send requests per minute'.",
                    "RESOURCE_EXHAUSTED", errorCode: "QUOTA_EXCEEDED"
                ), "QUOTA_EXCEEDED", retryAfter: retryAfter)
        case .unavailable(let retryAfter):
            return programmed(
                503, FCMRequestHandler.fcmError(503, "The service is currently unavailable.", "UNAVAILABLE", errorCode: "UNAVAILABLE"),
                "UNAVAILABLE", retryAfter: retryAfter)
        case .internalError:
            return programmed(500, FCMRequestHandler.fcmError(500, "Internal error encountered.", "INTERNAL", errorCode: "INTERNAL"), "INTERNAL")
        case .thirdPartyAuthError:
            return programmed(
                401,
                FCMRequestHandler.fcmError(
                    401, "Auth error from APNS or Web Push Service", "UNAUTHENTICATED", errorCode: "THIRD_PARTY_AUTH_ERROR"
                ), "THIRD_PARTY_AUTH_ERROR")
        }
    }

    /// Checks a `messages:send` body; returns the first problem.
    static func validate(_ json: FakeJSON) -> (message: String, field: String)? {
        guard case .object(let top) = json else { return ("Invalid JSON payload received.", "") }
        for key in top.keys.sorted() where !["message", "validate_only"].contains(key) {
            return ("Invalid JSON payload received. Unknown name \"\(key)\": Cannot find field.", key)
        }
        if let validate = top["validate_only"], validate.boolValue == nil || validate.stringValue != nil {
            return ("Invalid value at 'validate_only' (TYPE_BOOL)", "validate_only")
        }
        guard case .object(let message)? = top["message"] else {
            return ("Invalid JSON payload received. 'message' must be an object.", "message")
        }
        let allowed: Set<String> = ["name", "data", "notification", "android", "webpush", "apns", "fcm_options", "token", "topic", "condition"]
        for key in message.keys.sorted() where !allowed.contains(key) {
            return ("Invalid JSON payload received. Unknown name \"\(key)\" at 'message': Cannot find field.", "message.\(key)")
        }
        let targets = ["token", "topic", "condition"].filter { message[$0] != nil }
        guard targets.count == 1 else {
            return ("Exactly one of token, topic or condition must be set, got \(targets.count)", "message")
        }
        guard let target = message[targets[0]]?.stringValue, !target.isEmpty else {
            return ("Invalid value at 'message.\(targets[0])' (TYPE_STRING)", "message.\(targets[0])")
        }
        if let notification = message["notification"] {
            guard case .object(let fields) = notification else {
                return ("Invalid value at 'message.notification'", "message.notification")
            }
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
                guard ["title", "body", "image"].contains(key) else {
                    return (
                        "Invalid JSON payload received. Unknown name \"\(key)\" at 'message.notification': Cannot find field.", "message.notification.\(key)"
                    )
                }
                guard value.stringValue != nil else {
                    return ("Invalid value at 'message.notification.\(key)' (TYPE_STRING)", "message.notification.\(key)")
                }
            }
        }
        if let data = message["data"] {
            guard case .object(let fields) = data else { return ("Invalid value at 'message.data'", "message.data") }
            for (index, (key, value)) in fields.sorted(by: { $0.key < $1.key }).enumerated() {
                guard value.stringValue != nil else {
                    return ("Invalid value at 'message.data[\(index)].value' (TYPE_STRING)", "message.data[\(index)].value")
                }
                let lower = key.lowercased()
                if ["from", "message_type"].contains(lower) || lower.hasPrefix("google.") || lower.hasPrefix("gcm.") {
                    return ("Invalid data key \"\(key)\": reserved", "message.data")
                }
            }
        }
        if let android = message["android"] {
            guard case .object(let fields) = android else { return ("Invalid value at 'message.android'", "message.android") }
            let known: Set<String> = ["collapse_key", "priority", "ttl", "restricted_package_name", "data", "notification", "fcm_options", "direct_boot_ok"]
            for key in fields.keys.sorted() where !known.contains(key) {
                return ("Invalid JSON payload received. Unknown name \"\(key)\" at 'message.android': Cannot find field.", "message.android.\(key)")
            }
            if let priority = fields["priority"], !["NORMAL", "HIGH"].contains(priority.stringValue ?? "") {
                return (
                    "Invalid value at 'message.android.priority' (type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority)",
                    "message.android.priority"
                )
            }
        }
        if let apns = message["apns"] {
            guard case .object(let fields) = apns else { return ("Invalid value at 'message.apns'", "message.apns") }
            for key in fields.keys.sorted() where !["headers", "payload", "fcm_options", "live_activity_token"].contains(key) {
                return ("Invalid JSON payload received. Unknown name \"\(key)\" at 'message.apns': Cannot find field.", "message.apns.\(key)")
            }
            if let payload = fields["payload"] {
                guard case .object(let payloadFields) = payload, case .object? = payloadFields["aps"] ?? .object([:]) else {
                    return ("Invalid value at 'message.apns.payload'", "message.apns.payload")
                }
            }
            if let headers = fields["headers"] {
                guard case .object(let values) = headers, values.values.allSatisfy({ $0.stringValue != nil }) else {
                    return ("Invalid value at 'message.apns.headers'", "message.apns.headers")
                }
            }
        }
        if json.jsonString.utf8.count > 4096 + 512 {
            return ("Message is too big", "message")
        }
        return nil
    }
}

extension Data {
    /// Decodes base64url without padding.
    init?(base64URL: String) {
        var text = base64URL.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        self.init(base64Encoded: text)
    }
}
