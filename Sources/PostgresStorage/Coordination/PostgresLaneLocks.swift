import Logging
import PostgresNIO

/// The lanes this instance works on (the staff group's deliveries, one user's pushes, one
/// Telegram chat's updates), held across the instances of a database so that each lane is
/// worked by one instance at a time, in order.
///
/// Each claim is a session advisory lock on one connection of the instance's own, outside
/// the pool: claiming many lanes costs no pooled connections, and when the instance dies
/// (`kill -9` included) its backend drops every lock at once, so another instance claims
/// its lanes on its next scan. The connection is checked every `checkInterval`; when it
/// closes or stops answering, every claim on it is void and `onLost` hears which lanes
/// were held: their work must stop at once. The stores' writes are fenced besides (an
/// item's result is recorded only while it is still pending), so a late write of an
/// instance that lost a lane changes nothing another instance did.
public actor PostgresLaneLocks {
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let checkInterval: Duration
    private let checkTimeout: Duration
    private let onLost: @Sendable (Set<String>) -> Void
    private var connection: PostgresConnection?
    /// A connection being made: claims that come meanwhile wait for it, rather than each
    /// making one of their own (a lock on a connection nobody keeps would never be released).
    private var connecting: Task<PostgresConnection, Error>?
    private var watch: Task<Void, Never>?
    private var held: Set<String> = []
    private var isClosed = false

    /// Throws when `url` asks for TLS and no TLS context can be made.
    public init(
        url: DatabaseURL, logger: Logger, checkInterval: Duration = .seconds(1), checkTimeout: Duration = .seconds(5),
        onLost: @escaping @Sendable (Set<String>) -> Void
    ) throws {
        configuration = try url.connectionConfiguration()
        self.logger = logger
        self.checkInterval = checkInterval
        self.checkTimeout = checkTimeout
        self.onLost = onLost
    }

    /// The lanes held now.
    public var claimed: Set<String> { held }

    /// Claims `lane` unless another instance holds it; true when this instance holds it
    /// now (also when it already did). Throws when the database cannot be reached.
    public func tryClaim(_ lane: String) async throws -> Bool {
        if held.contains(lane) { return true }
        guard !isClosed else { return false }
        let connection = try await connected()
        let rows = try await connection.queryIfOpen("SELECT pg_try_advisory_lock(hashtextextended(\(Self.lockName(lane)), 0))", logger: logger)
        guard try await rows.decode(Bool.self).first(where: { _ in true }) == true else { return false }
        // The connection may have been lost while the answer came: that claim went with it.
        guard self.connection === connection else { return false }
        held.insert(lane)
        return true
    }

    /// Gives `lane` up (its work is done, or it waits for a retry long off). An unlock that
    /// fails closes the connection, which gives up every lane as surely.
    public func release(_ lane: String) async {
        guard held.remove(lane) != nil, let connection else { return }
        do {
            _ = try await connection.queryIfOpen("SELECT pg_advisory_unlock(hashtextextended(\(Self.lockName(lane)), 0))", logger: logger).collect()
        } catch {
            try? await connection.close()
        }
    }

    /// Gives every lane up and closes the connection (a clean stop); claims after it fail.
    public func close() async {
        isClosed = true
        held = []
        watch?.cancel()
        let open = connection
        connection = nil
        try? await open?.close()
        if let made = try? await connecting?.value { try? await made.close() }
    }

    /// The lock's name: distinct from a chat's run lock and a leader's lock.
    static func lockName(_ lane: String) -> String { "replyflow.lane:" + lane }

    private func connected() async throws -> PostgresConnection {
        if let connection {
            if !connection.isClosed { return connection }
            lost(connection)
        }
        if let connecting { return try await connecting.value }
        let configuration = configuration, logger = logger
        let connecting = Task { try await PostgresConnection.connect(configuration: configuration, id: Int.random(in: 1...Int.max), logger: logger) }
        self.connecting = connecting
        defer { self.connecting = nil }
        let new = try await connecting.value
        connection = new
        let checkInterval = checkInterval, checkTimeout = checkTimeout
        watch = Task { [weak self] in
            await new.watchUntilLost(checkEvery: checkInterval, answerWithin: checkTimeout, logger: logger)
            await self?.lost(new)
        }
        return new
    }

    /// Every claim on `closed` is void (PostgreSQL dropped its locks with the session).
    private func lost(_ closed: PostgresConnection) {
        guard connection === closed else { return }
        connection = nil
        watch = nil
        let lanes = held
        held = []
        if !lanes.isEmpty {
            logger.warning("lost the connection holding lanes; their work stops", metadata: ["lanes": "\(lanes.count)"])
            onLost(lanes)
        }
    }
}
