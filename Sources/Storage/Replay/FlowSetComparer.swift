import Flows
import Foundation

/// Runs each event through two flow sets, the live one and a draft, each over its own
/// scratch state that starts empty, and pairs up the results in a `FlowSetComparison`.
/// Nothing is sent: both sides use recorded services. The one way to compare, used by
/// `replyflow replay --compare` and the flow studio.
///
/// The state is SQLite in a scratch folder, not memory, for the reason replay's is: a
/// long comparison stores every message twice, and memory must stay flat. The folders go
/// when `finish()` is called or the comparer is released.
public final class FlowSetComparer {
    private let live: SequentialRunner<BufferedStateStore>
    private let draft: SequentialRunner<BufferedStateStore>
    private let scratchDirectories: [String]
    public private(set) var comparison: FlowSetComparison

    public init(live liveFlows: FlowSet, draft draftFlows: FlowSet, timeZone: TimeZone, autoModeDefault: Bool, examplesPerFlow: Int = 5) throws {
        let liveScratch = try ReplyflowDatabase.scratch()
        let draftScratch: (database: ReplyflowDatabase, directory: String)
        do {
            draftScratch = try ReplyflowDatabase.scratch()
        } catch {
            try? FileManager.default.removeItem(atPath: liveScratch.directory)
            throw error
        }
        scratchDirectories = [liveScratch.directory, draftScratch.directory]
        func runner(_ flows: FlowSet, _ database: ReplyflowDatabase) throws -> SequentialRunner<BufferedStateStore> {
            var runtime = FlowRuntime(flowSet: flows, timeZone: timeZone, autoModeDefault: autoModeDefault)
            // Scratch state disappears with the comparison: traces nobody reads are not kept.
            runtime.recordsTraces = false
            return SequentialRunner(runtime: runtime, store: try BufferedStateStore(database: database))
        }
        do {
            live = try runner(liveFlows, liveScratch.database)
            draft = try runner(draftFlows, draftScratch.database)
        } catch {
            for directory in scratchDirectories { try? FileManager.default.removeItem(atPath: directory) }
            throw error
        }
        comparison = FlowSetComparison(examplesPerFlow: examplesPerFlow)
    }

    deinit {
        for directory in scratchDirectories { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Runs one event through both sets, in order with the events before it.
    public func run(_ event: InboundEvent) async {
        let before = await live.run(event)
        let after = await draft.run(event)
        comparison.add(event, live: before, draft: after)
    }

    /// The first storage error of either side's background writes, if one happened.
    public func takeError() -> Error? {
        live.store.takeError() ?? draft.store.takeError()
    }

    /// Waits for both sides' writes and removes the scratch state.
    public func finish() throws -> FlowSetComparison {
        defer { for directory in scratchDirectories { try? FileManager.default.removeItem(atPath: directory) } }
        try live.store.finish()
        try draft.store.finish()
        return comparison
    }
}
