import Foundation
import Logging
import ServiceLifecycle
import Storage

/// In webhook mode on a shared database, every instance stores the updates Telegram sends
/// it and answers 200 before handling them: an instance that dies in between leaves them
/// in the inbox, and Telegram does not send them again. The instance leading the Telegram
/// role (no one polls in webhook mode) looks every `interval` for updates kept longer than
/// `age` and works their chats' lanes; a chat another instance works now is left to it.
struct StaleInboxSweeper: Service {
    let dispatcher: TelegramDispatcher
    let leadership: any Leadership
    let clock: @Sendable () -> Date
    let logger: Logger
    var interval: Duration = .seconds(5)
    var age: TimeInterval = 10

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await leadership.whileLeading(.telegramPoller) {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: interval) } catch { return }
                    do {
                        try await dispatcher.takeOverStale(receivedBefore: clock().addingTimeInterval(-age))
                    } catch {
                        if Task.isCancelled { return }
                        logger.warning("could not read the Telegram inbox for updates left by another instance", metadata: ["error": "\(error)"])
                    }
                }
            }
        }
    }
}
