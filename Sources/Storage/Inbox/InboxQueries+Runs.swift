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
            var traces: [ChatRunTrace] = []
            var previousID: Int64 = 0
            while let row = try rows.next() {
                let id: Int64 = row[0], at: Double = row[1], kind = EventKind(rawValue: row[2]) ?? .appMessage
                // One run's rows are written together, so they have consecutive ids (read
                // here newest first) and the same event.
                let sameRun = traces.last.map { $0.at.timeIntervalSince1970 == at && $0.eventKind == kind && id == previousID - 1 } ?? false
                if !sameRun {
                    if traces.count == limit { break }
                    traces.append(
                        ChatRunTrace(
                            at: Date(timeIntervalSince1970: at), eventKind: kind, trigger: (row[3] as String?).flatMap(Trigger.init(rawValue:)), note: row[4],
                            flows: []))
                }
                previousID = id
                if let flow: String = row[5] {
                    traces[traces.count - 1].flows.insert(
                        ChatFlowTrace(
                            flow: flow, result: FlowOutcome.Result(rawValue: row[6] ?? "") ?? .skipped, reason: row[7], variant: row[8],
                            actions: (row[9] as String?).map { $0.split(separator: "\n").map(String.init) } ?? []), at: 0)
                }
            }
            return traces
        }
    }
}
