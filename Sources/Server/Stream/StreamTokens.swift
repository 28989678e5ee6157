import Foundation
import Synchronization

/// Short-lived tokens for `GET /api/stream?token=...`: a browser's `EventSource` cannot
/// send `X-API-Key`, and putting the key itself in a URL would leak it into proxy logs.
/// A token is issued by an authenticated `POST /api/stream/token`, works for `lifetime`
/// (reconnects included), and opens nothing but the stream.
final class StreamTokens: Sendable {
    private let tokens = Mutex<[String: Date]>([:])
    let lifetime: TimeInterval
    private let clock: @Sendable () -> Date

    init(lifetime: TimeInterval = 600, clock: @escaping @Sendable () -> Date = Date.init) {
        self.lifetime = lifetime
        self.clock = clock
    }

    func issue() -> (token: String, expires: Date) {
        var generator = SystemRandomNumberGenerator()
        let token = (0..<4).map { _ in String(generator.next() as UInt64, radix: 36) }.joined()
        let expires = clock().addingTimeInterval(lifetime)
        tokens.withLock { tokens in
            let now = clock()
            tokens = tokens.filter { $0.value > now }
            tokens[token] = expires
        }
        return (token, expires)
    }

    func isValid(_ token: String) -> Bool {
        let now = clock()
        return tokens.withLock { tokens in
            guard let expires = tokens[token] else { return false }
            return expires > now
        }
    }
}
