import Channels
import Foundation
import Logging
import ServiceLifecycle
import Storage

/// Long polling (`getUpdates`), the default way updates arrive. The offset confirms
/// updates only after they are handled, so a crash mid-update gets it again (and the
/// stored update ids keep it from running twice).
struct TelegramPoller: Service {
    let telegram: TelegramClient
    let handler: TelegramUpdateHandler
    let queries: ServerQueries
    let timeout: Int
    let logger: Logger

    func run() async throws {
        // A webhook left registered would make getUpdates fail with 409.
        do { try await telegram.deleteWebhook() } catch { logger.warning("deleteWebhook failed", metadata: ["error": "\(error)"]) }
        let start = try queries.lastUpdateID().map { $0 + 1 }
        // On SIGTERM the long poll is cancelled rather than waited out.
        await cancelWhenGracefulShutdown { await poll(from: start) }
    }

    private func poll(from start: Int64?) async {
        var offset = start
        var failures = 0
        var attempts: [Int64: Int] = [:]
        do {
            while !Task.isCancelled {
                do {
                    let updates = try await telegram.getUpdates(offset: offset, timeout: timeout, allowedUpdates: ["message"])
                    failures = 0
                    for update in updates {
                        do {
                            try await handler.handle(update)
                        } catch {
                            // Not confirmed: the next getUpdates brings it again, a few times.
                            attempts[update.updateID, default: 0] += 1
                            logger.error("could not handle a Telegram update", metadata: ["update_id": "\(update.updateID)", "attempt": "\(attempts[update.updateID] ?? 0)", "error": "\(error)"])
                            if attempts[update.updateID, default: 0] < 3 {
                                try await Task.sleep(for: .seconds(1))
                                break
                            }
                        }
                        attempts[update.updateID] = nil
                        offset = update.updateID + 1
                    }
                } catch is CancellationError {
                    return
                } catch {
                    failures += 1
                    let wait = min(60.0, 0.5 * pow(2.0, Double(min(failures, 7))))
                    logger.warning("getUpdates failed; retrying", metadata: ["in_seconds": "\(wait)", "error": "\(error)"])
                    try await Task.sleep(for: .milliseconds(Int(wait * 1000)))
                }
            }
        } catch {
            // Cancelled: shutting down.
        }
    }
}
