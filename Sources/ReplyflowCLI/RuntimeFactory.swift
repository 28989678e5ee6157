import Flows
import Foundation
import Storage

/// A runtime over SQLite state with recorded effects: what dry-run, test and replay use.
struct RecordedRuntime {
    let runtime: FlowRuntime
    let store: SQLiteStateStore
    let effects: RecordingEffects

    init(flows: FlowSet, database: ReplyflowDatabase, timeZone: TimeZone, autoModeDefault: Bool) {
        store = SQLiteStateStore(database: database)
        effects = RecordingEffects(state: store)
        runtime = FlowRuntime(flowSet: flows, state: store, effects: effects, timeZone: timeZone, autoModeDefault: autoModeDefault)
    }
}
