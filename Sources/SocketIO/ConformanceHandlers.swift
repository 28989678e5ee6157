/// The behaviour the official socket.io-protocol test suite expects from the server under
/// test. Shared by the `socketio-test-server` executable and the tests, so both run exactly
/// the same handlers.
public enum SocketIOConformanceHandlers {
    /// The suite's server settings: pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1e6,
    /// connectTimeout 1000 ms, path `/socket.io`.
    public static var configuration: SocketIOConfiguration {
        SocketIOConfiguration(
            pingInterval: .milliseconds(300),
            pingTimeout: .milliseconds(200),
            maxPayload: 1_000_000,
            connectTimeout: .milliseconds(1000),
            path: "/socket.io"
        )
    }

    /// Installs on `/` and `/custom`:
    /// - on connect, emit `auth` with the handshake auth payload (`{}` when there was none);
    /// - `message` is echoed as `message-back` with all its arguments;
    /// - `message-with-ack` is acknowledged with its arguments;
    /// - `emit-with-ack` is sent back expecting an ack, and the ack's arguments are then
    ///   emitted as `emit-with-ack` (used by some versions of the suite).
    public static func install(on server: SocketIOServer) {
        for name in ["/", "/custom"] {
            let namespace = server.namespace(name)
            namespace.onConnect { socket, auth in
                await socket.emit("auth", [auth ?? .object([:])])
            }
            namespace.on("message") { socket, args, _ in
                await socket.emit("message-back", args)
            }
            namespace.on("message-with-ack") { _, args, ack in
                await ack?(args)
            }
            namespace.on("emit-with-ack") { socket, args, _ in
                guard let reply = try? await socket.emitWithAck("emit-with-ack", args, timeout: .seconds(5)) else { return }
                await socket.emit("emit-with-ack", reply)
            }
        }
    }
}
