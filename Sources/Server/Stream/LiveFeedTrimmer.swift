import Foundation
import Logging
import ServiceLifecycle
import Storage

/// Deletes shared live events older than `keep`, every `interval`, on the one instance
/// leading housekeeping. An instance resuming a stream needs only the events its
/// `LiveEventLog` keeps; older ones are of use only to an instance that could not read for
/// that long, which then tells its clients to reload (`SharedLivePublisher`).
struct LiveFeedTrimmer: Service {
    let feed: any SharedLiveFeed
    let leadership: any Leadership
    var keep: TimeInterval = 3_600
    var interval: Duration = .seconds(60)
    let clock: @Sendable () -> Date
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await leadership.whileLeading(.housekeeping) {
                while !Task.isCancelled {
                    do {
                        let deleted = try await feed.trim(before: clock().addingTimeInterval(-keep))
                        if deleted > 0 { logger.debug("live events: deleted old events", metadata: ["count": "\(deleted)"]) }
                    } catch {
                        logger.warning("live events: could not delete old events; trying again later", metadata: ["error": "\(error)"])
                    }
                    do { try await Task.sleep(for: interval) } catch { return }
                }
            }
        }
    }
}
