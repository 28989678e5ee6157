import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

extension ReplyflowServer.ServerApp {
    /// Runs the server until `SIGTERM` or `SIGINT`, then stops as a service manager
    /// expects: the port closes, `/api/stream`s and idle connections end at once (clients
    /// reconnect by themselves), socket.io clients are told to go, requests under way get
    /// `grace` to finish and are cut off after it. A log line says when the shutdown
    /// started, and one when it ended.
    public func runUntilStopped(grace: Duration, logger: Logger) async throws {
        let notice = ShutdownNotice(grace: grace, logger: logger)
        // The notice is last, so the group tells it first (shutdown goes in reverse order),
        // and the line is written as the shutdown starts, not when the server is done.
        var configuration = ServiceGroupConfiguration(
            services: [.init(service: application), .init(service: notice)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // After it, ServiceLifecycle cancels what is still running: the server closes the
        // connections of the requests that did not finish.
        configuration.maximumGracefulShutdownDuration = grace
        try await ServiceGroup(configuration: configuration).run()
        guard let started = notice.started else { return }
        let took = started.duration(to: .now)
        // The group cancels what is left when the grace period runs out, and then ends as
        // it would have: the time it took is what tells the two apart.
        if took >= grace {
            logger.notice(
                "shutdown ended: requests still under way after the grace period were cut off", metadata: ["seconds": "\(Self.seconds(took))"])
        } else {
            logger.notice("shutdown ended", metadata: ["seconds": "\(Self.seconds(took))"])
        }
    }

    private static func seconds(_ elapsed: Duration) -> String {
        String(format: "%.1f", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}

/// Writes "shutdown started" when the service group begins a graceful shutdown (a signal),
/// and remembers when; a failed start (cancellation) writes nothing.
final class ShutdownNotice: Service, Sendable {
    let grace: Duration
    let logger: Logger
    private let startedAt = Mutex<ContinuousClock.Instant?>(nil)

    init(grace: Duration, logger: Logger) {
        self.grace = grace
        self.logger = logger
    }

    /// When the graceful shutdown began, if it did.
    var started: ContinuousClock.Instant? { startedAt.withLock { $0 } }

    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return
        }
        startedAt.withLock { $0 = .now }
        logger.notice(
            "shutdown started: no new connections; streams, socket.io and idle connections are closed; requests under way have \(grace.components.seconds) s to finish (SHUTDOWN_GRACE_SECONDS)"
        )
    }
}
