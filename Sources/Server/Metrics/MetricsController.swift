import Foundation
import Hummingbird
import Logging
import Prometheus
import SocketIO
import Storage

/// `GET /metrics`: the app's registry in Prometheus' text format (swift-prometheus renders
/// it). Before rendering, the gauges that describe state are read: the outbox backlog
/// from the database (one async read, given `readTimeout`; past it the last values stay
/// and `replyflow_metrics_outbox_read_failures_total` counts it), the socket.io
/// connections and the `/api/stream` subscribers from memory.
///
/// Who may read it is decided where it is mounted (`MetricsExposure`): behind the API key
/// on the main router, or open on its own address.
struct MetricsController<Context: RequestContext> {
    let metrics: ServerMetrics
    let database: any ServerDatabaseStatus
    let sockets: SocketIOServer
    let liveLog: LiveEventLog
    let clock: @Sendable () -> Date
    let logger: Logger
    var readTimeout: Duration = .seconds(2)

    func addRoutes(to router: some RouterMethods<Context>) {
        router.get("/metrics", use: scrape)
    }

    @Sendable func scrape(_ request: Request, context: Context) async throws -> Response {
        await refreshGauges()
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
    }

    func refreshGauges() async {
        metrics.socketConnections.set(Int64(sockets.connectionCount))
        metrics.streamSubscribers.set(Int64(liveLog.subscriberCount))
        if let statistics = await outboxStatistics() {
            metrics.setOutbox(statistics)
        } else {
            metrics.outboxReadFailures.increment(by: 1)
        }
    }

    /// The read cannot be cancelled once SQLite has it, so the answer is whichever comes
    /// first, the read's or the timeout's (nil); a slow read finishes on its own.
    private func outboxStatistics() async -> OutboxStatistics? {
        let database = self.database, now = clock(), timeout = readTimeout, logger = self.logger
        return await FirstAnswer.within(timeout, late: nil) {
            do {
                return try await database.outboxStatistics(now: now)
            } catch {
                logger.warning("metrics: could not read the outbox", metadata: ["error": "\(error)"])
                return nil
            }
        }
    }
}
