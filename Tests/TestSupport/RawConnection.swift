import NIOCore
import NIOPosix
import Synchronization

/// A bare TCP connection to a server on loopback, for what no HTTP client sends: broken
/// requests, half a request, a connection left idle. What the server sends is collected in the
/// background, so a test can look at it, and at whether the server closed, at any moment.
public final class RawConnection: Sendable {
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let channel: any Channel
    private let state = Mutex<(received: [UInt8], closed: Bool)>(([], false))

    private init(outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, channel: any Channel) {
        self.outbound = outbound
        self.channel = channel
    }

    /// Connects to `127.0.0.1:port`, runs `body`, then closes the connection.
    public static func with<T: Sendable>(port: Int, _ body: (RawConnection) async throws -> T) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        return try await channel.executeThenClose { inbound, outbound in
            let connection = RawConnection(outbound: outbound, channel: channel.channel)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        for try await buffer in inbound {
                            connection.state.withLock { $0.received += buffer.readableBytesView }
                        }
                    } catch {
                        // A reset is a close too.
                    }
                    connection.state.withLock { $0.closed = true }
                }
                defer { connection.channel.close(promise: nil) }
                return try await body(connection)
            }
        }
    }

    public func send(_ text: String) async throws {
        try await send(Array(text.utf8))
    }

    public func send(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Sends, unless the server has closed the connection already: on a loaded machine a
    /// test of a short deadline can see the deadline pass before its bytes leave.
    public func sendUnlessClosed(_ text: String) async throws {
        do {
            try await send(text)
        } catch ChannelError.ioOnClosedChannel {}
    }

    /// What the server has sent so far, as UTF-8.
    public var received: String {
        state.withLock { String(decoding: $0.received, as: UTF8.self) }
    }

    /// Whether the server has closed the connection.
    public var isClosed: Bool {
        state.withLock { $0.closed }
    }

    /// Waits until the server closes the connection; false if it is still open after `limit`.
    public func waitUntilClosed(within limit: Duration) async throws -> Bool {
        try await poll(within: limit) { isClosed }
    }

    /// Waits until what the server sent contains `text`; false if it does not after `limit`.
    public func waitUntilReceived(_ text: String, within limit: Duration) async throws -> Bool {
        try await poll(within: limit) { received.contains(text) }
    }

    private func poll(within limit: Duration, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while !condition() {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}
