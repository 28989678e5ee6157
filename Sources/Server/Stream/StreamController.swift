import Foundation
import Hummingbird
import NIOCore
import ServiceLifecycle

/// `GET /api/stream`: Server-Sent Events. `event: update`, `data: {"type", "record"}`, an
/// `id` on every event; `Last-Event-ID` (or `?lastEventId=`) resumes after a reconnect
/// with every retained event since, or with `event: reset` when those are no longer kept
/// (too old, or from before a restart), so the client reloads instead of silently missing
/// them; a comment line every `heartbeat` keeps proxies from closing a quiet stream.
/// Filters: `chatId`, `source`.
struct StreamController<Context: RequestContext>: Sendable {
    let live: any LiveSource
    let tokens: StreamTokens
    let heartbeat: Duration

    /// Adds `POST /api/stream/token` to the authenticated group.
    func addTokenRoute(to group: RouterGroup<Context>) {
        group.post("stream/token") { _, _ -> Response in
            let (token, expires) = tokens.issue()
            return JSONBody.response(["token": token, "expiresIn": Int(tokens.lifetime), "expires": APITime.format(expires)])
        }
    }

    @Sendable func stream(_ request: Request, context: Context) async throws -> Response {
        let parameters = APIController<Context>.parameters(request)
        let source = try parameters["source"].map { raw throws(APIError) in try APIController<Context>.source(raw) }
        let filter = StreamFilter(chatID: parameters["chatId"], source: source)
        let lastID = (request.headers[.init("Last-Event-ID")!] ?? parameters["lastEventId"]).flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
        let headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache", .init("X-Accel-Buffering")!: "no"]
        // HEAD (the router answers it through this handler, and drops the body): the
        // headers, and no subscriber left behind by a body that is never written.
        guard request.method != .head else { return Response(status: .ok, headers: headers, body: ResponseBody { writer in try await writer.finish(nil) }) }
        // Subscribed before the answer goes out: what happens once the client has the
        // headers is on its stream.
        // An id another server gave may be one this server has not read yet.
        if let lastID { await live.catchUp(after: lastID) }
        let subscription = live.log.subscribe(filter: filter, after: lastID)
        let heartbeat = self.heartbeat
        let body = ResponseBody { writer in
            defer { subscription.cancel() }
            // On SIGTERM the stream ends (the client reconnects, to this server once it is
            // back or to another): an open stream would otherwise hold the shutdown up.
            try await withGracefulShutdownHandler {
                try await writer.write(ByteBuffer(string: "retry: 3000\n: connected\n\n"))
                if let resetID = subscription.resetID { try await writer.write(LiveEventLog.resetFrame(id: resetID)) }
                if !subscription.missed.isEmpty { try await writer.write(LiveEventLog.frames(subscription.missed)) }
                // Live frames and heartbeats arrive through one sequence, to the one writer.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        while !Task.isCancelled {
                            try await Task.sleep(for: heartbeat)
                            subscription.sink.yield(ByteBuffer(string: ": heartbeat\n\n"))
                        }
                    }
                    // Ends when the client goes away (a write throws), the log closes, or
                    // the server shuts down.
                    defer { group.cancelAll() }
                    for await frame in subscription.live { try await writer.write(frame) }
                }
            } onGracefulShutdown: {
                subscription.cancel()
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok, headers: headers,
            body: body)
    }

}
