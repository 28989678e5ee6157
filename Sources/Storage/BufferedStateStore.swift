import Flows
import Foundation
import GRDB

/// The runtime's state for bulk runs (replay, tests, dry-run): reads are answered from
/// memory, writes are queued and flushed to SQLite in large transactions on a background
/// queue, so the runtime never waits for the database.
///
/// What is in SQLite after `finish()` is exactly what `SQLiteStateStore` would have written.
/// Memory stays bounded: when the caches grow past `cacheLimit` entries they are flushed
/// and dropped, and later reads fall back to SQLite.
public final class BufferedStateStore: FlowStateStore {
    public let database: ReplyflowDatabase
    /// Rows per background flush.
    public var flushThreshold = 8_000
    /// Cached entries (users, chats, markers, ...) kept before the caches are dropped.
    public var cacheLimit = 500_000

    private var pending: [PendingWrite] = []
    private let commits: GroupCommitQueue
    private let errors = FirstError()
    /// True while every stored row is also in the caches, so a cache miss means "none".
    private var cachesAreComplete: Bool
    private var nextMessageID: Int64
    private var nextOutboxID: Int64

    /// True when group-forward mappings are also written by someone else (the server's
    /// outbox records them as messages reach the group): a cache miss then reads SQLite.
    public var forwardsRecordedElsewhere = false

    /// Keeps the messages stored since `takeStoredMessages()`, for the server's live stream.
    public var tracksStoredMessages = false
    private var storedSinceTaken: [(Int64, StoredMessage)] = []
    /// Per user: inbound counts, merged notes, latest app message, auto modes, markers.
    private var users = UserCache()
    /// Users noted since their row was last queued, each merged into one write: a replay
    /// notes a user on every event, and an upsert per event was a seventh of its time.
    /// Written by `commit` (so the server's commits carry them), `finish`, a cache drop,
    /// and when `userNoteLimit` users are waiting. Their facts know their inbound counts.
    private var notedUsers: [UserFacts] = []
    /// Users whose notes may wait unwritten (bulk runs; a server commits them each event).
    public var userNoteLimit = 50_000
    private var forwards: [Int64: String] = [:]
    /// Forwarded group messages in the order they were cached, to drop the oldest first:
    /// staff answer recent messages, and older ones are still found in SQLite.
    private var forwardOrder: [Int64] = []
    private var forwardsDropped = false
    public var forwardCacheLimit = 100_000
    /// For these lookups (and the users' auto modes), a cached `nil` means "looked up in
    /// SQLite: none stored", so what SQLite knows nothing about is read once, not on every
    /// event.
    private var assignments: [PairKey: String?] = [:]
    private var exposures: [PairKey: (variant: String, at: Date)?] = [:]
    private var conversions: Set<PairKey> = []

    /// Notes of one user merged: the write that leaves the row as the notes one by one would.
    struct UserNote: Sendable {
        var name: String?
        var firstAt: Date
        var lastAt: Date
        var inbound: Int
    }
    struct PairKey: Hashable { var experiment: String; var userID: String }

    public init(database: ReplyflowDatabase) throws {
        self.database = database
        let (empty, maxID) = try database.writer.read { db in
            let users = try Int.fetchOne(db, sql: "SELECT count(*) FROM users") ?? 0
            let forwards = try Int.fetchOne(db, sql: "SELECT count(*) FROM group_forwards") ?? 0
            let experiments = try Int.fetchOne(db, sql: "SELECT count(*) FROM experiment_assignments") ?? 0
            let chats = try Int.fetchOne(db, sql: "SELECT count(*) FROM chats") ?? 0
            let markers = try Int.fetchOne(db, sql: "SELECT count(*) FROM markers") ?? 0
            let exposures = try Int.fetchOne(db, sql: "SELECT count(*) FROM experiment_exposures") ?? 0
            let conversions = try Int.fetchOne(db, sql: "SELECT count(*) FROM experiment_conversions") ?? 0
            let empty = users + forwards + experiments + chats + markers + exposures + conversions == 0
            let maxMessageID = try Int64.fetchOne(db, sql: "SELECT max(id) FROM messages") ?? 0
            let maxOutboxID = try Int64.fetchOne(db, sql: "SELECT max(id) FROM outbox") ?? 0
            return (empty, (maxMessageID, maxOutboxID))
        }
        cachesAreComplete = empty
        nextMessageID = maxID.0 + 1
        nextOutboxID = maxID.1 + 1
        // At most two flushes' worth of rows wait for SQLite: when it falls behind, the
        // runtime waits instead of queueing rows without bound.
        commits = GroupCommitQueue(writer: database.writer, errors: errors, maxQueued: 16_000)
    }

    // MARK: Flushing

    /// Writes everything queued and waits for it; throws the first storage error.
    public func finish() throws {
        queueUserNotes()
        flush()
        commits.waitUntilWritten()
        if let error = takeError() { throw error }
    }

    /// Makes every write queued so far durable, then calls `done` (on a background queue)
    /// with the error, if the transaction failed. Writes of concurrent callers are grouped
    /// into one transaction (group commit), so a busy server pays one commit per batch.
    public func commit(_ done: @escaping @Sendable (Error?) -> Void) {
        queueUserNotes()
        // Nothing of this caller's to make durable (a history fetch that wrote nothing).
        if pending.isEmpty {
            done(nil)
            return
        }
        let batch = takePending()
        commits.submit(batch, waiter: done)
        trimCaches()
    }

    /// `commit(_:)`, awaited.
    public nonisolated(nonsending) func commit() async throws {
        let error: Error? = await withCheckedContinuation { continuation in
            commit { continuation.resume(returning: $0) }
        }
        if let error { throw error }
    }

    /// The first storage error of a background flush, if any.
    public func takeError() -> Error? {
        errors.take()
    }

    private func enqueue(_ write: PendingWrite) {
        pending.append(write)
        if pending.count >= flushThreshold { flush() }
    }

    private func takePending() -> [PendingWrite] {
        let batch = pending
        pending = []
        pending.reserveCapacity(min(flushThreshold, 1_024))
        return batch
    }

    /// Moves the merged user notes into the queue, one write per user.
    private func queueUserNotes() {
        guard !notedUsers.isEmpty else { return }
        for user in notedUsers {
            if let note = user.note { pending.append(.user(id: user.id, note)) }
            user.note = nil
        }
        notedUsers = []
    }

    private func flush() {
        guard !pending.isEmpty else { return }
        commits.submit(takePending(), waiter: nil)
        trimCaches()
    }

    private var cacheSize: Int {
        users.factCount + forwards.count + assignments.count + exposures.count + conversions.count
    }

    private func trimCaches() {
        guard cacheSize > cacheLimit else { return }
        // Later cache misses read SQLite, so what the caches knew must be there first.
        queueUserNotes()
        if !pending.isEmpty { commits.submit(takePending(), waiter: nil) }
        commits.waitUntilWritten()
        users.removeAll()
        forwards = [:]
        forwardOrder = []
        assignments = [:]
        exposures = [:]
        conversions = []
        cachesAreComplete = false
    }

    /// Reads SQLite after every queued write has landed.
    ///
    /// Writes still queued here are not flushed first: every write also updates the
    /// caches, so a question the caches cannot answer is not about a queued row (rows a
    /// cache dropped were submitted before it dropped them). Not flushing keeps the
    /// server's writes of one event in one commit with the deliveries they decide.
    private func readStored<T>(_ fallback: T, _ body: (Database) throws -> T) -> T {
        commits.waitUntilWritten()
        do {
            return try database.writer.read(body)
        } catch {
            errors.keep(error)
            return fallback
        }
    }

    // MARK: FlowStateStore

    public func noteUser(id: String, name: String?, at: Date, inbound: Bool) -> Int {
        let user = users.facts(id)
        let earlier: Int
        if let cached = user.inboundCount {
            earlier = cached
        } else {
            earlier = cachesAreComplete ? 0 : readStored(0) { try Int.fetchOne($0.cachedStatement(sql: StateSQL.selectInboundCount), arguments: [id]) ?? 0 }
            users.learned()
        }
        user.inboundCount = earlier + (inbound ? 1 : 0)
        if var note = user.note {
            note.name = name ?? note.name
            note.lastAt = at
            note.inbound += inbound ? 1 : 0
            user.note = note
        } else {
            user.note = UserNote(name: name, firstAt: at, lastAt: at, inbound: inbound ? 1 : 0)
            notedUsers.append(user)
            if notedUsers.count >= userNoteLimit {
                queueUserNotes()
                if pending.count >= flushThreshold { flush() }
            }
        }
        return earlier
    }

    public func autoMode(source: ChatSource, userID: String) -> Bool? {
        let user = users.facts(userID)
        if let cached = user.autoModes[source.index] { return cached }
        if cachesAreComplete { return nil }
        let stored = readStored(nil) { try Bool.fetchOne($0.cachedStatement(sql: StateSQL.selectAutoMode), arguments: [source.rawValue, userID]) }
        remember(stored, source: source, of: user)
        return stored
    }

    public func setAutoMode(_ on: Bool, source: ChatSource, userID: String, at: Date) {
        remember(on, source: source, of: users.facts(userID))
        enqueue(.chat(source: source, userID: userID, autoMode: on, at: at))
    }

    private func remember(_ autoMode: Bool?, source: ChatSource, of user: UserFacts) {
        if user.autoModes[source.index] == nil { users.learned() }
        user.autoModes[source.index] = .some(autoMode)
    }

    public func hasMarker(userID: String, key: String, period: String) -> Bool {
        let latest = users.facts(userID).latestMarker(key)
        if latest == period { return true }
        // Nothing stored for this key, or only earlier periods: no marker for this one.
        if cachesAreComplete, latest.map({ $0 < period }) ?? true { return false }
        // An earlier period than the cached one may have been written out of time order
        // and not be in the cache: write the queue out before asking SQLite.
        if let latest, latest > period { flush() }
        return readStored(false) { try Bool.fetchOne($0.cachedStatement(sql: StateSQL.selectMarker), arguments: [userID, key, period]) ?? false }
    }

    public func setMarker(userID: String, key: String, period: String, at: Date) {
        let user = users.facts(userID)
        if let index = user.markers.firstIndex(where: { $0.key == key }) {
            let latest = user.markers[index].period
            if latest == period { return }
            // An event out of time order keeps the latest, but is written too.
            if latest < period { user.markers[index].period = period }
        } else {
            user.markers.append((key, period))
            users.learned()
        }
        enqueue(.marker(userID: userID, key: key, period: period, at: at))
    }

    @discardableResult public func storeMessage(_ message: StoredMessage) -> Int64 {
        let id = nextMessageID
        nextMessageID += 1
        enqueue(.message(id: id, message))
        if message.source == .app { rememberLatestAppMessage(id, of: users.facts(message.userID)) }
        if tracksStoredMessages { storedSinceTaken.append((id, message)) }
        return id
    }

    public func saveGroupForward(groupMessageID: Int64, userID: String, at: Date) {
        // Queued first, so the flush below (when the cache is trimmed) writes it too.
        enqueue(.forward(groupMessageID: groupMessageID, userID: userID, at: at))
        if forwards.updateValue(userID, forKey: groupMessageID) == nil { forwardOrder.append(groupMessageID) }
        if forwardOrder.count > forwardCacheLimit {
            // The dropped mappings must be readable from SQLite from now on: they are
            // submitted here, and a read of SQLite (`readStored`) waits for what was
            // submitted. Not waiting here keeps the runtime going while SQLite catches up.
            flush()
            let dropped = forwardOrder.count / 2
            for id in forwardOrder[..<dropped] { forwards[id] = nil }
            forwardOrder.removeFirst(dropped)
            forwardsDropped = true
        }
    }

    public func userForGroupMessage(_ groupMessageID: Int64) -> String? {
        if let cached = forwards[groupMessageID] { return cached }
        if cachesAreComplete && !forwardsDropped && !forwardsRecordedElsewhere { return nil }
        return readStored(nil) { try String.fetchOne($0.cachedStatement(sql: StateSQL.selectForward), arguments: [groupMessageID]) }
    }

    public func assignment(experiment: String, userID: String) -> String? {
        let key = PairKey(experiment: experiment, userID: userID)
        if let cached = assignments[key] { return cached }
        if cachesAreComplete { return nil }
        let stored = readStored(nil) { try String.fetchOne($0.cachedStatement(sql: StateSQL.selectAssignment), arguments: [experiment, userID]) }
        assignments[key] = .some(stored)
        return stored
    }

    public func saveAssignment(experiment: String, userID: String, variant: String, at: Date) {
        assignments[PairKey(experiment: experiment, userID: userID)] = .some(variant)
        enqueue(.assignment(experiment: experiment, userID: userID, variant: variant, at: at))
    }

    public func recordExposure(experiment: String, variant: String, userID: String, at: Date) {
        let key = PairKey(experiment: experiment, userID: userID)
        if firstExposure(experiment: experiment, userID: userID) == nil {
            exposures[key] = .some((variant, at))
        }
        enqueue(.exposure(experiment: experiment, userID: userID, variant: variant, at: at))
    }

    public func firstExposure(experiment: String, userID: String) -> (variant: String, at: Date)? {
        let key = PairKey(experiment: experiment, userID: userID)
        if let cached = exposures[key] { return cached }
        if cachesAreComplete { return nil }
        let stored: (String, Date)? = readStored(nil) { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: StateSQL.selectExposure), arguments: [experiment, userID]) else { return nil }
            return (row[0], Date(timeIntervalSince1970: row[1]))
        }
        exposures[key] = .some(stored.map { (variant: $0.0, at: $0.1) })
        return stored.map { (variant: $0.0, at: $0.1) }
    }

    public func recordConversion(experiment: String, variant: String, userID: String, at: Date) -> Bool {
        let key = PairKey(experiment: experiment, userID: userID)
        if conversions.contains(key) { return false }
        if !cachesAreComplete, readStored(false, { try Bool.fetchOne($0.cachedStatement(sql: StateSQL.selectConversion), arguments: [experiment, userID]) ?? false }) {
            conversions.insert(key)
            return false
        }
        conversions.insert(key)
        enqueue(.conversion(experiment: experiment, userID: userID, variant: variant, at: at))
        return true
    }

    public func recordTrace(_ result: RunResult, event: InboundEvent) {
        enqueue(.trace(result, kind: event.kind, at: event.at))
    }
}

// MARK: Server writes

extension BufferedStateStore {
    /// Queues a delivery for the outbox worker; it lands with the next commit.
    public func enqueueOutbox(kind: String, lane: String, payload: String, status: OutboxItem.Status = .pending, at: Date) -> OutboxItem {
        let item = OutboxItem(id: nextOutboxID, kind: kind, lane: lane, payload: payload, status: status, attempts: 0, nextAttemptAt: at, lastError: nil)
        nextOutboxID += 1
        enqueue(.outbox(item))
        return item
    }

    /// The newest app-chat message id of a user that this store has seen (queued ones
    /// included), or nil when it does not know (not since start, or the caches were dropped).
    public func latestAppMessageID(userID: String) -> Int64? {
        users.existing(userID)?.latestAppMessage
    }

    /// Tells the store the newest id read from SQLite, when it knows none: anything
    /// stored later (even queued, not yet written) replaces it.
    public func rememberLatestAppMessageID(_ id: Int64, userID: String) {
        let user = users.facts(userID)
        if user.latestAppMessage == nil { rememberLatestAppMessage(id, of: user) }
    }

    private func rememberLatestAppMessage(_ id: Int64, of user: UserFacts) {
        if user.latestAppMessage == nil { users.learned() }
        user.latestAppMessage = id
    }

    /// The messages stored since the last call, with their ids (when tracking is on).
    public func takeStoredMessages() -> [(id: Int64, message: StoredMessage)] {
        defer { storedSinceTaken = [] }
        return storedSinceTaken.map { (id: $0.0, message: $0.1) }
    }

    /// Records a Telegram update id as handled, in the same commit as what it caused.
    public func enqueueUpdateSeen(_ updateID: Int64, at: Date) {
        enqueue(.custom { db in
            try db.execute(sql: "INSERT OR IGNORE INTO telegram_updates (update_id, received_at) VALUES (?, ?)", arguments: [updateID, at.timeIntervalSince1970])
        })
    }

    /// Queues a write of the caller's own, in order with the runtime's writes.
    public func enqueueWrite(_ write: @escaping @Sendable (Database) throws -> Void) {
        enqueue(.custom(write))
    }
}

/// The first error of a background flush, kept until someone asks.
final class FirstError: @unchecked Sendable {
    // Guarded by `lock`: written by the flush queue, read by the runtime's thread.
    private let lock = NSLock()
    private var error: Error?

    func keep(_ error: Error) {
        lock.lock()
        if self.error == nil { self.error = error }
        lock.unlock()
    }

    func take() -> Error? {
        lock.lock()
        defer { lock.unlock() }
        let taken = error
        error = nil
        return taken
    }
}

/// A write waiting for the next flush.
///
/// Boxed (`indirect`): a write is copied into the store's queue and again into the commit
/// queue, and copying a message's strings one by one cost more than the box.
indirect enum PendingWrite: Sendable {
    case user(id: String, BufferedStateStore.UserNote)
    case chat(source: ChatSource, userID: String, autoMode: Bool, at: Date)
    case marker(userID: String, key: String, period: String, at: Date)
    case message(id: Int64, StoredMessage)
    case forward(groupMessageID: Int64, userID: String, at: Date)
    case assignment(experiment: String, userID: String, variant: String, at: Date)
    case exposure(experiment: String, userID: String, variant: String, at: Date)
    case conversion(experiment: String, userID: String, variant: String, at: Date)
    case trace(RunResult, kind: EventKind, at: Date)
    case outbox(OutboxItem)
    /// A forward of any channel's chat, recorded by the outbox as it reaches the group.
    case chatForward(groupMessageID: Int64, userID: String, source: String, at: Date)
    case outboxStatus(id: Int64, status: OutboxItem.Status, attempts: Int, next: Date, error: String?, at: Date)
    /// A write of the server's own (devices, seen updates, topics) that must land in the
    /// same transaction as the runtime's writes around it.
    case custom(@Sendable (Database) throws -> Void)

    /// The one statement this write is a row of; nil for the writes that are not one row
    /// (a custom write, a trace).
    var statement: StateStatement? {
        switch self {
        case .user: .upsertUser
        case .chat: .upsertChat
        case .marker: .insertMarker
        case .message: .insertMessage
        case .outbox: .insertOutbox
        case .chatForward: .insertChatForward
        case .outboxStatus: .updateOutboxStatus
        case .forward: .insertForward
        case .assignment: .insertAssignment
        case .exposure: .upsertExposure
        case .conversion: .insertConversion
        case .custom, .trace: nil
        }
    }

    /// Binds this write's row, in the order of its statement's parameters.
    func bind(_ row: inout BulkBinder) {
        switch self {
        case let .user(id, note):
            row.text(id); row.text(note.name); row.date(note.firstAt); row.date(note.lastAt); row.integer(Int64(note.inbound))
        case let .chat(source, userID, autoMode, at):
            row.text(source.rawValue); row.text(userID); row.bool(autoMode); row.date(at)
        case let .marker(userID, key, period, at):
            row.text(userID); row.text(key); row.text(period); row.date(at)
        case let .message(id, message):
            row.integer(id); row.text(message.userID); row.text(message.source.rawValue); row.text(message.direction.rawValue)
            row.text(message.text); row.text(message.media.rawValue); row.date(message.at); row.text(message.flow); row.text(message.photoURL)
            row.text(message.platformMessageID); row.text(message.senderName)
        case let .outbox(item):
            row.integer(item.id); row.text(item.kind); row.text(item.lane); row.text(item.payload); row.text(item.status.rawValue); row.date(item.nextAttemptAt)
        case let .chatForward(groupMessageID, userID, source, at):
            row.integer(groupMessageID); row.text(userID); row.date(at); row.text(source)
        case let .outboxStatus(id, status, attempts, next, error, at):
            row.text(status.rawValue); row.integer(Int64(attempts)); row.date(next); row.text(error); row.date(at); row.integer(id)
        case let .forward(groupMessageID, userID, at):
            row.integer(groupMessageID); row.text(userID); row.date(at)
        case let .assignment(experiment, userID, variant, at), let .exposure(experiment, userID, variant, at), let .conversion(experiment, userID, variant, at):
            row.text(experiment); row.text(userID); row.text(variant); row.date(at)
        case .custom, .trace:
            assertionFailure("not a one-row write")
        }
    }

    func execute(_ statements: inout Statements) throws {
        switch self {
        case let .custom(write):
            // It may touch any table: the rows held back for multi-row inserts go first.
            try statements.writeHeldRows()
            try write(statements.db)
        case let .trace(result, kind, at):
            let trigger = result.trigger?.rawValue
            if result.flows.isEmpty {
                try statements.run(.insertTrace) { row in
                    row.date(at); row.text(kind.rawValue); row.text(trigger); row.text(result.userID)
                    row.text(result.note ?? "no flow listens to this trigger"); row.text(nil); row.text(nil); row.text(nil); row.text(nil)
                }
            }
            for outcome in result.flows {
                try statements.run(.insertTrace) { row in
                    row.date(at); row.text(kind.rawValue); row.text(trigger); row.text(result.userID)
                    row.text(result.note); row.text(outcome.name); row.text(outcome.result.rawValue); row.text(outcome.reason); row.text(outcome.variant)
                }
            }
        default:
            try statements.run(self)
        }
    }
}
