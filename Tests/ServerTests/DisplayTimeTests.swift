import Foundation
import Testing

@testable import Server
import TestSupport

/// The panel's times: what a support person reads in the list and in tooltips.
@Suite(.machineShare)
struct DisplayTimeTests {
    let moscow = TimeZone(identifier: "Europe/Moscow")!
    /// 2026-12-03 21:30 UTC, which is 4 Dec 00:30 in Moscow.
    let now = Date(timeIntervalSince1970: 1_796_333_400)

    @Test func todayIsAClockTimeInTheServersZone() {
        let time = DisplayTime(timeZone: moscow, now: now)
        #expect(time.short(now.addingTimeInterval(-10 * 60)) == "00:20")
        // 23:50 on 3 Dec in Moscow: yesterday there, even though it is the same UTC day.
        #expect(time.short(now.addingTimeInterval(-40 * 60)) == "3 Dec")
    }

    @Test func earlierThisYearIsDayAndMonthOlderHasTheYear() {
        let time = DisplayTime(timeZone: moscow, now: now)
        #expect(time.short(now.addingTimeInterval(-200 * 86_400)) == "18 May")
        #expect(time.short(now.addingTimeInterval(-400 * 86_400)) == "30 Oct 2025")
    }

    @Test func fullHasSecondsAndTheZone() {
        let utc = DisplayTime(timeZone: TimeZone(identifier: "UTC")!, now: now)
        #expect(utc.full(Date(timeIntervalSince1970: 1_796_333_405)) == "2026-12-03 21:30:05 GMT")
        #expect(DisplayTime(timeZone: moscow, now: now).full(now).hasPrefix("2026-12-04 00:30:00 "))
    }

    @Test func waitsInAtMostTwoUnits() {
        let time = DisplayTime(timeZone: moscow, now: now)
        #expect(time.wait(since: now.addingTimeInterval(-30)) == "under a minute")
        #expect(time.wait(since: now.addingTimeInterval(-130 * 60)) == "2 h 10 min")
        #expect(time.wait(since: now.addingTimeInterval(-3 * 86_400)) == "3 d")
    }
}
