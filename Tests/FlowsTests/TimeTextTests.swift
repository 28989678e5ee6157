import Foundation
import Testing

@testable import Flows

/// Durations and points in time as people write them (a flow's `within`, `--since`, the
/// panel's filters): one reader for all of them.
@Suite("Time text") struct TimeTextTests {
    @Test("durations: a positive number and a unit, nothing else")
    func durations() {
        #expect(TimeText.seconds("30m") == 1800)
        #expect(TimeText.seconds("12h") == 43_200)
        #expect(TimeText.seconds("1.5d") == 129_600)
        #expect(TimeText.seconds("2w") == 1_209_600)
        for text in ["", "d", "7", "7x", "0d", "-1d", "infd", "nand", "1e400d", "7 d"] {
            #expect(TimeText.seconds(text) == nil, "\(text)")
        }
    }

    @Test("points in time: back from now, RFC 3339, or local in the zone; nil for anything else")
    func pointsInTime() throws {
        let now = Date(timeIntervalSince1970: 1_795_600_000)
        let zone = try #require(TimeZone(identifier: "Asia/Tokyo"))
        #expect(TimeText.pointInTime("1d", now: now, zone: zone) == now.addingTimeInterval(-86_400))
        #expect(TimeText.pointInTime("2026-11-20T10:00:00+03:00", now: now, zone: zone) == Timestamp.parse("2026-11-20T07:00:00Z"))
        #expect(TimeText.pointInTime("2026-11-20T10:00", now: now, zone: zone) == Timestamp.parse("2026-11-20T01:00:00Z"))
        #expect(TimeText.pointInTime("2026-11-20 10:00:30", now: now, zone: zone) == Timestamp.parse("2026-11-20T01:00:30Z"))
        #expect(TimeText.pointInTime(" 2026-11-20 ", now: now, zone: zone) == Timestamp.parse("2026-11-19T15:00:00Z"))
        for text in ["yesterday", "2026-13-01", "2026-02-29", "2026-11-20T24:00", "2026-11-20T10", "2026/11/20", "20261120"] {
            #expect(TimeText.pointInTime(text, now: now, zone: zone) == nil, "\(text)")
        }
    }
}
