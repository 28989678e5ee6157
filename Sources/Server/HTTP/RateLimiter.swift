import Foundation
import Synchronization

/// Fixed one-minute windows per key (a user id, a client address): simple, constant
/// memory per active key, and the `Retry-After` it answers is exact.
final class RateLimiter: Sendable {
    private struct Window {
        var start: Int
        var count: Int
    }

    private let limit: Int
    private let windows = Mutex<[String: Window]>([:])
    private let clock: @Sendable () -> Date

    /// `limit` requests per minute; 0 turns the limiter off.
    init(perMinute limit: Int, clock: @escaping @Sendable () -> Date = Date.init) {
        self.limit = limit
        self.clock = clock
    }

    var isEnabled: Bool { limit > 0 }

    /// Nil when the request may go ahead, otherwise the seconds until the next window.
    func check(_ key: String) -> Int? {
        guard limit > 0 else { return nil }
        let now = clock().timeIntervalSince1970
        let minute = Int(now / 60)
        return windows.withLock { windows in
            if windows.count > 100_000 { windows = windows.filter { $0.value.start == minute } }
            var window = windows[key] ?? Window(start: minute, count: 0)
            if window.start != minute { window = Window(start: minute, count: 0) }
            guard window.count < limit else {
                return max(1, Int(((Double(minute + 1) * 60) - now).rounded(.up)))
            }
            window.count += 1
            windows[key] = window
            return nil
        }
    }
}
