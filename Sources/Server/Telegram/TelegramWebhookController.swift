import Channels
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Storage

/// `POST /webhooks/telegram`: updates pushed by Telegram when `TELEGRAM_WEBHOOK_URL` is
/// set. Requests without the registered secret get 403. The update is kept in the inbox
/// before the 200 (a failure to keep it is a 500, and Telegram delivers it again), then
/// handled by the dispatcher, so Telegram never waits for the AI.
struct TelegramWebhookController<Context: RequestContext>: Sendable {
    let dispatcher: TelegramDispatcher
    let inbox: any TelegramInbox
    let secret: String
    let logger: Logger

    func addRoutes(to router: Router<Context>) {
        router.post("/webhooks/telegram", use: receive)
    }

    @Sendable func receive(_ request: Request, context: Context) async throws -> Response {
        let given = request.headers[.init("X-Telegram-Bot-Api-Secret-Token")!] ?? ""
        guard ConstantTime.equals(given, secret) else {
            throw APIError(.forbidden, "wrong or missing X-Telegram-Bot-Api-Secret-Token")
        }
        let body = try await request.body.collect(upTo: 1024 * 1024)
        let update: TelegramUpdate
        do {
            update = try JSONDecoder().decode(TelegramUpdate.self, from: Data(body.readableBytesView))
        } catch {
            throw APIError.badRequest("the body is not a Telegram update")
        }
        try await inbox.add([KeptUpdate(updateID: update.updateID, chatID: TelegramDispatcher.chat(update), body: String(buffer: body))], at: Date())
        await dispatcher.submit([update])
        // Telegram sends at most a few updates at once: holding the answer while the
        // dispatcher is far behind slows it down instead of letting the backlog grow.
        await dispatcher.waitForRoom()
        return JSONBody.response(["ok": true])
    }
}

/// Registers the webhook (with its secret) once the server is up: not before it listens,
/// since a server that then fails to get its port would have moved the webhook away from
/// the one running.
struct WebhookRegistration: Service {
    let telegram: TelegramClient
    let url: String
    let secret: String
    let listening: ListeningGate
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            do { try await listening.wait() } catch { return }
            await register()
        }
        try? await gracefulShutdown()
    }

    private func register() async {
        var attempt = 0
        while !Task.isCancelled {
            do {
                try await telegram.setWebhook(url: url, secretToken: secret, allowedUpdates: ["message"])
                logger.info("Telegram webhook registered", metadata: ["url": "\(url)"])
                break
            } catch {
                attempt += 1
                logger.warning("setWebhook failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(min(60, 1 << min(attempt, 6))))
            }
        }
    }
}
