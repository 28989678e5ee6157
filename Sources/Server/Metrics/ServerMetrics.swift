import CoreMetrics
import Flows
import Prometheus
import Storage
import Synchronization

/// What the server measures, recorded through swift-metrics into a Prometheus registry
/// that this server app owns (`GET /metrics` renders it; see docs/metrics.md).
///
/// Why a registry per app, passed in, rather than `MetricsSystem.bootstrap`: the global
/// factory can be set once per process, and tests build many apps in one process; with a
/// global every app's counters would add up in one registry and a test could not tell its
/// requests from another's. So `buildServices` makes one `ServerMetrics`, and the parts
/// that record (the HTTP middleware, `FlowEngine`, `OutboxWorker`, `RunServices`) take it
/// explicitly and get their handlers from its `PrometheusMetricsFactory`. Libraries that
/// record through the global `MetricsSystem` stay on its no-op default: nothing of theirs
/// is exposed, and nothing of ours depends on the process.
///
/// The hot path pays for a lock and a dictionary lookup: handlers are made once per label
/// set (the label strings formatted then) and kept; triggers, actions, services and outbox
/// kinds are made up front. Gauges that describe state (outbox backlog, connections) are
/// not kept up to date on every change: `/metrics` reads them when it is scraped.
public final class ServerMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory

    // MARK: HTTP

    /// One route pattern, method and status's handlers (the duration is by route and method).
    struct HTTPHandlers: Sendable {
        let requests: any CounterHandler
        let duration: any TimerHandler
    }

    private struct HTTPKey: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    private let httpHandlers = Mutex<[HTTPKey: HTTPHandlers]>([:])

    // MARK: Runs

    private let events: [Trigger: any CounterHandler]
    private let flowRuns = Mutex<[FlowRunKey: any CounterHandler]>([:])
    private let actions = Mutex<[String: any CounterHandler]>([:])
    let commitDuration: any TimerHandler
    let commitFailures: any CounterHandler

    private struct FlowRunKey: Hashable {
        var flow: String
        var result: FlowOutcome.Result
    }

    // MARK: Deliveries

    /// An outside service the outbox delivers to: the `service` label.
    enum DeliveryService: String, CaseIterable, Sendable {
        case telegram, fcm, brevo

        init(_ kind: OutboxKind) {
            switch kind {
            case .telegramForward, .telegramCopy, .telegramReply: self = .telegram
            case .push: self = .fcm
            case .brevoMessage: self = .brevo
            }
        }
    }

    /// A delivery attempt that failed: retried later, or given up on (the item is failed).
    enum DeliveryFailure: String, CaseIterable, Sendable {
        case retry
        case gaveUp = "gave_up"
    }

    struct DeliveryHandlers: Sendable {
        let attempts: any CounterHandler
        let duration: any TimerHandler
        let failures: [DeliveryFailure: any CounterHandler]
    }

    private let deliveryHandlers: [DeliveryService: DeliveryHandlers]

    // MARK: AI

    /// What the assistant was asked to do: the `operation` label.
    enum AIOperation: String, CaseIterable, Sendable {
        case answer, transcribe
    }

    struct AIHandlers: Sendable {
        let succeeded: any CounterHandler
        let failed: any CounterHandler
        let duration: any TimerHandler
    }

    private let aiHandlers: [AIOperation: AIHandlers]

    // MARK: Read at scrape time

    private let outboxItems: [OutboxKind: [OutboxItem.Status: any MeterHandler]]
    let oldestPendingAge: any MeterHandler
    let outboxReadFailures: any CounterHandler
    let socketConnections: any MeterHandler
    let streamSubscribers: any MeterHandler

    /// The outbox states counted by `replyflow_outbox_items` (delivered ones only grow).
    static let countedOutboxStates: [OutboxItem.Status] = [.pending, .failed]

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Requests and commits take milliseconds; deliveries and the AI take seconds.
        let fast: [Duration] = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        let slow: [Duration] = [
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
            .seconds(20), .seconds(30), .seconds(60), .seconds(120),
        ]
        factory.durationHistogramBuckets = [
            "replyflow_http_request_duration_seconds": fast, "replyflow_db_commit_duration_seconds": fast,
            "replyflow_delivery_duration_seconds": slow, "replyflow_ai_request_duration_seconds": slow,
        ]
        self.factory = factory

        events = Dictionary(
            uniqueKeysWithValues: Trigger.allCases.map { ($0, factory.makeCounter(label: "replyflow_events_total", dimensions: [("trigger", $0.rawValue)])) })
        commitDuration = factory.makeTimer(label: "replyflow_db_commit_duration_seconds", dimensions: [])
        commitFailures = factory.makeCounter(label: "replyflow_db_commit_failures_total", dimensions: [])
        deliveryHandlers = Dictionary(
            uniqueKeysWithValues: DeliveryService.allCases.map { service in
                let label = [("service", service.rawValue)]
                return (
                    service,
                    DeliveryHandlers(
                        attempts: factory.makeCounter(label: "replyflow_delivery_attempts_total", dimensions: label),
                        duration: factory.makeTimer(label: "replyflow_delivery_duration_seconds", dimensions: label),
                        failures: Dictionary(
                            uniqueKeysWithValues: DeliveryFailure.allCases.map {
                                ($0, factory.makeCounter(label: "replyflow_delivery_failures_total", dimensions: label + [("outcome", $0.rawValue)]))
                            })
                    )
                )
            })
        aiHandlers = Dictionary(
            uniqueKeysWithValues: AIOperation.allCases.map { operation in
                let label = [("operation", operation.rawValue)]
                return (
                    operation,
                    AIHandlers(
                        succeeded: factory.makeCounter(label: "replyflow_ai_requests_total", dimensions: label + [("result", "ok")]),
                        failed: factory.makeCounter(label: "replyflow_ai_requests_total", dimensions: label + [("result", "failed")]),
                        duration: factory.makeTimer(label: "replyflow_ai_request_duration_seconds", dimensions: label)
                    )
                )
            })
        outboxItems = Dictionary(
            uniqueKeysWithValues: OutboxKind.allCases.map { kind in
                (
                    kind,
                    Dictionary(
                        uniqueKeysWithValues: Self.countedOutboxStates.map {
                            ($0, factory.makeMeter(label: "replyflow_outbox_items", dimensions: [("kind", kind.rawValue), ("state", $0.rawValue)]))
                        })
                )
            })
        oldestPendingAge = factory.makeMeter(label: "replyflow_outbox_oldest_pending_age_seconds", dimensions: [])
        outboxReadFailures = factory.makeCounter(label: "replyflow_metrics_outbox_read_failures_total", dimensions: [])
        socketConnections = factory.makeMeter(label: "replyflow_socketio_connections", dimensions: [])
        streamSubscribers = factory.makeMeter(label: "replyflow_stream_subscribers", dimensions: [])
        for name in Vocabulary.actionNames { _ = action(name) }
    }

    // MARK: Recording

    /// The handlers of one route pattern (never the raw path), method and status.
    func http(route: String, method: String, status: Int) -> HTTPHandlers {
        let key = HTTPKey(route: route, method: method, status: status)
        return httpHandlers.withLock { cache in
            if let handlers = cache[key] { return handlers }
            let handlers = HTTPHandlers(
                requests: factory.makeCounter(
                    label: "replyflow_http_requests_total", dimensions: [("route", route), ("method", method), ("status", String(status))]),
                duration: factory.makeTimer(label: "replyflow_http_request_duration_seconds", dimensions: [("route", route), ("method", method)]))
            cache[key] = handlers
            return handlers
        }
    }

    /// A committed run: its trigger, each flow's result, each action.
    func recordRun(_ result: RunResult) {
        if let trigger = result.trigger { events[trigger]?.increment(by: 1) }
        for flow in result.flows { flowRun(flow.name, flow.result).increment(by: 1) }
        for performed in result.actions { action(performed.type).increment(by: 1) }
    }

    private func flowRun(_ flow: String, _ result: FlowOutcome.Result) -> any CounterHandler {
        let key = FlowRunKey(flow: flow, result: result)
        return flowRuns.withLock { cache in
            if let counter = cache[key] { return counter }
            // Bounded by the flows loaded (a reload adds its new names, never per-chat values).
            let counter = factory.makeCounter(label: "replyflow_flow_runs_total", dimensions: [("flow", flow), ("result", result.rawValue)])
            cache[key] = counter
            return counter
        }
    }

    private func action(_ type: String) -> any CounterHandler {
        actions.withLock { cache in
            if let counter = cache[type] { return counter }
            let counter = factory.makeCounter(label: "replyflow_actions_total", dimensions: [("type", type)])
            cache[type] = counter
            return counter
        }
    }

    func delivery(_ kind: OutboxKind) -> DeliveryHandlers {
        deliveryHandlers[DeliveryService(kind)]!
    }

    func ai(_ operation: AIOperation) -> AIHandlers {
        aiHandlers[operation]!
    }

    /// The outbox backlog as read from the database at a scrape.
    func setOutbox(_ statistics: OutboxStatistics) {
        for (kind, states) in outboxItems {
            for (state, gauge) in states { gauge.set(Int64(statistics.count(kind: kind, status: state))) }
        }
        oldestPendingAge.set(statistics.oldestPendingAge ?? 0)
    }
}

extension ContinuousClock.Instant {
    /// Nanoseconds since this instant, for a `TimerHandler`.
    var nanosecondsUntilNow: Int64 {
        let (seconds, attoseconds) = (ContinuousClock.now - self).components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
