import Flows
import Foundation
import Storage

/// A runtime over SQLite state with recorded effects: what dry-run, test and replay use.
struct RecordedRuntime {
    let runtime: FlowRuntime
    let store: BufferedStateStore
    let effects: RecordingEffects

    init(flows: FlowSet, database: ReplyflowDatabase, timeZone: TimeZone, autoModeDefault: Bool) throws {
        do {
            store = try BufferedStateStore(database: database)
        } catch {
            throw CommandFailure("cannot read the state database: \(error)")
        }
        effects = RecordingEffects(state: store)
        runtime = FlowRuntime(flowSet: flows, state: store, effects: effects, timeZone: timeZone, autoModeDefault: autoModeDefault)
    }
}
