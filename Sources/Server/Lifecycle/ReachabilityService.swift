import PostgresStorage
import ServiceLifecycle

/// Watches whether the shared database answers, for the server's life.
struct ReachabilityService: Service {
    let reachability: PostgresReachability

    func run() async throws {
        await cancelWhenGracefulShutdown { await reachability.run() }
    }
}
