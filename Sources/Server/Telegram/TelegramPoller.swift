import Channels
import Foundation
import Logging
import ServiceLifecycle
import Storage

/// Long polling (`getUpdates`), the default way updates arrive. The offset confirms
/// updates only after they are handled, so a crash mid-update gets it again (and the
/// stored update ids keep it from running twice). The updates of one batch are handled
/// side by side, one at a time per chat: a customer waiting for the AI does not hold up
/// the others, and each chat's messages keep their order.
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
                    let (failed, waiting) = await handleSideBySide(updates)
                    // A failed update is not confirmed: the next getUpdates brings it (and
                    // those after it, which are skipped as seen) again, a few times.
                    var retryFrom: Int64?
                    for update in updates {
                        if waiting.contains(update.updateID) {
                            retryFrom = retryFrom ?? update.updateID
                            continue
                        }
                        guard let error = failed[update.updateID] else {
                            attempts[update.updateID] = nil
                            continue
                        }
                        attempts[update.updateID, default: 0] += 1
                        let attempt = attempts[update.updateID] ?? 0
                        logger.error("could not handle a Telegram update", metadata: ["update_id": "\(update.updateID)", "attempt": "\(attempt)", "error": "\(error)"])
                        if attempt < 3 {
                            retryFrom = retryFrom ?? update.updateID
                        } else {
                            attempts[update.updateID] = nil
                        }
                    }
                    if let retryFrom {
                        offset = retryFrom
                        try await Task.sleep(for: .seconds(1))
                    } else if let last = updates.last {
                        offset = last.updateID + 1
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

    /// Handles a batch, chats side by side and each chat's updates in order. After a
    /// failure the rest of that chat's updates wait for the retry (`waiting`).
    private func handleSideBySide(_ updates: [TelegramUpdate]) async -> (failed: [Int64: any Error], waiting: Set<Int64>) {
        let chats = Dictionary(grouping: updates) { $0.message?.chat.id ?? 0 }
        return await withTaskGroup(of: ([Int64: any Error], Set<Int64>).self) { group in
            for (_, chatUpdates) in chats {
                group.addTask {
                    var failed: [Int64: any Error] = [:]
                    var waiting: Set<Int64> = []
                    for update in chatUpdates {
                        if !failed.isEmpty {
                            waiting.insert(update.updateID)
                            continue
                        }
                        do { try await handler.handle(update) } catch { failed[update.updateID] = error }
                    }
                    return (failed, waiting)
                }
            }
            var failed: [Int64: any Error] = [:]
            var waiting: Set<Int64> = []
            for await (chatFailed, chatWaiting) in group {
                failed.merge(chatFailed) { first, _ in first }
                waiting.formUnion(chatWaiting)
            }
            return (failed, waiting)
        }
    }
}
