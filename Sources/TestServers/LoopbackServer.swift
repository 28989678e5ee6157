import Foundation
import Hummingbird
import Logging
import NIOCore

/// Runs a Hummingbird application on 127.0.0.1 with an OS-chosen port.
final class LoopbackServer: Sendable {
    typealias Handler = @Sendable (Request, BasicRequestContext) async -> Response

    private let state = StateBox()

    private actor StateBox {
        var task: Task<Void, Never>?
        var port: Int?
        func set(task: Task<Void, Never>, port: Int) {
            self.task = task
            self.port = port
        }
        func take() -> Task<Void, Never>? {
            defer { task = nil; port = nil }
            return task
        }
        func currentPort() -> Int? { port }
    }

    /// Starts the server and returns the bound port.
    func start(name: String, handler: @escaping Handler) async throws -> Int {
        if let port = await state.currentPort() { return port }
        var logger = Logger(label: "TestServers.\(name)")
        logger.logLevel = .critical
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            responder: CallbackResponder<BasicRequestContext> { request, context in
                await handler(request, context)
            },
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
            },
            logger: logger
        )
        let task = Task<Void, Never> {
            do {
                try await app.run()
            } catch {
                // Cancellation or a bind failure; `start` reports the latter.
            }
            portContinuation.finish()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            throw LoopbackServerError.couldNotStart(name)
        }
        await state.set(task: task, port: port)
        return port
    }

    /// Stops the server and waits until it has closed its socket.
    func stop() async {
        guard let task = await state.take() else { return }
        task.cancel()
        await task.value
    }
}

/// A fake server could not be started.
public enum LoopbackServerError: Error, CustomStringConvertible {
    case couldNotStart(String)
    case notStarted(String)

    public var description: String {
        switch self {
        case .couldNotStart(let name): return "\(name): could not bind a loopback port"
        case .notStarted(let name): return "\(name): not started; call start() first"
        }
    }
}

extension Response {
    /// A JSON response.
    static func json(_ value: FakeJSON, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: value.jsonString)))
    }

    /// A plain response with raw bytes.
    static func bytes(_ data: Data, status: HTTPResponse.Status = .ok, contentType: String = "application/octet-stream") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension Request {
    /// Query parameters as a dictionary (last value wins).
    var queryDictionary: [String: String] {
        var result: [String: String] = [:]
        for (key, value) in uri.queryParameters {
            let k = String(key).removingPercentEncoding ?? String(key)
            result[k] = String(value)  // Hummingbird already percent-decodes values
        }
        return result
    }
}
