import Flows
import Foundation
import Storage

/// Runs one after another over SQLite state through the bulk writer, with recorded
/// services: what dry-run and replay use.
typealias RecordedRuntime = SequentialRunner<BufferedStateStore>

extension SequentialRunner where Store == BufferedStateStore {
    convenience init(flows: FlowSet, database: ReplyflowDatabase, timeZone: TimeZone, autoModeDefault: Bool) throws {
        let store: BufferedStateStore
        do {
            store = try BufferedStateStore(database: database)
        } catch {
            throw CommandFailure("cannot read the state database: \(error)")
        }
        self.init(runtime: FlowRuntime(flowSet: flows, timeZone: timeZone, autoModeDefault: autoModeDefault), store: store)
    }
}
