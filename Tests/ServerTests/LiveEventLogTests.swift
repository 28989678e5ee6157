import Foundation
import NIOCore
import Testing

@testable import Server
import TestSupport

/// The live stream's log: a slow subscriber is never silently skipped past events.
@Suite("Live event log", .machineShare)
struct LiveEventLogTests {
    private func drafts(_ count: Int, chat: String = "1") -> [LiveDraft] {
        (0..<count).map { index in
            LiveDraft(kind: .message, chatID: chat, source: .app, payload: LivePayload { "{\"n\":\(index)}" })
        }
    }

    /// The `id:` lines of SSE frames.
    private func ids(_ buffers: [ByteBuffer]) -> [Int64] {
        buffers.flatMap { buffer in
            String(buffer: buffer).split(separator: "\n").compactMap { line in
                line.hasPrefix("id: ") ? Int64(line.dropFirst(4)) : nil
            }
        }
    }

    @Test("a subscriber whose buffer is full gets what was waiting, then its stream ends; resuming from its last id misses nothing", .timeLimit(.minutes(5)))
    func slowSubscriberEndsAndResumes() async throws {
        let log = LiveEventLog(retention: 100, subscriberBuffer: 3)
        let slow = log.subscribe(filter: StreamFilter(), after: nil)
        // Five publishes while the subscriber reads nothing: three fit, the fourth ends it.
        for draft in drafts(5) { log.publish([draft]) }
        var received: [ByteBuffer] = []
        for await frame in slow.live { received.append(frame) }
        let got = ids(received)
        #expect(got.count == 3, "the frames that were waiting are delivered before the end")

        let resumed = log.subscribe(filter: StreamFilter(), after: got.last)
        #expect(resumed.missed.count == 2, "the two frames it could not take come on reconnect")
        #expect(resumed.missed.map(\.id) == [got[2] + 1, got[2] + 2])
        resumed.cancel()
    }

    @Test("a subscriber that keeps up gets every frame in order, and its stream stays open")
    func subscriberThatKeepsUp() async throws {
        let log = LiveEventLog(retention: 100, subscriberBuffer: 3)
        let subscription = log.subscribe(filter: StreamFilter(chatID: "7"), after: nil)
        var iterator = subscription.live.makeAsyncIterator()
        var got: [Int64] = []
        for round in 0..<10 {
            log.publish(drafts(1, chat: round.isMultiple(of: 2) ? "7" : "8") + drafts(1, chat: "7"))
            guard let frame = await iterator.next() else {
                Issue.record("the stream ended at round \(round)")
                return
            }
            got += ids([frame])
        }
        #expect(got.count == 15, "5 rounds with two of chat 7, 5 with one")
        #expect(got == got.sorted())
        subscription.cancel()
        #expect(await iterator.next() == nil)
    }

    @Test("a Last-Event-ID older than what is kept, or from before a restart, gets a reset instead of a silent gap")
    func resumingTooLateIsSignalled() async throws {
        let log = LiveEventLog(retention: 4, subscriberBuffer: 100)
        let first = log.subscribe(filter: StreamFilter(), after: nil)
        log.publish(drafts(1))
        var iterator = first.live.makeAsyncIterator()
        let firstFrame = try #require(await iterator.next())
        let firstID = try #require(ids([firstFrame]).first)
        first.cancel()

        // Within retention: what was missed, no reset.
        log.publish(drafts(3))
        let inTime = log.subscribe(filter: StreamFilter(), after: firstID)
        #expect(inTime.resetID == nil)
        #expect(inTime.missed.count == 3)
        inTime.cancel()

        // Ten more: the events after firstID are gone (only the newest are kept).
        log.publish(drafts(10))
        let late = log.subscribe(filter: StreamFilter(), after: firstID)
        #expect(late.missed.isEmpty)
        #expect(late.resetID == firstID + 13, "the reset carries the newest id, where the stream picks up")
        late.cancel()
        let frame = String(buffer: LiveEventLog.resetFrame(id: firstID + 13))
        #expect(frame.hasPrefix("id: \(firstID + 13)\nevent: reset\ndata: {\"type\":\"reset\""))

        // An id this log never gave (a server restarted since): reset too.
        let restarted = LiveEventLog(retention: 4, subscriberBuffer: 100, now: Date().addingTimeInterval(60))
        let afterRestart = restarted.subscribe(filter: StreamFilter(), after: firstID)
        #expect(afterRestart.resetID != nil)
        afterRestart.cancel()

        // The newest id itself: nothing missed, nothing to reset.
        let current = log.subscribe(filter: StreamFilter(), after: firstID + 13)
        #expect(current.resetID == nil && current.missed.isEmpty)
        current.cancel()
    }
}
