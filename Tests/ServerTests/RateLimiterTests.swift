import Foundation
import Testing

@testable import Server
import TestSupport

/// The per-user and per-address limits: at most `limit` requests in any 60 seconds.
@Suite("Rate limiter: a sliding 60-second window", .machineShare)
struct RateLimiterTests {
    /// 1_767_261_600 is 10:00:00 UTC: `at(59)` is the last second of a calendar minute.
    private func limiter(_ limit: Int) -> (RateLimiter, TestClock) {
        let clock = TestClock(Date(timeIntervalSince1970: 1_767_261_600))
        return (RateLimiter(perMinute: limit, clock: clock.function), clock)
    }

    @Test("the limit is accepted, the next is refused until the oldest is a minute old")
    func limitThenRefusedUntilTheOldestLeaves() {
        let (limiter, clock) = limiter(3)
        for _ in 0..<3 { #expect(limiter.check("u") == nil) }
        #expect(limiter.check("u") == 60)
        clock.advance(30)
        #expect(limiter.check("u") == 30)
        clock.advance(29.5)
        #expect(limiter.check("u") == 1, "half a second left is answered as one")
        clock.advance(0.5)
        #expect(limiter.check("u") == nil, "the first request is now a minute old")
        #expect(limiter.check("u") == nil)
        #expect(limiter.check("u") == nil)
        #expect(limiter.check("u") == 60)
    }

    @Test("a burst at the end of a minute and another at the start of the next cannot double the limit")
    func noDoubleBurstAcrossMinutes() {
        let (limiter, clock) = limiter(3)
        clock.advance(59)
        for _ in 0..<3 { #expect(limiter.check("u") == nil) }
        clock.advance(2)  // 10:01:01, a new calendar minute
        #expect(limiter.check("u") == 58)
        clock.advance(58)
        #expect(limiter.check("u") == nil)
    }

    @Test("requests spread over the minute free their places one by one")
    func spreadRequests() {
        let (limiter, clock) = limiter(3)
        for _ in 0..<3 {
            #expect(limiter.check("u") == nil)
            clock.advance(20)
        }
        // Now 60 s after the first: its place is free, the next one's in 20 s.
        #expect(limiter.check("u") == nil)
        clock.advance(1)
        #expect(limiter.check("u") == 19)
    }

    @Test("refused requests are not counted")
    func refusedAreNotCounted() {
        let (limiter, clock) = limiter(1)
        #expect(limiter.check("u") == nil)
        for _ in 0..<10 {
            clock.advance(5)
            #expect(limiter.check("u") != nil)
        }
        clock.advance(10)
        #expect(limiter.check("u") == nil, "60 s after the one accepted request")
    }

    @Test("keys are counted apart; 0 turns the limiter off")
    func keysApartAndOff() {
        let (limiter, _) = limiter(1)
        #expect(limiter.check("a") == nil)
        #expect(limiter.check("a") != nil)
        #expect(limiter.check("b") == nil)
        let (off, _) = self.limiter(0)
        #expect(!off.isEnabled)
        for _ in 0..<100 { #expect(off.check("a") == nil) }
    }

    @Test("a clock set back makes the wait count from the oldest request, not accept at once")
    func clockSetBack() {
        let (limiter, clock) = limiter(1)
        #expect(limiter.check("u") == nil)
        clock.advance(-30)
        #expect(limiter.check("u") == 90)
    }

    @Test("keys idle for a minute are dropped once many are kept")
    func idleKeysArePruned() {
        let (limiter, clock) = limiter(2)
        for index in 0...RateLimiter.pruneThreshold { _ = limiter.check("k\(index)") }
        #expect(limiter.keyCount == RateLimiter.pruneThreshold + 1)
        clock.advance(61)
        #expect(limiter.check("fresh") == nil)
        #expect(limiter.keyCount == 1)
    }
}
