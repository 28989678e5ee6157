import Channels
import Foundation
import Logging
import ServiceLifecycle
import Storage

/// Long polling (`getUpdates`), the default way updates arrive. Each batch is written to
/// the inbox, confirmed to Telegram by the next offset, and handed to the dispatcher,
/// which handles it chat by chat while polling goes on (`TelegramDispatcherService`
/// handles what a crash or a shutdown left in the inbox at the next start).
///
/// Only the leader among the servers of a database polls (`LeaderRole.telegramPoller`):
/// a new leader resumes from the offset stored in the database.
struct TelegramPoller: Service {
    let telegram: TelegramClient
    let dispatcher: TelegramDispatcher
    let inbox: any TelegramInbox
    let queries: any ServerQueries
    let timeout: Int
    /// Opens once the server listens: polling in place of a running server (whose port
    /// this one then fails to get) would take its updates and drop its webhook.
    let listening: ListeningGate
    let leadership: any Leadership
    let logger: Logger

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await listening.wait() }
        } catch {
            return
        }
        // On SIGTERM the long poll is cancelled rather than waited out.
        await cancelWhenGracefulShutdown {
            await leadership.whileLeading(.telegramPoller) { await lead() }
        }
    }

    /// Polls from the stored offset until cancelled (a shutdown, or the lead lost).
    private func lead() async {
        // A webhook left registered would make getUpdates fail with 409.
        do { try await telegram.deleteWebhook() } catch { logger.warning("deleteWebhook failed", metadata: ["error": "\(error)"]) }
        var failures = 0
        while !Task.isCancelled {
            do {
                // What the previous leader kept and did not handle goes first: polling
                // resumes after it, and Telegram has forgotten it.
                try await dispatcher.takeOverPending()
                let start = try await [queries.lastUpdateID(), inbox.lastUpdateID()].compactMap { $0 }.max().map { $0 + 1 }
                await poll(from: start)
                return
            } catch {
                failures += 1
                logger.error("cannot read the Telegram inbox or the stored offset; not polling yet", metadata: ["error": "\(error)"])
                do { try await Task.sleep(for: .seconds(min(30, failures * 2))) } catch { return }
            }
        }
    }

    private func poll(from start: Int64?) async {
        var offset = start
        var failures = 0
        let encoder = JSONEncoder()
        while !Task.isCancelled {
            do {
                await dispatcher.waitForRoom()
                let updates = try await telegram.getUpdates(offset: offset, timeout: timeout, allowedUpdates: ["message"])
                failures = 0
                guard let last = updates.last else { continue }
                // Kept before the next offset tells Telegram to forget them.
                try await inbox.add(
                    try updates.map { update in
                        KeptUpdate(
                            updateID: update.updateID, chatID: TelegramDispatcher.chat(update), body: String(decoding: try encoder.encode(update), as: UTF8.self))
                    }, at: Date())
                offset = last.updateID + 1
                await dispatcher.submit(updates)
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                failures += 1
                let wait = min(60.0, 0.5 * pow(2.0, Double(min(failures, 7))))
                logger.warning("getUpdates failed; retrying", metadata: ["in_seconds": "\(wait)", "error": "\(error)"])
                do { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) } catch { return }
            }
        }
    }
}
