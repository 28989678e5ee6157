import Foundation
import GRDB

/// Copies a WAL database's log back into the file from a connection of its own, on a
/// timer, so the writer's commits never wait for a checkpoint, and lets the log start
/// again from the beginning once in a while with the shortest pause the writer can have.
///
/// SQLite's own checkpoint runs inside the commit that crosses `wal_autocheckpoint`
/// pages: that commit copies the pages back and syncs the file while every request
/// waiting on it waits too (the server's p99). A passive checkpoint from here takes no
/// write lock: commits go on while it runs, and each page is copied once per interval
/// however often it was written.
///
/// But the log only starts again from its beginning when a write begins after a
/// checkpoint that copied *all* of it, and under steady load the writer always commits
/// while this checkpoint syncs: the log grows until something stops the writer. Left to
/// SQLite's `wal_autocheckpoint`, that stop comes at a random moment, inside a commit,
/// copying whatever this checkpointer had not reached. Instead, once the log has passed
/// `restartPages`, this checkpointer catches up in a few short passes and then has the
/// writer's own connection copy the last pages committed meanwhile (tens of pages, then
/// two small syncs); the writer's next transaction restarts the log. Under the
/// `send_message` benchmark that pause measured 2–28 ms, once every second or two.
// The timer is only scheduled in init and cancelled in deinit, and its handler runs on
// one serial queue; Dispatch makes all of that safe from any thread, hence unchecked.
final class WALCheckpointer: @unchecked Sendable {
    /// The writer's own checkpoint threshold, in pages (4 KB each): only reached if this
    /// checkpointer cannot keep up (a reader holding an old snapshot for a long time).
    static let writerBackstopPages = 65_536
    /// The log's size, in pages, past which the writer is asked to let it start again.
    static let defaultRestartPages = 16_384

    /// Passes of catching up before the writer is asked to restart the log.
    static let catchUpPasses = 3
    /// Pages written during a pass below which one more pass would not shorten the pause.
    static let smallRemainderPages = 64
    /// Pages written during the last pass above which the writer is not asked this time.
    static let largestWriterRemainder = 1_024

    private let timer: DispatchSourceTimer

    /// Starts checkpointing `path`, which `writer` writes, every `interval`.
    init(path: String, writer: any DatabaseWriter, interval: DispatchTimeInterval = .milliseconds(100), restartPages: Int = defaultRestartPages) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.label = "replyflow.checkpointer"
        let connection = try DatabaseQueue(path: path, configuration: configuration)
        let queue = DispatchQueue(label: "replyflow.checkpointer", qos: .utility)
        timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(10))
        var policy = RestartPolicy(restartPages: restartPages)
        timer.setEventHandler { [weak writer] in
            // PASSIVE: copies what no reader still needs, never blocks the writer or
            // readers. A busy or failed checkpoint is tried again on the next tick; the
            // writer's backstop keeps the log bounded meanwhile.
            guard let progress = try? connection.writeWithoutTransaction({ db in try Self.checkpoint(db) }) else { return }
            guard policy.catchUpIsDue(after: progress), let writer else { return }
            // Catch up with what was committed while that checkpoint synced, so the writer
            // is left the least to copy: each pass is shorter than the one before.
            var caughtUp = progress
            var written = Int.max
            for _ in 0..<Self.catchUpPasses {
                guard let next = try? connection.writeWithoutTransaction({ db in try Self.checkpoint(db) }),
                    next.copiedPages == next.logPages
                else { return }
                written = next.logPages - caughtUp.logPages
                caughtUp = next
                if written < Self.smallRemainderPages { break }
            }
            // Writes outpacing the passes would make the writer's part long: next tick.
            guard written < Self.largestWriterRemainder else { return }
            // Everything this checkpoint saw is in the file: the writer copies only what it
            // committed since, and its next transaction restarts the log.
            let final = try? writer.writeWithoutTransaction { db in try Self.checkpoint(db) }
            policy.noteWriterStep(logPages: final?.logPages ?? caughtUp.logPages)
        }
        timer.resume()
    }

    deinit {
        timer.cancel()
    }

    /// A passive checkpoint: the log's size and how much of it is in the file, in pages.
    static func checkpoint(_ db: Database) throws -> (logPages: Int, copiedPages: Int) {
        let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")
        return (row?[1] ?? 0, row?[2] ?? 0)
    }
}

/// When the checkpointer asks the writer to let the log start again.
///
/// The restart can still fail: SQLite restarts the log only if no reader is using it
/// when the writer's next transaction begins (a read of the API that started just before).
/// Then the log stays long, and asking again on every tick would pause the writer every
/// 100 ms; after a failed try the writer is asked again only once the log has grown by
/// another `restartPages` (or has started again on its own).
struct RestartPolicy {
    let restartPages: Int
    /// The log's size after the writer's last step, while the log has not restarted since.
    private(set) var logAfterLastWriterStep: Int?

    init(restartPages: Int) {
        self.restartPages = restartPages
    }

    /// Whether, after a checkpoint that found `progress`, catching up for a restart is due.
    mutating func catchUpIsDue(after progress: (logPages: Int, copiedPages: Int)) -> Bool {
        guard progress.logPages >= restartPages, progress.copiedPages == progress.logPages else {
            if progress.logPages < (logAfterLastWriterStep ?? 0) { logAfterLastWriterStep = nil }
            return false
        }
        if let last = logAfterLastWriterStep {
            // Smaller than after the last try: the log started again since, then grew.
            if progress.logPages < last { logAfterLastWriterStep = nil; return true }
            return progress.logPages >= last + restartPages
        }
        return true
    }

    mutating func noteWriterStep(logPages: Int) {
        logAfterLastWriterStep = logPages
    }
}
