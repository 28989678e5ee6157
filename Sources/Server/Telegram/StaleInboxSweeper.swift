import Foundation
import Logging
import ServiceLifecycle
import Storage

/// On a shared database, updates can stay in the inbox with nobody to handle them: in
/// webhook mode an instance stores what Telegram sends it and answers 200 before handling
/// it, and may die in between (Telegram does not send it again); in either mode an
/// instance that stops while it holds a chat's lane leaves that chat's later updates, which
/// another instance found the lane taken for, and a lane whose database reads kept failing
/// is given up. The instance leading the sweep (`LeaderRole.telegramInboxSweep`) looks
/// every `interval` for updates kept longer than `age` and works their chats' lanes; a chat
/// another instance works now is left to it.
struct StaleInboxSweeper: Service {
    let dispatcher: TelegramDispatcher
    let leadership: any Leadership
    let clock: @Sendable () -> Date
    let logger: Logger
    var interval: Duration = .seconds(5)
    var age: TimeInterval = 10

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await leadership.whileLeading(.telegramInboxSweep) {
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
