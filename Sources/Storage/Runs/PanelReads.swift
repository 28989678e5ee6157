import Flows
import Foundation

/// What the admin panel reads of past runs, on SQLite (`ReplyflowDatabase`) or PostgreSQL
/// (`ReplyflowPostgres`): the traces page, the experiments pages, the flows list's run
/// counts and the flow studio's comparison over stored events. Both answer alike
/// (`TracesPostgresTests`, `ExperimentsReportPostgresTests`, `PanelReadsParityTests`).
public protocol PanelReads: Sendable {
    /// The traces `query` asks for, newest first.
    func traces(_ query: TraceQuery) async throws -> TracePage
    /// Experiments with stored exposures, and each one's counts per variant.
    func experimentCounts() async throws -> (keys: [String], counts: [String: [String: (exposures: Int, conversions: Int)]])
    /// Users first exposed per variant per day in `timeZone`; nil when the experiment has none.
    func dailyExposures(experiment: String, timeZone: TimeZone) async throws -> DailyExposures?
    /// Runs and skips per flow since `since`, from the run traces.
    func flowRunCounts(since: Date) async throws -> [String: (ran: Int, skipped: Int)]
    /// The inbound events stored since `since` (and before `until`), oldest first, at most
    /// `limit`, in the replay format (`EventRecord`).
    func inboundEvents(since: Date, until: Date?, limit: Int?) async throws -> [EventRecord]
}

extension ReplyflowDatabase: PanelReads {}
