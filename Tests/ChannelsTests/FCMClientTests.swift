import AsyncHTTPClient
import Channels
import Foundation
import TestServers
import Testing
import TestSupport

@Suite("FCMClient against FakeFCMServer", .timeLimit(.minutes(5)), .machineShare)
struct FCMClientTests {
    /// A started fake, a client using the same manual clock, and the service account file in between.
    struct Harness {
        var fake: FakeFCMServer
        var client: FCMClient
        var clock: ManualClock
        var account: ServiceAccount
    }

    func withFCM(
        lifetime: Int = 3599,
        privateKeyPEM: String = FakeFCMServer.testPrivateKeyPEM,
        _ body: (Harness) async throws -> Void
    ) async throws {
        let clock = ManualClock(start: Date(timeIntervalSince1970: 1_800_000_000))
        let fake = FakeFCMServer(accessTokenLifetime: lifetime, now: { clock.now() })
        let base = try await fake.start()
        let tokenURL = try #require(await fake.tokenURL)
        let json = FakeFCMServer.makeServiceAccountJSON(tokenURI: tokenURL, privateKeyPEM: privateKeyPEM)
        let file = try writeTemporaryFile(json)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let account = try ServiceAccount.load(path: file.path)
        let client = try FCMClient(
            serviceAccount: account, apiBaseURL: base.absoluteString, httpClient: .shared, logger: testLogger(),
            now: { clock.now() }
        )
        do {
            try await body(Harness(fake: fake, client: client, clock: clock, account: account))
        } catch {
            await fake.stop()
            throw error
        }
        await fake.stop()
    }

    @Test func sendsMessagesAndReusesTheAccessToken() async throws {
        try await withFCM { h in
            var names: [String] = []
            for index in 0..<3 {
                names.append(
                    try await h.client.send(
                        token: "device-\(index)", title: "New reply", body: "Hello <\(index)> & more",
                        data: ["chat_id": "42", "kind": "reply"]
                    ))
            }
            #expect(Set(names).count == 3)
            #expect(names.allSatisfy { $0.hasPrefix("projects/replyflow-test/messages/") })

            let tokens = await h.fake.tokenRequests()
            #expect(tokens.count == 1)
            #expect(await h.client.accessTokenFetchCount == 1)
            let claims = try #require(tokens.first?.claims)
            #expect(claims["iss"] == .string(h.account.clientEmail))
            #expect(claims["aud"] == .string(h.account.tokenURI))
            #expect(claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging")
            let iat = try #require(claims["iat"]?.intValue)
            #expect(claims["exp"]?.intValue == iat + 3600)
            #expect(iat == Int64(1_800_000_000))

            let messages = await h.fake.deliveredMessages()
            #expect(messages.count == 3)
            let first = try #require(messages.first)
            #expect(first.token == "device-0")
            #expect(first.title == "New reply")
            #expect(first.text == "Hello <0> & more")
            #expect(first.data == ["chat_id": "42", "kind": "reply"])
            #expect(first.androidPriority == "HIGH")
            #expect(first.message?["apns"]?["payload"]?["aps"]?["sound"] == "default")
            let issued = try #require(tokens.first?.issuedToken)
            #expect(first.authorization == "Bearer \(issued)")
            #expect(await h.fake.violations().isEmpty)

            // No title: the notification has only a body; no data: the field is left out.
            _ = try await h.client.send(token: "device-x", title: nil, body: "just a body")
            let last = try #require(await h.fake.deliveredMessages().last)
            #expect(last.message?["notification"] == ["body": "just a body"])
            #expect(last.message?["data"] == nil)
        }
    }

    @Test func concurrentSendsShareOneTokenFetch() async throws {
        try await withFCM { h in
            try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<12 {
                    group.addTask { try await h.client.send(token: "t\(index)", title: "T", body: "B", data: [:]) }
                }
                var count = 0
                for try await _ in group { count += 1 }
                #expect(count == 12)
            }
            #expect(await h.fake.tokenRequests().count == 1)
            #expect(await h.fake.deliveredMessages().count == 12)
        }
    }

    @Test func refreshesTheTokenFiveMinutesBeforeExpiry() async throws {
        try await withFCM(lifetime: 3599) { h in
            _ = try await h.client.send(token: "a", title: nil, body: "1")
            h.clock.advance(by: 3599 - 301)  // still more than 5 minutes left
            _ = try await h.client.send(token: "a", title: nil, body: "2")
            #expect(await h.fake.tokenRequests().count == 1)

            h.clock.advance(by: 2)  // less than 5 minutes left: refresh
            _ = try await h.client.send(token: "a", title: nil, body: "3")
            let tokens = await h.fake.tokenRequests()
            #expect(tokens.count == 2)
            let refreshedAt: Int64 = 1_800_000_000 + 3599 - 299
            #expect(tokens[1].claims?["iat"]?.intValue == refreshedAt)
            let auth = await h.fake.deliveredMessages().map(\.authorization)
            #expect(auth[1] != auth[2])
            let second = try #require(tokens[1].issuedToken)
            #expect(auth[2] == "Bearer \(second)")

            // Long after expiry: a new token, never the expired one (the fake would record a violation).
            h.clock.advance(by: 10 * 3600)
            _ = try await h.client.send(token: "a", title: nil, body: "4")
            #expect(await h.fake.tokenRequests().count == 3)
            #expect(await h.fake.violations().isEmpty)
        }
    }

    @Test func shortLivedTokensAreRefreshedEveryTime() async throws {
        // expires_in below the 5-minute margin: every send needs a fresh token.
        try await withFCM(lifetime: 200) { h in
            _ = try await h.client.send(token: "a", title: nil, body: "1")
            _ = try await h.client.send(token: "a", title: nil, body: "2")
            #expect(await h.fake.tokenRequests().count == 2)
        }
    }

    @Test func staleTokensAreDropped() async throws {
        try await withFCM { h in
            await h.fake.setOutcome(.unregistered, forToken: "gone")
            await h.fake.setOutcome(.invalidToken, forToken: "garbage")
            await h.fake.setOutcome(.senderIDMismatch, forToken: "other-project")
            for token in ["gone", "garbage", "other-project"] {
                let error = await expectDeliveryError { _ = try await h.client.send(token: token, title: "t", body: "b") }
                #expect(error?.disposition == .dropRecipient, "token \(token)")
            }
            let gone = await expectDeliveryError { _ = try await h.client.send(token: "gone", title: "t", body: "b") }
            #expect(gone?.serviceCode == "UNREGISTERED")
            #expect(gone?.httpStatus == 404)
            #expect(await h.fake.messages().map(\.outcome) == ["UNREGISTERED", "INVALID_ARGUMENT", "SENDER_ID_MISMATCH", "UNREGISTERED"])
            #expect(await h.fake.violations().isEmpty)
        }
    }

    @Test func retryableErrorsCarryRetryAfter() async throws {
        try await withFCM { h in
            await h.fake.setOutcome(.quotaExceeded(retryAfter: 7), forToken: "busy", times: 1)
            let quota = await expectDeliveryError { _ = try await h.client.send(token: "busy", title: nil, body: "b") }
            #expect(quota?.disposition == .retry(after: .seconds(7)))
            #expect(quota?.serviceCode == "QUOTA_EXCEEDED")
            // Only once: the next send to the same token goes through.
            _ = try await h.client.send(token: "busy", title: nil, body: "b")

            await h.fake.setOutcome(.unavailable(retryAfter: nil), forToken: "u", times: 1)
            let unavailable = await expectDeliveryError { _ = try await h.client.send(token: "u", title: nil, body: "b") }
            #expect(unavailable?.disposition == .retry(after: nil))

            await h.fake.setOutcome(.unavailable(retryAfter: 30), forToken: "u2", times: 1)
            let unavailable2 = await expectDeliveryError { _ = try await h.client.send(token: "u2", title: nil, body: "b") }
            #expect(unavailable2?.disposition == .retry(after: .seconds(30)))

            await h.fake.setOutcome(.internalError, forToken: "i", times: 1)
            let internalError = await expectDeliveryError { _ = try await h.client.send(token: "i", title: nil, body: "b") }
            #expect(internalError?.disposition == .retry(after: nil))

            await h.fake.setOutcome(.thirdPartyAuthError, forToken: "apns")
            let auth = await expectDeliveryError { _ = try await h.client.send(token: "apns", title: nil, body: "b") }
            #expect(auth?.disposition == .fail)
            #expect(auth?.serviceCode == "THIRD_PARTY_AUTH_ERROR")
            #expect(await h.fake.tokenRequests().count == 1)
        }
    }

    @Test func revokedAccessTokenIsRetriedWithAFreshOne() async throws {
        try await withFCM { h in
            _ = try await h.client.send(token: "a", title: nil, body: "1")
            await h.fake.revokeAccessTokens()
            let error = await expectDeliveryError { _ = try await h.client.send(token: "a", title: nil, body: "2") }
            #expect(error?.disposition == .retry(after: nil))
            _ = try await h.client.send(token: "a", title: nil, body: "3")
            #expect(await h.fake.tokenRequests().count == 2)
        }
    }

    @Test func tokenEndpointFailuresAreClassified() async throws {
        try await withFCM { h in
            await h.fake.failNextTokenRequests(1, with: .serverError)
            let server = await expectDeliveryError { _ = try await h.client.send(token: "a", title: nil, body: "b") }
            #expect(server?.disposition == .retry(after: nil))

            await h.fake.failNextTokenRequests(1, with: .invalidGrant)
            let grant = await expectDeliveryError { _ = try await h.client.send(token: "a", title: nil, body: "b") }
            #expect(grant?.disposition == .fail)
            #expect(grant?.serviceCode == "invalid_grant")

            _ = try await h.client.send(token: "a", title: nil, body: "b")
            #expect(await h.fake.tokenRequests().map(\.status) == [503, 400, 200])
            #expect(await h.fake.messages().count == 1)
        }
    }

    @Test func assertionSignedWithAnotherKeyIsRejected() async throws {
        try await withFCM(privateKeyPEM: FakeFCMServer.otherTestPrivateKeyPEM) { h in
            let error = await expectDeliveryError { _ = try await h.client.send(token: "a", title: nil, body: "b") }
            #expect(error?.disposition == .fail)
            #expect(error?.description.contains("Invalid JWT Signature") == true)
            #expect(await h.fake.violations() == ["token: invalid_grant: Invalid JWT Signature."])
            #expect(await h.fake.messages().isEmpty)
        }
    }

    @Test func fakeRejectsMalformedMessages() {
        func problem(_ json: FakeJSON) -> String? { FakeFCMServer.problem(inSendBody: json) }
        #expect(problem(["message": ["token": "t", "notification": ["title": "a", "body": "b"], "data": ["k": "v"]]]) == nil)
        #expect(problem(["message": ["token": "t", "data": ["count": 3]]])?.contains("message.data[0].value") == true)
        #expect(problem(["message": ["token": "t", "topic": "news"]]) != nil)
        #expect(problem(["message": ["notification": ["body": "b"]]]) != nil)
        #expect(problem(["message": ["token": "t", "notification": ["body": 5]]]) != nil)
        #expect(problem(["message": ["token": "t", "android": ["priority": "high"]]]) != nil)
        #expect(problem(["message": ["token": "t", "data": ["google.x": "1"]]]) != nil)
        #expect(problem(["message": ["token": "t", "colour": "red"]]) != nil)
        #expect(problem(["msg": ["token": "t"]]) != nil)
    }
}

@Suite("ServiceAccount.load", .timeLimit(.minutes(5)), .machineShare)
struct ServiceAccountTests {
    let valid = FakeFCMServer.makeServiceAccountJSON(tokenURI: "https://oauth2.googleapis.com/token")

    func loadError(_ contents: String?) throws -> ServiceAccountError? {
        let file = try contents.map { try writeTemporaryFile($0) }
        defer { if let file { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) } }
        let path = file?.path ?? "/nonexistent/\(UUID().uuidString)/sa.json"
        do {
            _ = try ServiceAccount.load(path: path)
            return nil
        } catch let error as ServiceAccountError {
            #expect(!error.description.contains("\n"))
            #expect(error.description.contains(path))
            return error
        }
    }

    func replacing(_ key: String, with value: FakeJSON?) throws -> String {
        guard case .object(var object) = try FakeJSON.parse(valid) else { return valid }
        object[key] = value
        return FakeJSON.object(object).jsonString
    }

    @Test func loadsAValidFile() throws {
        let file = try writeTemporaryFile(valid)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let account = try ServiceAccount.load(path: file.path)
        #expect(account.projectID == "replyflow-test")
        #expect(account.clientEmail == "fcm-sender@replyflow-test.iam.gserviceaccount.com")
        #expect(account.tokenURI == "https://oauth2.googleapis.com/token")
        #expect(account.type == "service_account")
        #expect(account.privateKey.hasPrefix("-----BEGIN PRIVATE KEY-----"))
    }

    @Test func reportsClearErrors() throws {
        #expect(try loadError(nil)?.problem == .fileMissing)
        #expect(try loadError("this is { not json")?.problem == .notJSON)
        #expect(try loadError("[1, 2]")?.problem == .notJSON)
        let missing = try loadError(try replacing("private_key", with: nil))
        #expect(missing?.problem == .missingField("private_key"))
        #expect(missing?.description.contains("missing field \"private_key\"") == true)
        #expect(try loadError(try replacing("client_email", with: nil))?.problem == .missingField("client_email"))
        #expect(try loadError(try replacing("project_id", with: 12))?.problem == .invalidField("project_id", "must be a non-empty string"))
        #expect(
            try loadError(try replacing("type", with: "authorized_user"))?.problem
                == .invalidField("type", "is \"authorized_user\", expected \"service_account\""))
        let badKey = try loadError(try replacing("private_key", with: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
        if case .invalidPrivateKey = badKey?.problem {} else { Issue.record("expected invalidPrivateKey, got \(String(describing: badKey))") }
        #expect(badKey?.description.contains("private_key is not a valid RSA private key") == true)
    }
}
