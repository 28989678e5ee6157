import Flows
import Foundation
import GRDB
import Synchronization

/// The runtime's state for runs one after another in one process (replay, flow tests,
/// dry-run): reads are answered from memory, each run's outcome is queued and flushed to
/// SQLite in large transactions on a background queue, so the runtime never waits for the
/// database. The server does not use it: it commits each run in its own transaction
/// (`ReplyflowDatabase.commit`).
///
/// What is in SQLite after `finish()` is exactly what per-run commits would have written
/// (the differential tests hold it to that).
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

    /// Per user: inbound counts, merged notes, auto modes, markers.
    private var users = UserCache()
    /// Users noted since their row was last queued, each merged into one write: a replay
    /// notes a user on every event, and an upsert per event was a seventh of its time.
    /// Written by `finish`, a cache drop, and when `userNoteLimit` users are waiting. Their facts know their inbound counts.
    private var notedUsers: [UserFacts] = []
    /// Users whose notes may wait unwritten.
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
            return (empty, maxMessageID)
        }
        cachesAreComplete = empty
        nextMessageID = maxID + 1
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
    /// cache dropped were submitted before it dropped them).
    private func readStored<T>(_ fallback: T, _ body: (Database) throws -> T) -> T {
        commits.waitUntilWritten()
        do {
            return try database.writer.read(body)
        } catch {
            errors.keep(error)
            return fallback
        }
    }

    // MARK: StateView

    public func inboundCount(userID: String) -> Int {
        let user = users.facts(userID)
        if let cached = user.inboundCount { return cached }
        let stored = cachesAreComplete ? 0 : readStored(0) { try Int.fetchOne($0.cachedStatement(sql: StateSQL.selectInboundCount), arguments: [userID]) ?? 0 }
        users.learned()
        user.inboundCount = stored
        return stored
    }

    public func hasConverted(experiment: String, userID: String) -> Bool {
        let key = PairKey(experiment: experiment, userID: userID)
        if conversions.contains(key) { return true }
        if cachesAreComplete { return false }
        let stored = readStored(false) { try Bool.fetchOne($0.cachedStatement(sql: StateSQL.selectConversion), arguments: [experiment, userID]) ?? false }
        if stored { conversions.insert(key) }
        return stored
    }

    // MARK: Outcomes

    /// Queues a run's writes, messages and trace, in that order.
    public func apply(_ outcome: RunOutcome) {
        for write in outcome.writes {
            switch write {
            case let .noteUser(id, name, at, inbound): _ = noteUser(id: id, name: name, at: at, inbound: inbound)
            case let .setAutoMode(source, userID, on, at): setAutoMode(on, source: source, userID: userID, at: at)
            case let .setMarker(userID, key, period, at): setMarker(userID: userID, key: key, period: period, at: at)
            case let .saveAssignment(experiment, userID, variant, at): saveAssignment(experiment: experiment, userID: userID, variant: variant, at: at)
            case let .recordExposure(experiment, userID, variant, at): recordExposure(experiment: experiment, variant: variant, userID: userID, at: at)
            case let .recordConversion(experiment, userID, variant, at): _ = recordConversion(experiment: experiment, variant: variant, userID: userID, at: at)
            }
        }
        for message in outcome.messages { storeMessage(message) }
        if outcome.keepsTrace { recordTrace(outcome.result, event: outcome.event) }
    }

    // MARK: Writes, one by one

    /// Records that a user wrote (or was written to) and returns how many inbound messages
    /// the user had sent before this one.
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

    /// Stores a message in the user's history and returns its id. Ids are handed out
    /// here: a bulk run owns its file while it runs.
    @discardableResult public func storeMessage(_ message: StoredMessage) -> Int64 {
        let id = nextMessageID
        nextMessageID += 1
        enqueue(.message(id: id, message))
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
        if cachesAreComplete && !forwardsDropped { return nil }
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
        if !cachesAreComplete,
            readStored(false, { try Bool.fetchOne($0.cachedStatement(sql: StateSQL.selectConversion), arguments: [experiment, userID]) ?? false })
        {
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

/// The first error of a background flush, kept until someone asks (written by the flush
/// queue, read by the runtime's thread).
final class FirstError: Sendable {
    private let error = Mutex<Error?>(nil)

    func keep(_ error: Error) {
        self.error.withLock { if $0 == nil { $0 = error } }
    }

    func take() -> Error? {
        error.withLock { error in
            defer { error = nil }
            return error
        }
    }
}
