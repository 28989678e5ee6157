import Foundation
import Hummingbird
import Logging
import NIOCore

/// A service that fails every request with a 404 page quoting the method and path, as many
/// servers and proxies do: Telegram's paths carry the bot token.
public final class EchoingFailureServer: Sendable {
    private let task = TaskBox()

    private actor TaskBox {
        var task: Task<Void, Never>?
        func set(_ task: Task<Void, Never>) { self.task = task }
        func take() -> Task<Void, Never>? {
            defer { task = nil }
            return task
        }
    }

    public init() {}

    /// Starts on 127.0.0.1 and returns its base URL.
    public func start() async throws -> String {
        var logger = Logger(label: "echoing-failure")
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            responder: CallbackResponder<BasicRequestContext> { request, _ in
                Response(
                    status: .notFound, headers: [.contentType: "text/plain"],
                    body: .init(byteBuffer: ByteBuffer(string: "Cannot \(request.method) \(request.uri.path)")))
            },
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger)
        let running = Task<Void, Never> {
            try? await app.run()
            continuation.finish()
        }
        await task.set(running)
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw CancellationError() }
        return "http://127.0.0.1:\(port)"
    }

    /// Stops the server and waits until it has closed its socket.
    public func stop() async {
        guard let running = await task.take() else { return }
        running.cancel()
        await running.value
    }
}
