import Foundation
import GRDB

/// Copies a WAL database's log back into the file from a connection of its own, on a
/// timer, so the writer's commits never wait for a checkpoint.
///
/// SQLite's own checkpoint runs inside the commit that crosses `wal_autocheckpoint`
/// pages: that commit copies the pages back and syncs the file while every request
/// waiting on it waits too (the server's p99), and the default 1,000 pages copies a hot
/// page (an index root, the chat list) back once per thousand pages written. A passive
/// checkpoint from here takes no write lock: commits go on while it runs, and each page is
/// copied once per interval however often it was written. The writer keeps a large
/// `wal_autocheckpoint` as a backstop, in case this falls behind.
// The timer is only scheduled in init and cancelled in deinit; Dispatch makes both safe
// from any thread, hence unchecked.
final class WALCheckpointer: @unchecked Sendable {
    /// The writer's own checkpoint threshold, in pages (4 KB each): only reached if this
    /// checkpointer cannot keep up.
    static let writerBackstopPages = 16_384

    private let timer: DispatchSourceTimer

    /// Starts checkpointing `path` every `interval`.
    init(path: String, interval: DispatchTimeInterval = .milliseconds(100)) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.label = "replyflow.checkpointer"
        let connection = try DatabaseQueue(path: path, configuration: configuration)
        let queue = DispatchQueue(label: "replyflow.checkpointer", qos: .utility)
        timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(50))
        timer.setEventHandler {
            // PASSIVE: copies what no reader still needs, never blocks the writer or
            // readers. A busy or failed checkpoint is retried on the next tick; the
            // writer's backstop keeps the log bounded meanwhile.
            _ = try? connection.writeWithoutTransaction { db in
                try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")
            }
        }
        timer.resume()
    }

    deinit {
        timer.cancel()
    }
}
