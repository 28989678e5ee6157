import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// A held connection PostgreSQL closed (a restart, `pg_terminate_backend`, a dropped
/// network): the run fails, and nothing of it was committed.
public struct PostgresConnectionLost: Error, CustomStringConvertible {
    public var description: String { "the connection to PostgreSQL was closed" }
}

extension PostgresConnection {
    /// `query`, failed with `PostgresConnectionLost` when the connection closes under it.
    ///
    /// postgres-nio 1.33 writes a query to its channel without a promise
    /// (`PostgresConnection.query`): a query that reaches the channel after it closed is
    /// dropped and its caller waits forever. A run holding a chat whose connection died
    /// while it waited for the AI would never end; so would a query sent in the moment the
    /// connection closes, between the check of `isClosed` and the write (seen under load:
    /// the close had not been noticed yet). `ConnectionCloseWatch` ends the wait instead.
    func queryIfOpen(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        guard !isClosed else { throw PostgresConnectionLost() }
        return try await ConnectionCloseWatch.of(self).answer {
            try await self.query(query, logger: logger)
        }
    }

    /// BEGIN, `body`, COMMIT; ROLLBACK when `body` throws. As postgres-nio's
    /// `withTransaction`, through `queryIfOpen`.
    func inTransaction<Result>(logger: Logger, _ body: () async throws -> Result) async throws -> Result {
        _ = try await queryIfOpen("BEGIN", logger: logger).collect()
        let result: Result
        do {
            result = try await body()
        } catch {
            _ = try? await queryIfOpen("ROLLBACK", logger: logger).collect()
            throw error
        }
        _ = try await queryIfOpen("COMMIT", logger: logger).collect()
        return result
    }
}

/// The queries waiting on one connection, failed once it has closed.
///
/// One watch per open connection (one callback on its close, not one per query). A query
/// the connection took before it closed has its answer by the time the close is seen (the
/// connection fails what it holds as it closes); the watch still waits `grace` before
/// failing what waits, so that such an answer, on its way to its caller, comes first.
final class ConnectionCloseWatch: Sendable {
    private struct State {
        var closed = false
        var next = 0
        var waiting: [Int: @Sendable () -> Void] = [:]
    }

    private static let watches = Mutex<[ObjectIdentifier: ConnectionCloseWatch]>([:])
    static let grace: TimeAmount = .milliseconds(500)

    private let state = Mutex(State())
    private weak let connection: PostgresConnection?

    private init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// The connection's watch, made on first use.
    static func of(_ connection: PostgresConnection) -> ConnectionCloseWatch {
        let key = ObjectIdentifier(connection)
        let (watch, made) = watches.withLock { watches -> (ConnectionCloseWatch, Bool) in
            // A watch of a connection gone (another object at the same address) is replaced.
            if let watch = watches[key], watch.connection === connection { return (watch, false) }
            let watch = ConnectionCloseWatch(connection)
            watches[key] = watch
            return (watch, true)
        }
        if made {
            let loop = connection.eventLoop
            connection.closeFuture.whenComplete { _ in
                watches.withLock { watches in
                    if watches[key] === watch { watches[key] = nil }
                }
                loop.scheduleTask(in: grace) { watch.close() }
            }
        }
        return watch
    }

    /// Runs `query` and returns its answer, or throws `PostgresConnectionLost` when the
    /// connection closed without giving one.
    func answer(_ query: @escaping @Sendable () async throws -> PostgresRowSequence) async throws -> PostgresRowSequence {
        try await withCheckedThrowingContinuation { continuation in
            let once = ResumeOnce(continuation)
            let ticket = state.withLock { state -> Int? in
                guard !state.closed else { return nil }
                let ticket = state.next
                state.next += 1
                state.waiting[ticket] = { once.resume(with: .failure(PostgresConnectionLost())) }
                return ticket
            }
            guard let ticket else {
                once.resume(with: .failure(PostgresConnectionLost()))
                return
            }
            Task {
                let result = await Result { try await query() }
                _ = self.state.withLock { $0.waiting.removeValue(forKey: ticket) }
                once.resume(with: result)
            }
        }
    }

    /// Queries waiting for their answer now.
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    private func close() {
        let waiting = state.withLock { state in
            state.closed = true
            defer { state.waiting = [:] }
            return state.waiting
        }
        for fail in waiting.values { fail() }
    }
}

/// A continuation resumed by whichever comes first: the answer or the close.
private final class ResumeOnce: Sendable {
    private let continuation: Mutex<CheckedContinuation<PostgresRowSequence, any Error>?>

    init(_ continuation: CheckedContinuation<PostgresRowSequence, any Error>) {
        self.continuation = Mutex(continuation)
    }

    func resume(with result: Result<PostgresRowSequence, any Error>) {
        continuation.withLock { $0.take() }?.resume(with: result)
    }
}

extension Result where Failure == any Error {
    /// The result of an async throwing body.
    fileprivate init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
