import Crypto
import Foundation

/// Short-lived tokens for `GET /api/stream?token=...`: a browser's `EventSource` cannot
/// send `X-API-Key`, and putting the key itself in a URL would leak it into proxy logs.
/// A token is issued by an authenticated `POST /api/stream/token`, works for `lifetime`
/// (reconnects included), and opens nothing but the stream.
///
/// A token is `EXPIRY.NONCE.MAC`: its expiry (seconds since 1970), 16 random bytes, and
/// an HMAC-SHA256 of both under a key derived from `API_KEY`. Nothing is stored, so every
/// instance sharing `API_KEY` accepts the tokens of every other (a client whose stream
/// moves to another instance behind the load balancer keeps its token), and a restart
/// does not void them. Changing `API_KEY` voids them all.
struct StreamTokens: Sendable {
    let lifetime: TimeInterval
    /// Nil without `API_KEY`: then no token is ever valid (none can be issued either).
    private let key: SymmetricKey?
    private let clock: @Sendable () -> Date

    init(apiKey: String?, lifetime: TimeInterval = 600, clock: @escaping @Sendable () -> Date = Date.init) {
        // A key of its own, not `API_KEY` itself: a MAC under the API key must never be
        // mistaken for anything else made with it.
        key = apiKey.map { apiKey in
            SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data("replyflow stream tokens v1".utf8), using: SymmetricKey(data: Data(apiKey.utf8))))
        }
        self.lifetime = lifetime
        self.clock = clock
    }

    func issue() -> (token: String, expires: Date) {
        let expiry = Int((clock().timeIntervalSince1970 + lifetime).rounded(.up))
        var generator = SystemRandomNumberGenerator()
        let nonce = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }.hexadecimal
        let payload = "\(expiry).\(nonce)"
        return (payload + "." + (mac(payload) ?? ""), Date(timeIntervalSince1970: TimeInterval(expiry)))
    }

    func isValid(_ token: String) -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let expiry = Int(parts[0]), TimeInterval(expiry) > clock().timeIntervalSince1970,
            let expected = mac("\(parts[0]).\(parts[1])")
        else { return false }
        return ConstantTime.equals(String(parts[2]), expected)
    }

    /// The payload's HMAC in hex; nil without a key.
    private func mac(_ payload: String) -> String? {
        key.map { HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: $0).hexadecimal }
    }
}
