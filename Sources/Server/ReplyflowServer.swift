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
import Synchronization

/// `replyflow serve`: everything wired in one place, so tests build the very same app.
///
/// Three steps: `buildServices` opens the database and makes the clients, the engine and
/// the workers; `buildRouter` puts the controllers on a router; `buildApplication` joins
/// them into the Hummingbird application with its background services.
public enum ReplyflowServer {
    /// The application, and the parts tests look into.
    public struct ServerApp: Sendable {
        public var application: Application<RouterResponder<ServerRequestContext>>
        public var engine: FlowEngine
        /// The database it runs on, and the seams built from it.
        public var storage: ServerStorage
        /// What the server measures; `/metrics` renders its registry.
        public var metrics: ServerMetrics
        let worker: OutboxWorker
        let deliveries: DeliveryQueue
        let deliveryRetry: DeliveryRetry

        /// The SQLite file of an app built on one (tests look into it); an app on
        /// PostgreSQL has none, and asking is the test's mistake.
        public var database: ReplyflowDatabase {
            guard let database = storage.sqlite else { preconditionFailure("this app runs on PostgreSQL: read it through storage") }
            return database
        }

        /// Waits until every delivery committed so far (and what a restart resumed) has
        /// been attempted, retries included (tests; the app must be running).
        public func waitForDeliveries() async {
            await deliveries.waitUntilHanded()
            await worker.waitUntilIdle()
        }

        /// "Retry" on a failed delivery: the outbox item goes back to pending and to the
        /// running worker at once (`DeliveryRetry`). Throws `OutboxRetryError`.
        @discardableResult public func retryDelivery(itemID: Int64) async throws -> OutboxItem {
            try await deliveryRetry.retry(itemID: itemID)
        }
    }

    /// Builds the application; throws `StartupError` for configuration problems.
    /// `ports`, when given, replaces the outside services the configuration would make
    /// (tests pass recording fakes); Telegram updates still come in through the
    /// configured Telegram client. `storage` is the database to run on; without it the
    /// SQLite file at DATABASE_PATH is opened, and `leadership` says whether this server is
    /// the one of its database that polls Telegram (by default it is: `SoleServer`).
    public static func buildApplication(
        configuration: ServerConfiguration, logger: Logger, clock: @escaping @Sendable () -> Date = Date.init, ports: ServerPorts? = nil,
        storage given: ServerStorage? = nil, leadership: any Leadership = SoleServer(),
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> ServerApp {
        let storage = try given ?? openSQLite(configuration, leadership: leadership, logger: logger)
        try checkSupported(configuration, on: storage)
        let services = try buildServices(configuration: configuration, storage: storage, logger: logger, clock: clock, ports: ports)
        let router = buildRouter(services, configuration: configuration, clock: clock, logger: logger)
        // Telegram is told nothing (webhook set or deleted, updates taken) before every
        // address is bound: see `ListeningGate`.
        let metricsExposure = MetricsExposure(configuration)
        let listening = ListeningGate(listeners: metricsExposure.hasOwnAddress ? 2 : 1)
        var background: [any Service] = [
            OutboxService(worker: services.worker, incoming: services.deliveries),
            FlowReloader(directory: configuration.flowsDirectory, engine: services.engine, logger: logger),
            LivePublisherService(publisher: services.publisher),
        ]
        if let reachability = services.storage.reachability {
            background.append(ReachabilityService(reachability: reachability))
        }
        if let feed = services.storage.liveFeed {
            background.append(LiveFeedTrimmer(feed: feed, leadership: services.storage.leadership, clock: clock, logger: logger))
        }
        // RETENTION_DAYS_*: old rows deleted in small batches, at start and hourly.
        if configuration.retention.isActive {
            background.append(
                RetentionService(
                    policy: configuration.retention, database: services.storage.retention, uploadsDirectory: configuration.uploadsDirectory,
                    clock: clock, logger: logger, leadership: services.storage.leadership))
        }
        if let telegram = services.telegramInput {
            background.append(TelegramDispatcherService(dispatcher: telegram.dispatcher))
            if case .postgres = services.storage.database {
                background.append(StaleInboxSweeper(dispatcher: telegram.dispatcher, leadership: telegram.leadership, clock: clock, logger: logger))
            }
            if let url = configuration.telegramWebhookURL {
                background.append(
                    WebhookRegistration(telegram: telegram.client, url: url, secret: telegram.webhookSecret, listening: listening, logger: logger))
            } else {
                background.append(
                    TelegramPoller(
                        telegram: telegram.client, dispatcher: telegram.dispatcher, inbox: telegram.inbox, queries: services.queries,
                        timeout: configuration.telegramPollTimeout, listening: listening, leadership: telegram.leadership, logger: logger))
            }
        }
        // Closes every socket.io connection on shutdown, so clients reconnect elsewhere.
        background.append(services.sockets)
        // `/metrics` on an address of its own, when METRICS_PORT asks for it.
        if let metricsApplication = metricsExposure.application(
            metricsController(services, clock: clock, logger: logger), logger: logger,
            onServerRunning: { port in
                listening.listening()
                logger.notice("/metrics is served without the key", metadata: ["address": "\(configuration.metricsHost):\(port)"])
            })
        {
            background.append(metricsApplication)
        }

        var application = Application(
            router: router,
            server: .socketIO(
                webSocketRouter: router, configuration: services.sockets.configuration, requestTimeout: .seconds(configuration.requestTimeoutSeconds),
                idleTimeout: .seconds(configuration.idleTimeoutSeconds)),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "replyflow"),
            onServerRunning: { channel in
                listening.listening()
                await onServerRunning(channel.localAddress?.port ?? configuration.port)
            },
            logger: logger)
        application.addServices(background)
        return ServerApp(
            application: application, engine: services.engine, storage: services.storage, metrics: services.metrics, worker: services.worker,
            deliveries: services.deliveries,
            deliveryRetry: services.deliveryRetry)
    }

    // MARK: Services

    /// What the router and the background services are built from.
    struct Services: Sendable {
        var storage: ServerStorage
        var metrics: ServerMetrics
        var uploads: UploadStore
        var queries: any ServerQueries
        var downloader: MediaDownloader
        var engine: FlowEngine
        var worker: OutboxWorker
        var deliveries: DeliveryQueue
        /// "Retry" on a failed delivery: queued again and handed to `worker` at once.
        var deliveryRetry: DeliveryRetry
        var sockets: SocketIOServer
        var liveLog: LiveEventLog { publisher.log }
        var publisher: any LiveSource
        /// Telegram updates in: present when Telegram is configured.
        var telegramInput: TelegramInput?
        /// Where voice files are fetched from (Telegram, or by URL).
        var media: AssistantMedia
    }

    /// The parts that take Telegram updates in (polling or the webhook).
    struct TelegramInput: Sendable {
        var client: TelegramClient
        var inbox: any TelegramInbox
        var dispatcher: TelegramDispatcher
        var webhookSecret: String
        /// Whether this server is the one that polls (see `LeaderRole.telegramPoller`).
        var leadership: any Leadership
    }

    /// Opens the database and the uploads folder, makes the service clients (each
    /// unconfigured one says so in the log), the engine, the outbox worker, socket.io and
    /// the live stream's publisher.
    static func buildServices(
        configuration: ServerConfiguration, storage: ServerStorage, logger: Logger, clock: @escaping @Sendable () -> Date, ports given: ServerPorts?
    ) throws -> Services {
        let flows = try loadFlows(configuration.flowsDirectory)
        if flows.flows.isEmpty {
            logger.warning(
                "FLOWS_DIR=\(configuration.flowsDirectory) holds no flows: messages are stored but nothing forwards, answers or pushes them; add .yaml flows (they are picked up without a restart)"
            )
        }
        let uploads: UploadStore
        do {
            uploads = try UploadStore(directory: configuration.uploadsDirectory, maxBytes: configuration.maxUploadBytes)
        } catch {
            throw StartupError("UPLOADS_DIR=\(configuration.uploadsDirectory) \(error): it must be a folder the server can write photos to")
        }
        let queries = storage.queries
        // This app's own registry, handed to whatever records (see `ServerMetrics`).
        let metrics = ServerMetrics()
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
        var brevo: BrevoClient?
        if let key = configuration.brevoAPIKey, let agent = configuration.brevoAgentID {
            brevo = BrevoClient(apiKey: key, agentID: agent, baseURL: configuration.brevoAPIURL, httpClient: httpClient, logger: logger)
        } else {
            logger.notice("Instagram replies are off (BREVO_API_KEY and BREVO_AGENT_ID are not both set): they are recorded in the outbox, not sent")
        }
        if configuration.brevoWebhookSecret == nil {
            logger.notice("the Brevo webhook is closed (BREVO_WEBHOOK_SECRET is not set): no Instagram messages come in")
        }

        // Photos for the AI, and voice files for the AI and the inbox's player.
        let media = AssistantMedia(uploads: uploads, telegram: telegram, downloader: downloader)
        let ports =
            given
            ?? ServerPorts(
                staffGroup: telegram.flatMap { telegram in configuration.groupChatID.map { TelegramStaffGroup(telegram: telegram, chatID: $0) } },
                telegramChats: telegram.map(TelegramCustomerChats.init), instagramChats: brevo.map(BrevoCustomerChats.init),
                push: fcm.map(FCMPushSender.init),
                assistant: makeAssistant(
                    configuration: configuration, storage: storage, media: media, logger: logger))

        let sockets = SocketIOServer(
            configuration: SocketIOConfiguration(
                pingInterval: .milliseconds(configuration.socketPingInterval), pingTimeout: .milliseconds(configuration.socketPingTimeout)),
            logger: logger)
        let chat = AppChatSockets(server: sockets, logger: logger)
        chat.install()

        let deliveries = DeliveryQueue()
        // Alone on SQLite, a server shows its own commits from memory; sharing PostgreSQL,
        // every server shows what the feed holds, its own commits included.
        let publisher: any LiveSource
        let published: @Sendable (CommittedRun) async -> Void
        if let feed = storage.liveFeed {
            let shared = SharedLivePublisher(
                log: LiveEventLog(retention: configuration.streamRetention, firstID: 1), feed: feed, sockets: chat,
                autoModeDefault: configuration.autoModeDefault, logger: logger)
            publisher = shared
            published = { committed in
                if !committed.messages.isEmpty || !committed.chats.isEmpty || !committed.broadcasts.isEmpty { shared.committed() }
                if !committed.deliveries.isEmpty { deliveries.add(committed.deliveries) }
            }
        } else {
            let local = LivePublisher(
                log: LiveEventLog(retention: configuration.streamRetention), conversations: storage.conversations,
                autoModeDefault: configuration.autoModeDefault, logger: logger)
            publisher = local
            published = { committed in
                if !committed.messages.isEmpty || !committed.chats.isEmpty { local.committed(committed) }
                if !committed.deliveries.isEmpty { deliveries.add(committed.deliveries) }
                if !committed.broadcasts.isEmpty { await chat.send(committed.broadcasts) }
            }
        }
        let engine = FlowEngine(
            flowSet: flows, store: storage.runs, configuration: configuration,
            services: .init(telegram: ports.staffGroup != nil, push: ports.push != nil, brevo: ports.instagramChats != nil), assistant: ports.assistant,
            metrics: metrics, logger: logger, published: published)

        let outbox = storage.outbox
        var deliverers: [OutboxKind: any Deliverer] = [:]
        if let group = ports.staffGroup {
            deliverers[.telegramForward] = TelegramForwarder(
                group: group, topics: configuration.telegramTopics, uploads: uploads, queries: queries, outbox: outbox, clock: clock)
            deliverers[.telegramCopy] = TelegramCopier(group: group, outbox: outbox, clock: clock)
            if let chats = ports.telegramChats {
                deliverers[.telegramReply] = TelegramReplyDeliverer(chats: chats, group: group, groupChatID: configuration.groupChatID ?? 0)
            }
        }
        if let chats = ports.instagramChats {
            deliverers[.brevoMessage] = BrevoDeliverer(chats: chats, outbox: outbox)
        }
        if let push = ports.push {
            deliverers[.push] = PushDeliverer(push: push, queries: queries, logger: logger)
        }
        let worker = OutboxWorker(
            outbox: outbox, deliverers: deliverers, metrics: metrics, logger: logger, maxAttempts: configuration.outboxMaxAttempts, clock: clock)

        var telegramInput: TelegramInput?
        if let telegram, let group = configuration.groupChatID {
            let handler = TelegramUpdateHandler(
                telegram: telegram, groupChatID: group, topics: configuration.telegramTopics, engine: engine, queries: queries, uploads: uploads, clock: clock,
                logger: logger)
            let inbox = storage.telegramInbox
            telegramInput = TelegramInput(
                client: telegram, inbox: inbox, dispatcher: TelegramDispatcher(inbox: inbox, lanes: storage.telegramLanes, logger: logger, handle: handler.handle),
                webhookSecret: configuration.telegramWebhookSecret ?? Self.randomSecret(), leadership: storage.leadership)
        }
        return Services(
            storage: storage, metrics: metrics, uploads: uploads, queries: queries, downloader: downloader, engine: engine, worker: worker,
            deliveries: deliveries, deliveryRetry: DeliveryRetry(outbox: outbox, deliveries: deliveries, clock: clock), sockets: sockets,
            publisher: publisher, telegramInput: telegramInput, media: media)
    }

    // MARK: Router

    /// The seed's API, the `/api` and its stream, the webhooks and socket.io, behind the
    /// JSON error and rate-limit middleware; the admin panel under `/admin` (`AdminController`).
    static func buildRouter(_ services: Services, configuration: ServerConfiguration, clock: @escaping @Sendable () -> Date, logger: Logger) -> Router<
        ServerRequestContext
    > {
        // HEAD on every GET route, as probes and caches expect (the seed's Flask answered
        // it): the GET's status and headers, Content-Length included, without the body.
        let router = Router(context: ServerRequestContext.self, options: .autoGenerateHeadEndpoints)
        // Outermost: it sees the status every other middleware settled on.
        router.add(middleware: HTTPMetricsMiddleware(metrics: services.metrics))
        router.add(middleware: JSONErrorMiddleware(logger: logger))
        // The panel's pages and assets (the built-in ones include the inbox's).
        let adminPages = AdminPages()
        // Under /admin: errors as pages (JSON under /admin/api/), and the security headers.
        router.add(middleware: AdminResponseMiddleware<ServerRequestContext>(pages: adminPages, logger: logger))
        if let reachability = services.storage.reachability {
            router.add(middleware: DatabaseOutageMiddleware<ServerRequestContext>(reachability: reachability))
        }
        if configuration.rateLimitPerAddress > 0 {
            router.add(
                middleware: AddressRateLimitMiddleware(
                    limiter: RateLimiter(perMinute: configuration.rateLimitPerAddress, clock: clock), trustedProxies: configuration.trustedProxies))
        }
        SeedAPIController<ServerRequestContext>(
            engine: services.engine, queries: services.queries, databaseHealth: DatabaseHealth(database: services.storage.status, reachability: services.storage.reachability), uploads: services.uploads, configuration: configuration,
            userLimiter: RateLimiter(perMinute: configuration.rateLimitPerUser, clock: clock), clock: clock, logger: logger
        ).addRoutes(to: router)
        let stream = StreamController<ServerRequestContext>(
            live: services.publisher, tokens: StreamTokens(apiKey: configuration.apiKey, clock: clock), heartbeat: .seconds(configuration.streamHeartbeatSeconds))
        APIController<ServerRequestContext>(
            engine: services.engine, conversations: services.storage.conversations, configuration: configuration, clock: clock, stream: stream
        ).addRoutes(to: router)
        BrevoWebhookController<ServerRequestContext>(
            engine: services.engine, uploads: services.uploads, downloader: services.downloader, secret: configuration.brevoWebhookSecret, clock: clock,
            logger: logger
        ).addRoutes(to: router)
        ReadinessController<ServerRequestContext>(database: services.storage.status, engine: services.engine).addRoutes(to: router)
        MetricsExposure(configuration).addRoutes(metricsController(services, clock: clock, logger: logger), to: router)
        OpenAPIDocument.addRoutes(to: router)
        addAdminPanel(
            to: router, services: services, stores: services.storage.admin, pages: adminPages, stream: stream, configuration: configuration, clock: clock,
            logger: logger)
        services.sockets.addRoutes(to: router)
        if let telegram = services.telegramInput, configuration.telegramWebhookURL != nil {
            TelegramWebhookController<ServerRequestContext>(
                dispatcher: telegram.dispatcher, inbox: telegram.inbox, secret: telegram.webhookSecret, logger: logger
            )
            .addRoutes(to: router)
        } else {
            router.post("/webhooks/telegram") { _, _ -> Response in
                throw APIError(.notFound, "Telegram webhooks are off: set TELEGRAM_WEBHOOK_URL")
            }
        }
        return router
    }

    /// The admin panel under `/admin` (`AdminController`): the inbox, the flow studio,
    /// traces, experiments and erasure. On the SQLite file only, for now.
    private static func addAdminPanel(
        to router: Router<ServerRequestContext>, services: Services, stores: AdminStores, pages adminPages: AdminPages,
        stream: StreamController<ServerRequestContext>, configuration: ServerConfiguration, clock: @escaping @Sendable () -> Date, logger: Logger
    ) {
        let admin = AdminController<ServerRequestContext>(
            staff: stores.staff, pages: adminPages, configuration: configuration, clock: clock, logger: logger)
        let panel = admin.addRoutes(to: router)
        InboxRoutes<ServerRequestContext>(
            engine: services.engine, inbox: stores.inbox, conversations: services.storage.conversations,
            retry: services.deliveryRetry, media: services.media, stream: stream, pages: adminPages, auditor: admin.auditor, configuration: configuration,
            clock: clock,
            logger: logger
        ).addRoutes(to: panel.requiring(.agent))
        FlowStudioRoutes<ServerRequestContext>(
            studio: FlowStudio(
                directory: configuration.flowsDirectory, versions: stores.versions, engine: services.engine, timeZone: configuration.timeZone,
                autoModeDefault: configuration.autoModeDefault, clock: clock, logger: logger),
            reads: stores.reads, versions: stores.versions, pages: adminPages, auditor: admin.auditor, timeZone: configuration.timeZone, clock: clock
        ).addRoutes(to: panel.requiring(.editor))
        TracesRoutes<ServerRequestContext>(
            reads: stores.reads, engine: services.engine, pages: adminPages,
            timeZone: configuration.timeZone, clock: clock
        ).addRoutes(to: panel.requiring(.editor))
        ExperimentRoutes<ServerRequestContext>(
            reads: stores.reads, versions: stores.versions, engine: services.engine, pages: adminPages, timeZone: configuration.timeZone, clock: clock
        ).addRoutes(to: panel.requiring(.editor))
        CustomerErasureRoutes<ServerRequestContext>(
            erasing: stores.erasing, conversations: services.storage.conversations, pages: adminPages, auditor: admin.auditor,
            uploadsDirectory: configuration.uploadsDirectory, clock: clock
        ).addRoutes(to: panel.requiring(.admin))
    }

    static func metricsController<Context: RequestContext>(_ services: Services, clock: @escaping @Sendable () -> Date, logger: Logger)
        -> MetricsController<Context>
    {
        MetricsController(
            metrics: services.metrics, database: services.storage.status, sockets: services.sockets, liveLog: services.liveLog, clock: clock, logger: logger)
    }

    static func makeAssistant(configuration: ServerConfiguration, storage: ServerStorage, media: AssistantMedia, logger: Logger) -> (any AssistantService)?
    {
        let ai = configuration.openAI
        guard ai.enabled else {
            logger.notice(
                "the AI is off (OPENAI_API_KEY and OPENAI_BASE_URL are not set): ask_assistant and transcribe fail, and the flows decide (the default hands the chat to staff)"
            )
            return nil
        }
        logger.info("AI on", metadata: ["base_url": "\(ai.baseURL)", "mode": "\(ai.mode.rawValue)", "model": "\(ai.model)"])
        let client = OpenAIClient(
            apiKey: ai.apiKey, baseURL: ai.baseURL, httpClient: HTTPClient.shared, logger: logger, timeout: .seconds(Int64(ai.timeoutSeconds)))
        return Assistant(
            client: client, configuration: ai, memory: storage.memory, history: storage.conversations, media: media, retry: RetryPolicy(maxAttempts: ai.maxAttempts), logger: logger)
    }

    static func loadFlows(_ directory: String) throws -> FlowSet {
        let loaded = FlowLoader.load(directory: directory)
        let errors = loaded.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty, let flowSet = loaded.flowSet else {
            throw StartupError(
                (errors.map(\.description) + ["the flows in \(directory) have \(errors.count) error(s); run `replyflow check \(directory)` to see them all"])
                    .joined(
                        separator: "\n"))
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
    /// Batches not yet with the worker (the first: what a restart resumes), and who waits
    /// for none: without it a wait could end before a commit's items reached the worker.
    private let unhanded = Mutex<(count: Int, waiters: [CheckedContinuation<Void, Never>])>((1, []))

    init() {
        (stream, continuation) = AsyncStream.makeStream()
    }

    func add(_ items: [OutboxItem]) {
        unhanded.withLock { $0.count += 1 }
        continuation.yield(items)
    }

    /// The worker has a batch (or the resumed items).
    func handed() {
        let waiters = unhanded.withLock { state in
            state.count -= 1
            guard state.count == 0 else { return [CheckedContinuation<Void, Never>]() }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once every batch added so far is with the worker.
    func waitUntilHanded() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let now = unhanded.withLock { state in
                if state.count == 0 { return true }
                state.waiters.append(waiter)
                return false
            }
            if now { waiter.resume() }
        }
    }
}
