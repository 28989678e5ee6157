import Flows
import Logging
import PostgresNIO
import Storage

/// The server's runs on PostgreSQL, shared by every instance on the database.
///
/// `withChat` leases one pooled connection and takes the chat's session advisory lock on
/// it: another instance's run of the same chat waits in `pg_advisory_lock` until this one
/// has committed, and then reads what it committed. The run reads, waits for the AI and
/// commits on that one connection, with no transaction open while it waits (a snapshot
/// held open would pin old row versions). A lock is released by `pg_advisory_unlock`, or
/// by PostgreSQL itself the moment the connection drops, `kill -9` included.
///
/// Each in-flight run holds one connection: the pool's size bounds the runs under way, and
/// runs beyond it queue for a connection (backpressure, not failure).
public final class PostgresRunStore: RunStore {
    private let client: PostgresClient
    private let logger: Logger

    public init(_ database: ReplyflowPostgres) {
        client = database.client
        logger = database.logger
    }

    /// Several instances share the database: each reads the live entries back
    /// (`PostgresLiveFeed`).
    public var sharesLiveEvents: Bool { true }

    public func withChat<Result>(_ chat: String, _ body: (any ChatRunAccess) async throws -> Result) async throws -> Result {
        var leased = false
        do {
            return try await withLeasedChat(chat, leased: &leased, body)
        } catch where !leased {
            // No connection, or no lock on it: the database, not the run.
            throw error as? RunStoreUnavailable ?? RunStoreUnavailable(underlying: error)
        }
    }

    private func withLeasedChat<Result>(_ chat: String, leased: inout Bool, _ body: (any ChatRunAccess) async throws -> Result) async throws -> Result {
        try await client.withConnection { connection in
            let key = Self.lockName(chat)
            _ = try await connection.queryIfOpen("SELECT pg_advisory_lock(hashtextextended(\(key), 0))", logger: logger).collect()
            leased = true
            let result: Result
            do {
                result = try await body(PostgresChatRun(connection: connection, logger: logger))
            } catch {
                await Self.unlockAll(connection, logger: logger)
                throw error
            }
            // The run is over, committed or not: a failed unlock must not make it look
            // failed (a retried request would be stored twice). The connection is closed
            // instead, which releases the lock as surely.
            do {
                _ = try await connection.queryIfOpen("SELECT pg_advisory_unlock(hashtextextended(\(key), 0))", logger: logger).collect()
            } catch {
                try? await connection.close()
            }
            return result
        }
    }

    public func isHandled(_ key: IdempotencyKey) async throws -> Bool {
        try await unavailableWhenFailing {
            try await client.withConnection { connection in
                try await PostgresChatRun(connection: connection, logger: logger).isHandled(key)
            }
        }
    }

    public func userForGroupMessage(_ groupMessageID: Int64) async throws -> String? {
        try await unavailableWhenFailing {
            try await client.query("SELECT user_id FROM group_forwards WHERE group_message_id = \(groupMessageID)", logger: logger)
                .decode(String.self).first { _ in true }
        }
    }

    /// The advisory lock's name for a chat: the lanes the server keys runs by, in a
    /// namespace of their own so no other lock of Replyflow's can collide with one.
    static func lockName(_ chat: String) -> String {
        "replyflow.chat:" + chat
    }

    /// After a failed run: releases whatever the connection holds, so the pool never lends
    /// out a connection still holding a chat; a connection too broken for that is closed,
    /// and PostgreSQL releases its locks with it.
    private static func unlockAll(_ connection: PostgresConnection, logger: Logger) async {
        do {
            _ = try await connection.queryIfOpen("SELECT pg_advisory_unlock_all()", logger: logger).collect()
        } catch {
            try? await connection.close()
        }
    }
}

/// Runs a read of the store; its failure is the database's (`RunStoreUnavailable`).
func unavailableWhenFailing<Result>(_ read: () async throws -> Result) async throws -> Result {
    do {
        return try await read()
    } catch let error as RunStoreUnavailable {
        throw error
    } catch {
        throw RunStoreUnavailable(underlying: error)
    }
}
