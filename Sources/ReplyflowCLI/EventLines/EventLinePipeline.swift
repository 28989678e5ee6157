import Flows
import Foundation

/// Reads and decodes a JSON Lines file on its own thread, handing batches of events to
/// the caller: decoding JSON costs about as much as running the flows, so the two overlap.
/// The queue between them is bounded, so memory stays flat however long the file is.
///
/// Batches the caller is done with come back (`recycle`) and are released on the reader
/// thread, which allocated their events: glibc's `free` of another thread's block takes
/// that thread's arena lock, and the two threads waiting on it left a tenth of the
/// machine idle during a replay.
final class EventLinePipeline: @unchecked Sendable {
    // All mutable state is guarded by `condition`.
    struct Line: Sendable {
        var number: Int
        var event: Result<InboundEvent, EventLineDecoder.LineError>
    }

    private let condition = NSCondition()
    private var batches: [[Line]] = []
    private var finished = false
    private var spent: [[Line]] = []
    private let maximumQueuedBatches = 8
    static let batchSize = 1024

    /// Starts reading `reader` on a new thread.
    init(reader: JSONLinesReader, now: Date) {
        let thread = Thread { [self] in
            var batch: [Line] = []
            batch.reserveCapacity(Self.batchSize)
            var scratch: [UInt8] = []
            while let parsed = reader.nextLine({ EventLineDecoder.decode($0, now: now, scratch: &scratch) }) {
                guard let parsed else { continue }
                batch.append(Line(number: reader.lineNumber, event: parsed))
                if batch.count == Self.batchSize {
                    push(batch)
                    batch = []
                    batch.reserveCapacity(Self.batchSize)
                }
            }
            if !batch.isEmpty { push(batch) }
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "replyflow.replay-reader"
        thread.start()
    }

    private func push(_ batch: [Line]) {
        var released: [[Line]] = []
        condition.lock()
        while batches.count >= maximumQueuedBatches { condition.wait() }
        batches.append(batch)
        swap(&released, &spent)
        condition.broadcast()
        condition.unlock()
        // The caller's spent batches are freed here, outside the lock.
        released = []
    }

    /// Hands back a batch the caller is done with, to be released on the reader thread.
    func recycle(_ batch: [Line]) {
        condition.lock()
        spent.append(batch)
        condition.unlock()
    }

    /// The next batch in file order, or nil at the end of the file.
    func next() -> [Line]? {
        condition.lock()
        defer { condition.unlock() }
        while batches.isEmpty && !finished { condition.wait() }
        guard !batches.isEmpty else { return nil }
        let batch = batches.removeFirst()
        condition.broadcast()
        return batch
    }
}
