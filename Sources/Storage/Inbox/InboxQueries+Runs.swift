import Flows
import Foundation
import GRDB

/// What the flows did with one event of a chat: "why did (or didn't) the bot answer?".
public struct ChatRunTrace: Sendable, Equatable {
    public var at: Date
    public var eventKind: EventKind
    /// The trigger the event fired; nil when none did (`note` says why).
    public var trigger: Trigger?
    /// Why no trigger fired or no flow ran, when that is the story.
    public var note: String?
    /// Each flow that listened, in the order they ran: ran or skipped, and why.
    public var flows: [ChatFlowTrace]
}

/// One flow's result for one event, as `run_traces` records it.
public struct ChatFlowTrace: Sendable, Equatable {
    public var flow: String
    public var result: FlowOutcome.Result
    /// For a skip: the condition that failed, with the actual and wanted values.
    public var reason: String?
    /// The experiment variant the flow ran as.
    public var variant: String?
    /// What it did, one action a line (`reply: Hello!`); empty for a skip, and for runs
    /// traced before traces kept actions.
    public var actions: [String] = []
}

extension InboxQueries {
    /// The chat's most recent events (up to `limit`, 1...50), newest first, each with what
    /// every flow did with it. Read from `run_traces` (one row per flow per event, written
    /// with the run's commit) through its per-user index, with the actions each flow took
    /// (from v15 on).
    /// Throws `InboxError.conversationNotFound`.
    public func recentRuns(of conversationID: Int64, limit: Int) async throws -> [ChatRunTrace] {
        let limit = min(max(limit, 1), 50)
        return try await writer.read { db in
            guard let chat = try Row.fetchOne(db, sql: "SELECT source, platform_chat_id FROM conversations WHERE id = ?", arguments: [conversationID])
            else { throw InboxError.conversationNotFound(conversationID) }
            let source = ChatSource(rawValue: chat[0]) ?? .app, chatID: String = chat[1]
            // Traces name the user, not the channel: the channel is the event's.
            let kinds = EventKind.allCases.filter { $0.source == source }.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT id, at, event_kind, trigger, note, flow, result, reason, variant, actions FROM run_traces
                    WHERE user_id = ? AND event_kind IN (\(kinds)) ORDER BY id DESC
                    """, arguments: [chatID])
            var runs = ChatRunGrouping(limit: limit)
            while let row = try rows.next() {
                let more = runs.add(
                    id: row[0], at: row[1], eventKind: row[2], trigger: row[3], note: row[4], flow: row[5], result: row[6], reason: row[7],
                    variant: row[8], actions: row[9])
                if !more { break }
            }
            return runs.traces
        }
    }
}

/// Gathers `run_traces` rows of one chat, read newest first, into runs: one run's rows are
/// written together, so they have consecutive ids and the same time and event. Shared by
/// both databases' `recentRuns`.
public struct ChatRunGrouping: Sendable {
    public private(set) var traces: [ChatRunTrace] = []
    private let limit: Int
    private var previousID: Int64 = 0

    public init(limit: Int) {
        self.limit = limit
    }

    /// Adds a row; false when it begins a run past `limit` (stop reading).
    public mutating func add(
        id: Int64, at: Double, eventKind: String, trigger: String?, note: String?, flow: String?, result: String?, reason: String?,
        variant: String?, actions: String?
    ) -> Bool {
        let kind = EventKind(rawValue: eventKind) ?? .appMessage
        let sameRun = traces.last.map { $0.at.timeIntervalSince1970 == at && $0.eventKind == kind && id == previousID - 1 } ?? false
        if !sameRun {
            if traces.count == limit { return false }
            traces.append(
                ChatRunTrace(at: Date(timeIntervalSince1970: at), eventKind: kind, trigger: trigger.flatMap(Trigger.init(rawValue:)), note: note, flows: []))
        }
        previousID = id
        if let flow {
            traces[traces.count - 1].flows.insert(
                ChatFlowTrace(
                    flow: flow, result: FlowOutcome.Result(rawValue: result ?? "") ?? .skipped, reason: reason, variant: variant,
                    actions: actions.map { $0.split(separator: "\n").map(String.init) } ?? []), at: 0)
        }
        return true
    }
}
