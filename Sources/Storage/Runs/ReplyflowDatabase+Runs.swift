import Flows
import Foundation
import GRDB

// MARK: - The server's path for a run: read its view, commit its outcome

extension ReplyflowDatabase {
    /// The state one run reads, in one read transaction: the user (found through the
    /// group message a staff reply answers, when the event names none), the chat's auto
    /// mode, the markers and the experiments the flows may test.
    public func snapshot(for reads: StateReads) async throws -> StateSnapshot {
        try await snapshot(for: reads, latestAppMessage: false).0
    }

    /// The snapshot, and in the same read the id of the user's newest app-chat message
    /// when asked (a history fetch reuses a cached page while that id is unchanged).
    public func snapshot(for reads: StateReads, latestAppMessage: Bool) async throws -> (StateSnapshot, Int64?) {
        try await runs.snapshot(RunQueue.SnapshotRequest(reads: reads, latestAppMessage: latestAppMessage))
    }

    static func snapshot(_ db: Database, for reads: StateReads) throws -> StateSnapshot {
        var snapshot = StateSnapshot(for: reads)
        if let groupMessageID = reads.groupMessageID {
            snapshot.groupMessageOwner = try String.fetchOne(db.cachedStatement(sql: StateSQL.selectForward), arguments: [groupMessageID])
        }
        guard let userID = reads.userID ?? snapshot.groupMessageOwner else { return snapshot }
        snapshot.inboundCount = try Int.fetchOne(db.cachedStatement(sql: StateSQL.selectInboundCount), arguments: [userID]) ?? 0
        snapshot.autoMode = try Bool.fetchOne(db.cachedStatement(sql: StateSQL.selectAutoMode), arguments: [reads.source.rawValue, userID])
        for marker in reads.markers
        where try Bool.fetchOne(db.cachedStatement(sql: StateSQL.selectMarker), arguments: [userID, marker.key, marker.period]) ?? false {
            snapshot.markers.insert(marker)
        }
        for experiment in reads.experiments {
            snapshot.assignments[experiment] = try String.fetchOne(db.cachedStatement(sql: StateSQL.selectAssignment), arguments: [experiment, userID])
            if let row = try Row.fetchOne(db.cachedStatement(sql: StateSQL.selectExposure), arguments: [experiment, userID]) {
                snapshot.exposures[experiment] = (variant: row[0], at: Date(timeIntervalSince1970: row[1]))
            }
            if try Bool.fetchOne(db.cachedStatement(sql: StateSQL.selectConversion), arguments: [experiment, userID]) ?? false {
                snapshot.conversions.insert(experiment)
            }
        }
        return snapshot
    }

    /// Whether an input was handled already (its key committed).
    public func isHandled(_ key: IdempotencyKey) async throws -> Bool {
        try await writer.read { db in try Self.isHandled(db, key) }
    }

    static func isHandled(_ db: Database, _ key: IdempotencyKey) throws -> Bool {
        switch key {
        case .telegramUpdate(let id):
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM telegram_updates WHERE update_id = ?"), arguments: [id]) ?? false
        case .brevoMessage(let id):
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM brevo_messages WHERE message_id = ?"), arguments: [id]) ?? false
        }
    }

    /// Writes one run in one transaction: its key first (nothing is written, and nil is
    /// returned, when the key is already there), then its state, messages, outbox items,
    /// the assistant's memory and its trace. Throws when the transaction fails: then
    /// nothing of the run is stored and its input stays to be retried.
    public func commit(_ record: RunRecord) async throws -> CommitReceipt? {
        try await runs.commit(record)
    }

    static func commit(_ record: RunRecord, in db: Database) throws -> CommitReceipt? {
        if let key = record.idempotencyKey {
            switch key {
            case .telegramUpdate(let id):
                try db.cachedStatement(sql: "INSERT OR IGNORE INTO telegram_updates (update_id, received_at) VALUES (?, ?)")
                    .execute(arguments: [id, Date().timeIntervalSince1970])
            case .brevoMessage(let id):
                try db.cachedStatement(sql: "INSERT OR IGNORE INTO brevo_messages (message_id, direction, at) VALUES (?, 'received', ?)")
                    .execute(arguments: [id, Date().timeIntervalSince1970])
            }
            if db.changesCount == 0 { return nil }
        }
        for write in record.writes { try Self.execute(write, in: db) }
        var messageIDs: [Int64] = []
        let insertMessage = try db.cachedStatement(sql: StateSQL.insertMessage)
        for message in record.messages {
            try insertMessage.execute(arguments: [
                nil, message.userID, message.source.rawValue, message.direction.rawValue, message.text, message.media.rawValue,
                message.at.timeIntervalSince1970, message.flow, message.photoURL, message.platformMessageID, message.senderName,
                message.author.rawValue, message.transcript, message.audioLocation,
            ])
            messageIDs.append(db.lastInsertedRowID)
        }
        var outbox: [OutboxItem] = []
        let insertOutbox = try db.cachedStatement(sql: StateSQL.insertOutbox)
        for draft in record.outbox {
            let messageID = draft.message.map { messageIDs[$0] }
            try insertOutbox.execute(arguments: [
                draft.kind.rawValue, draft.lane, draft.payload, draft.status.rawValue, draft.at.timeIntervalSince1970, messageID,
            ])
            outbox.append(
                OutboxItem(
                    id: db.lastInsertedRowID, kind: draft.kind, lane: draft.lane, payload: draft.payload, status: draft.status, attempts: 0,
                    nextAttemptAt: draft.at, lastError: nil, messageID: messageID))
        }
        if let memory = record.assistantMemory {
            try SQLiteAssistantMemory.remember(memory, in: db)
        }
        if let trace = record.trace { try Self.insert(trace, in: db) }
        return CommitReceipt(messageIDs: messageIDs, outbox: outbox)
    }

    static func execute(_ write: StateWrite, in db: Database) throws {
        switch write {
        case let .noteUser(id, name, at, inbound):
            try db.cachedStatement(sql: StateSQL.upsertUser).execute(arguments: [id, name, at.timeIntervalSince1970, at.timeIntervalSince1970, inbound ? 1 : 0])
        case let .setAutoMode(source, userID, on, at):
            try db.cachedStatement(sql: StateSQL.upsertChat).execute(arguments: [source.rawValue, userID, on, at.timeIntervalSince1970])
        case let .setMarker(userID, key, period, at):
            try db.cachedStatement(sql: StateSQL.insertMarker).execute(arguments: [userID, key, period, at.timeIntervalSince1970])
        case let .saveAssignment(experiment, userID, variant, at):
            try db.cachedStatement(sql: StateSQL.insertAssignment).execute(arguments: [experiment, userID, variant, at.timeIntervalSince1970])
        case let .recordExposure(experiment, userID, variant, at):
            try db.cachedStatement(sql: StateSQL.upsertExposure).execute(arguments: [experiment, userID, variant, at.timeIntervalSince1970])
        case let .recordConversion(experiment, userID, variant, at):
            try db.cachedStatement(sql: StateSQL.insertConversion).execute(arguments: [experiment, userID, variant, at.timeIntervalSince1970])
        }
    }

    static func insert(_ trace: RunRecord.Trace, in db: Database) throws {
        let insert = try db.cachedStatement(sql: StateSQL.insertTrace)
        let at = trace.at.timeIntervalSince1970, kind = trace.kind.rawValue, trigger = trace.result.trigger?.rawValue, user = trace.result.userID
        if trace.result.flows.isEmpty {
            try insert.execute(arguments: [at, kind, trigger, user, trace.result.note ?? "no flow listens to this trigger", nil, nil, nil, nil, nil])
        }
        for flow in trace.result.flows {
            try insert.execute(
                arguments: [at, kind, trigger, user, trace.result.note, flow.name, flow.result.rawValue, flow.reason, flow.variant, trace.result.actionLines(of: flow.name)])
        }
    }
}

// MARK: - Reads the engine makes before and after a run

extension ReplyflowDatabase {
    /// The user a message forwarded to the staff group belongs to.
    public func userForGroupMessage(_ groupMessageID: Int64) async throws -> String? {
        try await writer.read { db in
            try String.fetchOne(db.cachedStatement(sql: StateSQL.selectForward), arguments: [groupMessageID])
        }
    }

    /// The id of the user's newest app-chat message, if any.
    static func latestAppMessageID(_ db: Database, userID: String) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(id) FROM messages WHERE user_id = ? AND source = 'app'"), arguments: [userID])
    }
}
