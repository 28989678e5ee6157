import Foundation
import Testing
@testable import Flows

/// The local day every event is filed under (greetings once a day, once-per-user
/// periods): formatted without `Calendar`, so it is checked against it.
@Suite("Local days") struct LocalTimeTests {
    @Test("YYYY-MM-DD agrees with Foundation's Gregorian calendar from 1600 to 2400")
    func dayStringsMatchTheCalendar() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        for day in stride(from: -135_000, through: 157_000, by: 13) {
            let date = Date(timeIntervalSince1970: Double(day) * 86_400 + 43_200)
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            let expected = String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
            #expect(LocalTime.format(day: day) == expected, "day \(day)")
            if LocalTime.format(day: day) != expected { break }
        }
    }

    @Test("the day is the zone's: 23:30 in Moscow on the 20th is the 20th, 00:30 the 21st")
    func dayInAZone() throws {
        let moscow = try #require(TimeZone(identifier: "Europe/Moscow"))
        #expect(LocalTime(Date(timeIntervalSince1970: 1_795_206_600), in: moscow).dayString == "2026-11-20")
        #expect(LocalTime(Date(timeIntervalSince1970: 1_795_210_200), in: moscow).dayString == "2026-11-21")
    }
}
