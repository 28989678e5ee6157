import AsyncHTTPClient
import Channels
import Flows
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import ServiceLifecycle
import SocketIO
import Storage

/// `replyflow serve`: everything wired in one place, so tests build the very same app.
public enum ReplyflowServer {
    /// The built application and the parts tests look into.
    public struct Built: Sendable {
        public var application: Application<RouterResponder<ServerRequestContext>>
        public var engine: FlowEngine
        public var database: ReplyflowDatabase
        let worker: OutboxWorker

        /// Waits until every queued delivery has been attempted (tests).
        public func waitForDeliveries() async {
            await worker.waitUntilIdle()
        }
    }

    /// Builds the application; throws `StartupError` for configuration problems.
    public static func build(
        configuration: ServerConfiguration, logger: Logger, clock: @escaping @Sendable () -> Date = Date.init,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> Built {
        let flows = try loadFlows(configuration.flowsDirectory)
        let database: ReplyflowDatabase
        do {
            database = try ReplyflowDatabase(path: configuration.databasePath)
        } catch {
            throw StartupError("cannot open the database \(configuration.databasePath): \(error)")
        }
        let uploads: UploadStore
        do {
            uploads = try UploadStore(directory: configuration.uploadsDirectory, maxBytes: configuration.maxUploadBytes)
        } catch {
            throw StartupError("cannot create the uploads folder \(configuration.uploadsDirectory): \(error)")
        }
        let queries = ServerQueries(database: database)
        // The process-wide client: it needs no shutdown, so an app that is built but
        // never run (tests, a failed start) leaves nothing behind.
        let httpClient = HTTPClient.shared

        var fcm: FCMClient?
        if let path = configuration.fcmServiceAccountPath {
            do {
                let account = try ServiceAccount.load(path: path)
                fcm = try FCMClient(serviceAccount: account, apiBaseURL: configuration.fcmAPIURL, httpClient: httpClient, logger: logger)
            } catch {
                throw StartupError("FCM_SERVICE_ACCOUNT_PATH=\(path): \(error)")
            }
        } else {
            logger.notice("push is off (FCM_SERVICE_ACCOUNT_PATH is not set): pushes are recorded in the outbox, not sent")
        }
        var telegram: TelegramClient?
        if let token = configuration.botToken, configuration.groupChatID != nil {
            telegram = TelegramClient(token: token, baseURL: configuration.telegramAPIURL, httpClient: httpClient, logger: logger)
        } else {
            logger.notice("Telegram is off (BOT_TOKEN and GROUP_CHAT_ID are not both set): messages for the staff group are recorded in the outbox, not sent")
        }

        let downloader = MediaDownloader(httpClient: httpClient)
        let assistant = makeAssistant(configuration: configuration, database: database, media: AssistantMedia(uploads: uploads, telegram: telegram, downloader: downloader), logger: logger)
        var brevo: BrevoClient?
        if let key = configuration.brevoAPIKey, let agent = configuration.brevoAgentID {
            brevo = BrevoClient(apiKey: key, agentID: agent, baseURL: configuration.brevoAPIURL, httpClient: httpClient, logger: logger)
        } else {
            logger.notice("Instagram replies are off (BREVO_API_KEY and BREVO_AGENT_ID are not both set): they are recorded in the outbox, not sent")
        }
        if configuration.brevoWebhookSecret == nil {
            logger.notice("the Brevo webhook is closed (BREVO_WEBHOOK_SECRET is not set): no Instagram messages come in")
        }

        let sockets = SocketIOServer(
            configuration: SocketIOConfiguration(
                pingInterval: .milliseconds(configuration.socketPingInterval), pingTimeout: .milliseconds(configuration.socketPingTimeout)),
            logger: logger)
        let chat = AppChatSockets(server: sockets, logger: logger)
        chat.install()

        let liveLog = LiveEventLog(retention: configuration.streamRetention)
        let publisher = LivePublisher(
            log: liveLog, conversations: ConversationQueries(database: database), autoModeDefault: configuration.autoModeDefault, logger: logger)
        let deliveries = DeliveryQueue()
        let engine = FlowEngine(
            flowSet: flows, database: database, configuration: configuration,
            services: .init(telegram: telegram != nil, push: fcm != nil, brevo: brevo != nil), assistant: assistant, logger: logger,
            published: { committed in
                if !committed.messages.isEmpty || !committed.chats.isEmpty { publisher.committed(committed) }
                if !committed.deliveries.isEmpty { deliveries.add(committed.deliveries) }
                if !committed.broadcasts.isEmpty { await chat.send(committed.broadcasts) }
            })

        let outbox = OutboxStore(database: database) { error in
            logger.error("could not record a delivery's result; it will be delivered again", metadata: ["error": "\(error)"])
        }
        var deliverers: [OutboxKind: any Deliverer] = [:]
        if let telegram, let group = configuration.groupChatID {
            deliverers[.telegramForward] = TelegramForwarder(
                telegram: telegram, groupChatID: group, topics: configuration.telegramTopics, uploads: uploads, queries: queries, outbox: outbox, clock: clock)
            deliverers[.telegramCopy] = TelegramCopier(telegram: telegram, groupChatID: group, outbox: outbox, clock: clock)
            deliverers[.telegramReply] = TelegramReplyDeliverer(telegram: telegram)
        }
        if let brevo {
            deliverers[.brevoMessage] = BrevoDeliverer(brevo: brevo, outbox: outbox)
        }
        if let fcm {
            deliverers[.push] = PushDeliverer(fcm: fcm, queries: queries, logger: logger)
        }
        let worker = OutboxWorker(store: outbox, deliverers: deliverers, logger: logger, maxAttempts: configuration.outboxMaxAttempts, clock: clock)

        let router = Router(context: ServerRequestContext.self)
        router.add(middleware: JSONErrorMiddleware(logger: logger))
        if configuration.rateLimitPerAddress > 0 {
            router.add(middleware: AddressRateLimitMiddleware(limiter: RateLimiter(perMinute: configuration.rateLimitPerAddress, clock: clock), trustedProxies: configuration.trustedProxies))
        }
        SeedAPIController<ServerRequestContext>(
            engine: engine, queries: queries, uploads: uploads, configuration: configuration,
            userLimiter: RateLimiter(perMinute: configuration.rateLimitPerUser, clock: clock), clock: clock, logger: logger
        ).addRoutes(to: router)
        let stream = StreamController<ServerRequestContext>(
            log: liveLog, tokens: StreamTokens(clock: clock), heartbeat: .seconds(configuration.streamHeartbeatSeconds))
        APIController<ServerRequestContext>(
            engine: engine, conversations: ConversationQueries(database: database), configuration: configuration, clock: clock, stream: stream
        ).addRoutes(to: router)
        BrevoWebhookController<ServerRequestContext>(
            engine: engine, uploads: uploads, downloader: downloader, secret: configuration.brevoWebhookSecret, clock: clock, logger: logger
        ).addRoutes(to: router)
        sockets.addRoutes(to: router)

        var services: [any Service] = [
            OutboxService(worker: worker, incoming: deliveries.stream), FlowReloader(directory: configuration.flowsDirectory, engine: engine, logger: logger),
            LivePublisherService(publisher: publisher),
        ]
        var webhookSecret: String?
        if let telegram, let group = configuration.groupChatID {
            let handler = TelegramUpdateHandler(
                telegram: telegram, groupChatID: group, topics: configuration.telegramTopics, engine: engine, queries: queries, uploads: uploads, clock: clock, logger: logger)
            let inbox = TelegramInbox(database: database)
            let dispatcher = TelegramDispatcher(inbox: inbox, logger: logger, handle: handler.handle)
            services.append(TelegramDispatcherService(dispatcher: dispatcher))
            if let url = configuration.telegramWebhookURL {
                let secret = configuration.telegramWebhookSecret ?? Self.randomSecret()
                webhookSecret = secret
                TelegramWebhookController<ServerRequestContext>(dispatcher: dispatcher, inbox: inbox, secret: secret, logger: logger).addRoutes(to: router)
                services.append(WebhookRegistration(telegram: telegram, url: url, secret: secret, logger: logger))
            } else {
                services.append(TelegramPoller(
                    telegram: telegram, dispatcher: dispatcher, inbox: inbox, queries: queries, timeout: configuration.telegramPollTimeout, logger: logger))
            }
        }
        if webhookSecret == nil {
            router.post("/webhooks/telegram") { _, _ -> Response in
                throw APIError(.notFound, "Telegram webhooks are off: set TELEGRAM_WEBHOOK_URL")
            }
        }
        // Closes every socket.io connection on shutdown, so clients reconnect elsewhere.
        services.append(sockets)

        var application = Application(
            router: router,
            server: .http1WebSocketUpgrade(webSocketRouter: router, configuration: sockets.configuration.webSocketUpgradeConfiguration),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "replyflow"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
        application.addServices(services)
        return Built(application: application, engine: engine, database: database, worker: worker)
    }

    static func makeAssistant(configuration: ServerConfiguration, database: ReplyflowDatabase, media: AssistantMedia, logger: Logger) -> (any AssistantService)? {
        let ai = configuration.openAI
        guard ai.enabled else {
            logger.notice("the AI is off (OPENAI_API_KEY and OPENAI_BASE_URL are not set): ask_assistant and transcribe fail, and the flows decide (the default hands the chat to staff)")
            return nil
        }
        logger.info("AI on", metadata: ["base_url": "\(ai.baseURL)", "mode": "\(ai.mode.rawValue)", "model": "\(ai.model)"])
        let client = OpenAIClient(apiKey: ai.apiKey, baseURL: ai.baseURL, httpClient: HTTPClient.shared, logger: logger, timeout: .seconds(Int64(ai.timeoutSeconds)))
        return Assistant(client: client, configuration: ai, database: database, media: media, retry: RetryPolicy(maxAttempts: ai.maxAttempts), logger: logger)
    }

    static func loadFlows(_ directory: String) throws -> FlowSet {
        let loaded = FlowLoader.load(directory: directory)
        let errors = loaded.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty, let flowSet = loaded.flowSet else {
            throw StartupError((errors.map(\.description) + ["the flows in \(directory) have \(errors.count) error(s); run `replyflow check --flows \(directory)`"]).joined(separator: "\n"))
        }
        return flowSet
    }

    static func randomSecret() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<48).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
    }
}

/// Hands committed deliveries from the engine to the outbox worker, in commit order.
final class DeliveryQueue: Sendable {
    let stream: AsyncStream<[OutboxItem]>
    private let continuation: AsyncStream<[OutboxItem]>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream()
    }

    func add(_ items: [OutboxItem]) {
        continuation.yield(items)
    }
}
