import AsyncHTTPClient
import Foundation
import NIOCore

/// Downloads a file by URL (an attachment Brevo links to), up to a size limit.
public struct MediaDownloader: Sendable {
    private let httpClient: HTTPClient
    private let timeout: TimeAmount

    public init(httpClient: HTTPClient, timeout: TimeAmount = .seconds(60)) {
        self.httpClient = httpClient
        self.timeout = timeout
    }

    /// The file's bytes and the content type the server gave. Throws a `.fail`
    /// ``DeliveryError`` for a file over `maxBytes` or a URL that is not http(s).
    public func download(_ url: String, maxBytes: Int) async throws -> (data: Data, contentType: String?) {
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? "") else {
            throw DeliveryError(.fail, "media download: not an http(s) URL: \(url.prefix(200))")
        }
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        let response: CollectedResponse
        do {
            response = try await httpClient.collect(request, timeout: timeout, maxBodyBytes: maxBytes)
        } catch let error as BodyTooLargeError {
            throw DeliveryError(.fail, "media download: \(error)")
        } catch {
            throw DeliveryError.transport(error, service: "media download")
        }
        guard response.status == .ok else {
            let status = Int(response.status.code)
            throw DeliveryError(status >= 500 || status == 429 ? .retry(after: nil) : .fail, "media download: HTTP \(status)", httpStatus: status)
        }
        return (response.bodyData, response.headers.first(name: "Content-Type"))
    }
}
