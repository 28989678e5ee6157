import Foundation
import Synchronization

/// At most `limit` requests per key (a user id, a client address) in any `window` seconds (60 unless told): a
/// sliding window, so a burst at the end of one minute and another at the start of the
/// next cannot double the limit, as calendar-minute windows allowed.
///
/// Each active key keeps the times of its last `limit` accepted requests in a ring; a
/// request is accepted when the oldest of them is at least 60 seconds old. Checking is
/// O(1), memory is `limit` times per key seen in the last minute, and the `Retry-After`
/// it answers is exact: the moment the oldest accepted request leaves the window.
final class RateLimiter: Sendable {
    /// The times of one key's last accepted requests (at most `limit`), oldest at
    /// `oldest` once the ring is full.
    private struct Recent {
        var times: [Double]
        var oldest = 0

        var newest: Double { times[(oldest + times.count - 1) % times.count] }

        /// Counts a request at `now` and returns nil, or returns the seconds to wait.
        mutating func admit(at now: Double, limit: Int, window: Double) -> Double? {
            if times.count < limit {
                times.append(now)
                return nil
            }
            // A clock set back leaves `now` before the oldest time: the wait counts from it.
            let wait = times[oldest] + window - now
            guard wait <= 0 else { return wait }
            times[oldest] = now
            oldest = (oldest + 1) % limit
            return nil
        }
    }

    static let minute: Double = 60
    /// Seconds a counted request is remembered.
    let window: Double
    /// Keys kept before those idle for a whole window are dropped.
    static let pruneThreshold = 100_000

    /// How many keys are kept (for tests of the pruning).
    var keyCount: Int { state.withLock { $0.recent.count } }

    private let limit: Int
    private struct State {
        var recent: [String: Recent] = [:]
        /// Prune when this many keys are kept; doubles when most keys are active, so a
        /// large active population does not make every check a scan.
        var pruneAt = RateLimiter.pruneThreshold
    }

    private let state = Mutex(State())
    private let clock: @Sendable () -> Date

    /// `limit` requests per minute; 0 turns the limiter off.
    convenience init(perMinute limit: Int, clock: @escaping @Sendable () -> Date = Date.init) {
        self.init(limit: limit, perSeconds: Self.minute, clock: clock)
    }

    /// `limit` requests in any `window` seconds (failed logins: per quarter of an hour).
    init(limit: Int, perSeconds window: Double, clock: @escaping @Sendable () -> Date = Date.init) {
        self.limit = limit
        self.window = window
        self.clock = clock
    }

    var isEnabled: Bool { limit > 0 }

    /// Nil when the request may go ahead (it is then counted), otherwise the whole seconds
    /// until it would be accepted (at least 1). Refused requests are not counted.
    func check(_ key: String) -> Int? {
        guard limit > 0 else { return nil }
        let now = clock().timeIntervalSince1970
        return state.withLock { state in
            if state.recent.count > state.pruneAt {
                state.recent = state.recent.filter { now - $0.value.newest < self.window }
                state.pruneAt = max(Self.pruneThreshold, 2 * state.recent.count)
            }
            guard let index = state.recent.index(forKey: key) else {
                var times: [Double] = []
                times.reserveCapacity(limit)
                times.append(now)
                state.recent[key] = Recent(times: times)
                return nil
            }
            // Mutated in place through `values`, so the ring is not copied on every check.
            guard let wait = state.recent.values[index].admit(at: now, limit: limit, window: window) else { return nil }
            return max(1, Int(wait.rounded(.up)))
        }
    }

    /// Like `check`, but counts nothing: the seconds until a request for `key` would be
    /// accepted, or nil now. (Failed logins are counted after they fail, and an attempt is
    /// refused while its key is full.)
    func wait(for key: String) -> Int? {
        guard limit > 0 else { return nil }
        let now = clock().timeIntervalSince1970
        return state.withLock { state in
            guard let recent = state.recent[key], recent.times.count >= limit else { return nil }
            let wait = recent.times[recent.oldest] + window - now
            return wait > 0 ? max(1, Int(wait.rounded(.up))) : nil
        }
    }
}
