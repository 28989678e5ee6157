import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// Whether PostgreSQL answers now, watched on a connection of its own: every `checkEvery`
/// a `SELECT 1` that must answer within `answerWithin`, and a new connection (given up
/// after `answerWithin`) when the last one failed.
///
/// The pool cannot say this quickly: while nothing answers it holds requests until its
/// own reconnection attempts give up (about a minute), and a busy pool makes any probe
/// through it wait behind the runs. This connection is neither, so the server can refuse
/// requests at once (503) while the database is away, and take them again the moment it
/// answers. Once it has answered, two failed checks in a row make it away, so one slow
/// answer on a busy machine does not turn every instance's requests away.
public final class PostgresReachability: Sendable {
    private struct State {
        var reachable: Bool?
        var reason: String?
        /// Checks failed in a row.
        var failures = 0
    }

    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let checkEvery: Duration
    private let answerWithin: Duration
    private let state = Mutex(State())

    /// Throws when the URL asks for TLS and no TLS context can be made.
    public init(url: DatabaseURL, logger: Logger, checkEvery: Duration = .seconds(1), answerWithin: Duration = .seconds(2)) throws {
        var configuration = try url.connectionConfiguration()
        configuration.options.connectTimeout = .init(answerWithin)
        self.configuration = configuration
        self.logger = logger
        self.checkEvery = checkEvery
        self.answerWithin = answerWithin
    }

    /// The last check's answer; nil before the first.
    public var isReachable: Bool? {
        state.withLock { $0.reachable }
    }

    /// Why the last check failed, when it did.
    public var failure: String? {
        state.withLock { $0.reason }
    }

    static let failuresToBeAway = 2

    /// Watches until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(configuration: configuration, id: Int.random(in: 1...Int.max), logger: logger)
                await watch(connection)
                try? await connection.close()
            } catch {
                record(false, reason: PostgresErrorText.describe(error))
            }
            do { try await Task.sleep(for: checkEvery) } catch { return }
        }
    }

    /// Checks the connection until a check fails or the task is cancelled.
    private func watch(_ connection: PostgresConnection) async {
        while !Task.isCancelled {
            let answered = await withTaskGroup(of: String?.self) { group in
                group.addTask {
                    do {
                        _ = try await connection.query("SELECT 1", logger: self.logger).collect()
                        return nil
                    } catch {
                        return PostgresErrorText.describe(error)
                    }
                }
                group.addTask {
                    try? await Task.sleep(for: self.answerWithin)
                    return "no answer within \(self.answerWithin)"
                }
                let first = await group.next() ?? "cancelled"
                group.cancelAll()
                // A check still waiting ends with the connection.
                if first != nil { try? await connection.close() }
                return first
            }
            if Task.isCancelled { return }
            record(answered == nil, reason: answered)
            if answered != nil { return }
            do { try await Task.sleep(for: checkEvery) } catch { return }
        }
    }

    private func record(_ answered: Bool, reason: String?) {
        let (previous, reachable) = state.withLock { state in
            let previous = state.reachable
            state.failures = answered ? 0 : state.failures + 1
            // From up, two failures in a row; unknown (at start) or away, one is enough.
            state.reachable = answered || (previous == true && state.failures < Self.failuresToBeAway)
            state.reason = reason
            return (previous, state.reachable)
        }
        if previous != reachable, let reachable {
            if reachable {
                if previous == false { logger.notice("PostgreSQL answers again") }
            } else {
                logger.error("PostgreSQL does not answer: requests get 503 until it does", metadata: ["reason": "\(reason ?? "")"])
            }
        }
    }
}
