import Hummingbird
import HummingbirdWebSocket
import Logging

/// One WebSocket carrying an Engine.IO session, either from the start (no `sid`) or after
/// upgrading a polling session (`sid` given; the client probes with `2probe`, then sends `5`).
///
/// A reader task feeds client packets to the session; a writer task drains the session's
/// outbound queue. Whichever ends first ends the other, so a session closed by the server
/// (ping timeout, overflow) also closes its WebSocket, and a closed WebSocket closes the session.
struct WebSocketTransport {
    let session: EngineSession
    let inbound: WebSocketInboundStream
    let outbound: WebSocketOutboundWriter

    /// - Parameter upgradeSignal: for an upgrade, yields once the client sent `5`; finishes
    ///   without yielding if the upgrade is abandoned or the session closes.
    func run(upgradeSignal: AsyncStream<Void>?) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.read(probing: upgradeSignal != nil) }
            group.addTask {
                if let upgradeSignal {
                    var upgraded = false
                    for await _ in upgradeSignal {
                        upgraded = true
                        break
                    }
                    guard upgraded else { return }
                }
                await self.write()
            }
            _ = await group.next()
            group.cancelAll()
        }
    }

    private func read(probing initiallyProbing: Bool) async {
        var probing = initiallyProbing
        var failure: SocketIODisconnectReason = .transportClose
        do {
            for try await message in inbound.messages(maxSize: session.configuration.maxPayload) {
                let packet: EnginePacket
                switch message {
                case .text(let text):
                    guard let decoded = try? EnginePacket(text: text) else {
                        failure = .parseError
                        throw CancellationError()
                    }
                    packet = decoded
                case .binary(let buffer):
                    packet = .binaryMessage(Array(buffer.readableBytesView))
                }
                if probing {
                    switch packet {
                    case .ping("probe"):
                        try await outbound.write(.text(EnginePacket.pong("probe").encodedText))
                        session.probeReceived()
                    case .upgrade:
                        guard session.completeUpgrade() else { return }
                        probing = false
                    case .noop:
                        break
                    default:
                        // Anything else before `5` is a broken upgrade; drop this WebSocket only.
                        session.abortUpgrade()
                        return
                    }
                    continue
                }
                session.receive(packet)
                if session.isClosed { return }
            }
        } catch is CancellationError {
        } catch {
            // Oversized message or a broken connection.
            failure = .transportError("\(error)")
        }
        if probing {
            session.abortUpgrade()
        } else {
            session.close(reason: failure)
        }
    }

    private func write() async {
        while true {
            switch await session.queue.next() {
            case .frames(let frames):
                for frame in frames {
                    do {
                        switch frame {
                        case .text(let text): try await outbound.write(.text(text))
                        case .binary(let bytes): try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                        }
                    } catch {
                        session.close(reason: .transportError("write failed"))
                        return
                    }
                }
            case .noop:
                // Released by an upgrade step, or cancelled.
                if Task.isCancelled { return }
            case .closed:
                return
            }
        }
    }
}

extension EnginePacket {
    /// Text form of a text packet.
    var encodedText: String {
        switch frame {
        case .text(let text): text
        case .binary: ""
        }
    }
}

extension SocketIOServer {
    /// Runs an upgraded WebSocket connection (the GET route already validated `EIO` and
    /// `transport`).
    func runWebSocket(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, request: Request) async {
        if let sid = request.uri.queryParameters.get("sid") {
            // Re-checked here: the session may have closed or started another upgrade since
            // the HTTP request was validated.
            guard let session = session(id: sid) else { return }
            let (signal, continuation) = AsyncStream<Void>.makeStream()
            guard session.beginUpgrade(signal: continuation) else { return }
            await WebSocketTransport(session: session, inbound: inbound, outbound: outbound).run(upgradeSignal: signal)
        } else {
            let session = openSession(transport: .websocket, handshake: EngineHandshake(request)) { [$0.openPacket.frame] }
            await WebSocketTransport(session: session, inbound: inbound, outbound: outbound).run(upgradeSignal: nil)
        }
    }
}
