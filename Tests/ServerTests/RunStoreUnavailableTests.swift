import Flows
import Foundation
import Logging
import Storage
import TestSupport
import Testing

@testable import Server

/// A database that cannot be reached (PostgreSQL down, restarting, no connection in time)
/// fails a run as a commit failure: nothing stored, the input to be sent again (a 503 to
/// an HTTP caller, the update kept in the Telegram inbox).
@Suite("The database unreachable for a run", .machineShare)
struct RunStoreUnavailableTests {
    /// A store whose database does not answer.
    struct UnreachableStore: RunStore {
        struct Refused: Error {}

        func withChat<Result>(_ chat: String, _ body: (any ChatRunAccess) async throws -> Result) async throws -> Result {
            throw RunStoreUnavailable(underlying: Refused())
        }

        func isHandled(_ key: IdempotencyKey) async throws -> Bool { throw RunStoreUnavailable(underlying: Refused()) }
        func userForGroupMessage(_ groupMessageID: Int64) async throws -> String? { throw RunStoreUnavailable(underlying: Refused()) }
    }

    @Test("a run on an unreachable store is a CommitFailure (a 503, the update kept), and nothing is published")
    func unreachable() async throws {
        let metrics = ServerMetrics()
        let published = Published()
        let engine = FlowEngine(
            flowSet: FlowSet(flows: []), store: UnreachableStore(), configuration: ServerConfiguration(),
            services: .init(telegram: false, push: false, brevo: false), metrics: metrics, logger: Logger(label: "test"),
            published: { _ in published.add() })
        await #expect(throws: CommitFailure.self) {
            try await engine.handle(InboundEvent(kind: .appMessage, at: Date(), userID: "anna", text: "hi"))
        }
        await #expect(throws: CommitFailure.self) {
            try await engine.handleBrevoMessage("m-1", event: InboundEvent(kind: .instagramDM, at: Date(), userID: "v1", text: "hi"))
        }
        #expect(published.count == 0)
    }
}

private final class Published: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add() { lock.withLock { value += 1 } }
    var count: Int { lock.withLock { value } }
}
