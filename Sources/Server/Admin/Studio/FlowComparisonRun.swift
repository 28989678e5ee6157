import Flows
import Foundation
import Storage

/// The flow studio's "what would change": the stored inbound events of the last days,
/// through the live flows and through the draft (`FlowSetComparer`, the same as
/// `replyflow events export` piped into `replyflow replay --compare`), nothing sent.
struct FlowComparisonRun {
    /// The days a comparison may look back; the default is a week.
    static let days = 1...30
    static let defaultDays = 7
    /// At most this many events are compared, the oldest of the window first: a page
    /// answers in seconds, and the command line has no such limit.
    static let maximumEvents = 100_000

    let reads: any PanelReads
    let timeZone: TimeZone
    let autoModeDefault: Bool

    /// What came of it, and whether the window held more events than were compared.
    struct Outcome {
        var comparison: FlowSetComparison
        var since: Date
        var truncated: Bool
    }

    /// One comparison at a time, off the cooperative pool: it blocks on SQLite.
    private static let executor = BlockingWorkExecutor(label: "replyflow.flow-comparison")

    func run(live: FlowSet, draft: FlowSet, days: Int, now: Date) async throws -> Outcome {
        let since = now.addingTimeInterval(-Double(days) * 86_400)
        return try await withTaskExecutorPreference(Self.executor) {
            let records = try await reads.inboundEvents(since: since, until: now, limit: Self.maximumEvents + 1)
            let truncated = records.count > Self.maximumEvents
            // Stored events are whole; one that is not (a damaged row) is left out, not fatal.
            let events = records.prefix(Self.maximumEvents).compactMap { record -> InboundEvent? in
                if case .success(let event) = record.makeEvent(now: now) { return event }
                return nil
            }
            let comparer = try FlowSetComparer(live: live, draft: draft, timeZone: timeZone, autoModeDefault: autoModeDefault)
            for event in events { await comparer.run(event) }
            return Outcome(comparison: try comparer.finish(), since: since, truncated: truncated)
        }
    }
}
