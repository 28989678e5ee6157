import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A response read completely into memory.
struct CollectedResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: ByteBuffer

    var bodyData: Data { Data(body.readableBytesView) }

    /// A short, printable excerpt of the body for error messages.
    var bodyExcerpt: String {
        let text = String(decoding: body.readableBytesView.prefix(300), as: UTF8.self)
        return text.replacingOccurrences(of: "\n", with: " ")
    }
}

/// Thrown when a response body is larger than the caller allowed.
struct BodyTooLargeError: Error, CustomStringConvertible {
    var limit: Int
    var description: String { "response body is larger than \(limit) bytes" }
}

extension HTTPClient {
    /// Executes one request and collects at most `maxBodyBytes` of its body.
    func collect(
        _ request: HTTPClientRequest,
        timeout: TimeAmount,
        maxBodyBytes: Int
    ) async throws -> CollectedResponse {
        let response = try await self.execute(request, timeout: timeout)
        if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > maxBodyBytes {
            throw BodyTooLargeError(limit: maxBodyBytes)
        }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw BodyTooLargeError(limit: maxBodyBytes)
        }
        return CollectedResponse(status: response.status, headers: response.headers, body: body)
    }
}

/// Parses an HTTP `Retry-After` value: either delay-seconds or an HTTP-date.
func parseRetryAfter(_ value: String?, now: Date = Date()) -> Duration? {
    guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
    if let seconds = Int(value), seconds >= 0 {
        return .seconds(seconds)
    }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
    if let date = formatter.date(from: value) {
        let delta = max(0, date.timeIntervalSince(now))
        return .seconds(Int(delta.rounded(.up)))
    }
    return nil
}

/// `application/x-www-form-urlencoded` encoding of one value.
func formURLEncode(_ value: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    // `alphanumerics` includes non-ASCII letters; restrict to ASCII so everything else is escaped.
    var result = ""
    for scalar in value.unicodeScalars {
        if scalar.isASCII, allowed.contains(scalar) {
            result.unicodeScalars.append(scalar)
        } else {
            for byte in String(scalar).utf8 {
                result += String(format: "%%%02X", byte)
            }
        }
    }
    return result
}
