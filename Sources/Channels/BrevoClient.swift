import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// A client for Brevo Conversations, through which Instagram DMs are answered:
/// `POST {baseURL}/conversations/messages` with the `api-key` header.
///
/// Every message carries `receivedFrom`, so that when Brevo sends it back through the
/// conversations webhook it is recognised as the service's own and not answered again.
/// One attempt per call; failures are thrown as ``DeliveryError`` (429 and 5xx retryable).
public struct BrevoClient: Sendable {
    /// The `receivedFrom` mark of every message this service sends.
    public static let receivedFromMark = "replyflow"

    /// The API root, `https://api.brevo.com/v3` by default.
    public let baseURL: String
    private let apiKey: String
    private let agentID: String
    private let httpClient: HTTPClient
    private let logger: Logger
    private let timeout: TimeAmount

    /// Creates a client.
    /// - Parameters:
    ///   - apiKey: the account's API key (`xkeysib-…`), sent as `api-key`.
    ///   - agentID: the Conversations agent the messages are sent as.
    ///   - baseURL: the API root without a trailing slash.
    public init(
        apiKey: String, agentID: String, baseURL: String = "https://api.brevo.com/v3", httpClient: HTTPClient, logger: Logger,
        timeout: TimeAmount = .seconds(30)
    ) {
        self.apiKey = apiKey
        self.agentID = agentID
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.httpClient = httpClient
        self.logger = logger
        self.timeout = timeout
    }

    /// Sends an agent message to a visitor; returns Brevo's id for it.
    public func sendMessage(visitorID: String, text: String) async throws -> String? {
        struct Body: Encodable {
            var visitorId: String
            var text: String
            var agentId: String
            var receivedFrom: String
        }
        var request = HTTPClientRequest(url: "\(baseURL)/conversations/messages")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "api-key", value: apiKey)
        do {
            let body = Body(visitorId: visitorID, text: text, agentId: agentID, receivedFrom: Self.receivedFromMark)
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        } catch {
            throw DeliveryError(.fail, "Brevo: could not encode the message: \(error)")
        }
        let response: CollectedResponse
        do {
            response = try await httpClient.collect(request, timeout: timeout, maxBodyBytes: 1024 * 1024)
        } catch {
            logger.debug("Brevo request failed", metadata: ["error": "\(error)"])
            throw DeliveryError.transport(error, service: "Brevo conversations/messages")
        }
        guard (200..<300).contains(response.status.code) else { throw classify(response) }
        struct Sent: Decodable { var id: String? }
        return (try? JSONDecoder().decode(Sent.self, from: response.bodyData))?.id
    }

    private func classify(_ response: CollectedResponse) -> DeliveryError {
        struct Failure: Decodable { var code: String?; var message: String? }
        let status = Int(response.status.code)
        let failure = try? JSONDecoder().decode(Failure.self, from: response.bodyData)
        let message = "Brevo conversations/messages: HTTP \(status): \(failure?.message ?? response.bodyExcerpt)"
        if status == 429 || status >= 500 {
            return DeliveryError(
                .retry(after: parseRetryAfter(response.headers.first(name: "Retry-After"))), message, httpStatus: status, serviceCode: failure?.code)
        }
        return DeliveryError(.fail, message, httpStatus: status, serviceCode: failure?.code)
    }
}
