import Hummingbird
import ServiceLifecycle

/// HTTP long-polling: `GET` opens a session or waits for frames, `POST` delivers packets.
extension SocketIOServer {
    /// `GET ?EIO=4&transport=polling` without a sid: the handshake.
    func pollingHandshake(_ request: Request) -> Response {
        let session = openSession(transport: .polling, handshake: EngineHandshake(request))
        return Self.textResponse(PollingPayload.encode([session.openPacket.frame]))
    }

    /// `GET ?EIO=4&transport=polling&sid=…`: waits until frames are queued (at the latest the
    /// next ping) and returns them joined by `\u{1e}`.
    func poll(sid: String) async -> Response {
        guard let session = session(id: sid), !session.closeIfPongOverdue() else {
            return EngineError.unknownSession.response
        }
        let probing: Bool
        do {
            probing = try session.beginPoll()
        } catch {
            return error == .closed ? EngineError.unknownSession.response : EngineError.badRequest.response
        }
        defer { session.endPoll() }
        // While a WebSocket probes, polls must not block: the client is about to pause polling.
        if probing && !session.queue.hasPendingFrames {
            return Self.textResponse("6")
        }
        // A long poll can wait up to `pingInterval`; on server shutdown answer it at once
        // instead of holding the HTTP server's graceful shutdown.
        let delivery = await withGracefulShutdownHandler {
            await session.queue.next(maxBytes: configuration.maxPayload)
        } onGracefulShutdown: {
            session.close(reason: .serverShutdown)
        }
        switch delivery {
        case .frames(let frames):
            return Self.textResponse(PollingPayload.encode(frames))
        case .noop, .closed(.noop):
            return Self.textResponse("6")
        case .closed(.closePacket):
            return Self.textResponse("1")
        case .closed(.unknownSession):
            return EngineError.unknownSession.response
        }
    }

    /// `POST ?EIO=4&transport=polling&sid=…`: decodes the payload and feeds every packet to the
    /// session. Anything malformed or too large closes the session.
    func pollingPost(sid: String, request: Request) async -> Response {
        guard let session = session(id: sid), !session.closeIfPongOverdue() else {
            return EngineError.unknownSession.response
        }
        do {
            try session.beginPost()
        } catch {
            return error == .closed ? EngineError.unknownSession.response : EngineError.badRequest.response
        }
        defer { session.endPost() }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: configuration.maxPayload)
        } catch {
            session.close(reason: .transportError("payload too large"))
            return Response(status: .contentTooLarge)
        }
        let packets: [EnginePacket]
        do {
            packets = try PollingPayload.decode(String(buffer: body))
        } catch {
            session.close(reason: .parseError)
            return EngineError.badRequest.response
        }
        for packet in packets {
            session.receive(packet)
            if session.isClosed { break }
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/html"],
            body: .init(byteBuffer: ByteBuffer(string: "ok"))
        )
    }

    static func textResponse(_ text: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; charset=UTF-8"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}

extension EngineHandshake {
    /// Captures the query and headers of the request opening a session.
    init(_ request: Request) {
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters {
            query[String(key)] = String(value)
        }
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        self.init(query: query, headers: headers)
    }
}
