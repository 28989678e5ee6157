import Foundation

/// Calendar arithmetic in a time zone, without `Calendar`: the runtime asks "what day is it"
/// for every event, and `Calendar.dateComponents` is far too slow for replaying millions.
public struct LocalTime: Sendable {
    /// Days since 1970-01-01 in the zone.
    public let dayNumber: Int
    /// Minutes since local midnight.
    public let minuteOfDay: Int
    /// 0 = Monday ... 6 = Sunday.
    public var weekday: Int { Self.weekday(ofDay: dayNumber) }

    public init(_ date: Date, in zone: TimeZone) {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down)) + zone.secondsFromGMT(for: date)
        let (day, rest) = seconds.quotientAndRemainder(dividingBy: 86_400)
        let adjust = rest < 0 ? 1 : 0
        self.dayNumber = day - adjust
        self.minuteOfDay = (rest + adjust * 86_400) / 60
    }

    /// 1970-01-01 was a Thursday (index 3).
    static func weekday(ofDay day: Int) -> Int {
        ((day % 7) + 7 + 3) % 7
    }

    /// `YYYY-MM-DD` of the local day.
    public var dayString: String { Self.format(day: dayNumber) }

    /// Civil date from a day count (the standard days-from-civil inverse, proleptic Gregorian).
    static func format(day: Int) -> String {
        let z = day + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        guard (0...9999).contains(y) else {
            let year = String(y)
            return "\(String(repeating: "0", count: max(0, 4 - year.count)) + year)-\(m < 10 ? "0" : "")\(m)-\(d < 10 ? "0" : "")\(d)"
        }
        // Ten ASCII digits and dashes written in place: every event asks for its day.
        return String(unsafeUninitializedCapacity: 10) { bytes in
            func digit(_ value: Int) -> UInt8 { UInt8(ascii: "0") + UInt8(value) }
            bytes[0] = digit(y / 1000)
            bytes[1] = digit(y / 100 % 10)
            bytes[2] = digit(y / 10 % 10)
            bytes[3] = digit(y % 10)
            bytes[4] = UInt8(ascii: "-")
            bytes[5] = digit(m / 10)
            bytes[6] = digit(m % 10)
            bytes[7] = UInt8(ascii: "-")
            bytes[8] = digit(d / 10)
            bytes[9] = digit(d % 10)
            return 10
        }
    }
}
