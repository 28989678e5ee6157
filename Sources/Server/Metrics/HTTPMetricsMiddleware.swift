import Hummingbird

/// Counts requests by route pattern, method and status, and times them by route pattern
/// and method (`replyflow_http_requests_total`, `replyflow_http_request_duration_seconds`).
///
/// Hummingbird's own `MetricsMiddleware` records through the process-global
/// `MetricsSystem` under its own names (`hb.requests`, `http.server.request.duration` with
/// a status label on the timer); this one records into the app's `ServerMetrics` (see
/// there why) under the names docs/metrics.md lists. Like Hummingbird's, it labels by
/// the route's pattern (`/api/chats/{chatId}/messages`), never the raw path, so the
/// number of series stays bounded whatever clients send; an unmatched path is `NotFound`.
///
/// The time is until the response head is ready: an event stream or a long poll is
/// counted when it starts, not when it ends hours later.
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context: context, status: response.status.code, started: started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(request, context: context, status: status, started: started)
            throw error
        }
    }

    private func record(_ request: Request, context: Context, status: Int, started: ContinuousClock.Instant) {
        let handlers = metrics.http(route: context.endpointPath ?? "NotFound", method: Self.methodLabel(request.method), status: status)
        handlers.requests.increment(by: 1)
        handlers.duration.recordNanoseconds(started.nanosecondsUntilNow)
    }

    /// The standard methods by name; anything a client makes up is `other`, so a made-up
    /// method cannot add series.
    static func methodLabel(_ method: HTTPRequest.Method) -> String {
        switch method {
        case .get, .post, .put, .delete, .patch, .head, .options: method.rawValue
        default: "other"
        }
    }
}
