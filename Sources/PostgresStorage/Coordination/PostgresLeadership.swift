import Logging
import NIOCore
import PostgresNIO
import Storage

/// Leader election among the servers of one PostgreSQL database, one session advisory
/// lock per role.
///
/// A contender holds a connection of its own (outside the pool, whose connections come and
/// go) and tries `pg_try_advisory_lock` on it every `retryInterval`. The one that gets the
/// lock leads until its connection ends: PostgreSQL releases the lock the moment the
/// backend sees the socket close (a `kill -9` of the leader included), and the next try of
/// another contender takes over. The leader checks its connection every `checkInterval`;
/// a check that fails, or gets no answer within `checkTimeout` (a network gone quiet),
/// cancels the job at once and closes the connection, so two leaders never work side by
/// side for longer than that.
public final class PostgresLeadership: Leadership {
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let retryInterval: Duration
    private let checkInterval: Duration
    private let checkTimeout: Duration

    /// Throws when `url` asks for TLS and no TLS context can be made.
    public init(
        url: DatabaseURL, logger: Logger, retryInterval: Duration = .seconds(2), checkInterval: Duration = .seconds(1),
        checkTimeout: Duration = .seconds(5)
    ) throws {
        configuration = try url.connectionConfiguration()
        self.logger = logger
        self.retryInterval = retryInterval
        self.checkInterval = checkInterval
        self.checkTimeout = checkTimeout
    }

    public func whileLeading(_ role: LeaderRole, _ body: @escaping @Sendable () async -> Void) async {
        while !Task.isCancelled {
            do {
                if try await leadOnce(role, body) { return }
            } catch {
                if Task.isCancelled { return }
                logger.warning(
                    "cannot contend for a leader's job; trying again", metadata: ["role": "\(role.rawValue)", "error": "\(PostgresErrorText.describe(error))"])
            }
            do { try await Task.sleep(for: retryInterval) } catch { return }
        }
    }

    /// Connects, waits for the role's lock and runs `body` while it is held. True when
    /// `body` ended by itself; false when the connection failed under it.
    private func leadOnce(_ role: LeaderRole, _ body: @escaping @Sendable () async -> Void) async throws -> Bool {
        let connection = try await PostgresConnection.connect(configuration: configuration, id: Int.random(in: 1...Int.max), logger: logger)
        do {
            try await waitForLock(role, on: connection)
        } catch {
            try? await connection.close()
            throw error
        }
        logger.info("leading", metadata: ["role": "\(role.rawValue)"])
        let bodyEnded = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await body()
                return true
            }
            group.addTask {
                await connection.watchUntilLost(checkEvery: self.checkInterval, answerWithin: self.checkTimeout, logger: self.logger)
                return false
            }
            let first = await group.next() ?? true
            group.cancelAll()
            // Closing releases the lock (also when an unlock could no longer be sent) and
            // ends the watch.
            try? await connection.close()
            return first
        }
        if !bodyEnded && !Task.isCancelled {
            logger.warning("lost the lead: the connection to PostgreSQL failed", metadata: ["role": "\(role.rawValue)"])
        }
        return bodyEnded
    }

    private func waitForLock(_ role: LeaderRole, on connection: PostgresConnection) async throws {
        let key = "replyflow.leader:" + role.rawValue
        while true {
            let rows = try await connection.queryIfOpen("SELECT pg_try_advisory_lock(hashtextextended(\(key), 0))", logger: logger)
            if try await rows.decode(Bool.self).first(where: { _ in true }) == true { return }
            try await Task.sleep(for: retryInterval)
        }
    }
}
