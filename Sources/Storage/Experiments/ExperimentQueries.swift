import Foundation
import GRDB

/// The experiment tables as the report and the panel read them: one SQL each, run by
/// `StateQueries` for the command line (synchronously) and by the async
/// `ReplyflowDatabase` methods below for the server.
enum ExperimentQueries {
    static func keys(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT DISTINCT experiment FROM experiment_exposures ORDER BY experiment")
    }

    static func counts(_ db: Database, experiment: String) throws -> [String: (exposures: Int, conversions: Int)] {
        var counts: [String: (exposures: Int, conversions: Int)] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT variant, count(*) FROM experiment_exposures WHERE experiment = ? GROUP BY variant", arguments: [experiment])
        {
            counts[row[0], default: (0, 0)].exposures = row[1]
        }
        for row in try Row.fetchAll(
            db, sql: "SELECT variant, count(*) FROM experiment_conversions WHERE experiment = ? GROUP BY variant", arguments: [experiment])
        {
            counts[row[0], default: (0, 0)].conversions = row[1]
        }
        return counts
    }
}

/// Users first exposed to each variant on each day.
public struct DailyExposures: Sendable, Equatable {
    /// `YYYY-MM-DD` in the zone asked for, oldest first, every day from the first to the last.
    public var days: [String]
    /// Per variant, one count per day of `days`.
    public var counts: [String: [Int]]
    /// The first and the last exposure.
    public var first: Date
    public var last: Date
}

extension ReplyflowDatabase {
    /// Experiments with stored exposures, and each one's counts per variant: what
    /// `ExperimentResult.all` reads, in one read transaction.
    public func experimentCounts() async throws -> (keys: [String], counts: [String: [String: (exposures: Int, conversions: Int)]]) {
        try await writer.read { db in
            let keys = try ExperimentQueries.keys(db)
            var counts: [String: [String: (exposures: Int, conversions: Int)]] = [:]
            for key in keys { counts[key] = try ExperimentQueries.counts(db, experiment: key) }
            return (keys, counts)
        }
    }

    /// Users first exposed per variant per day in `timeZone` (an exposure is kept once per
    /// user, at its first time); nil when the experiment has none.
    public func dailyExposures(experiment: String, timeZone: TimeZone) async throws -> DailyExposures? {
        let rows = try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT variant, first_at FROM experiment_exposures WHERE experiment = ? ORDER BY first_at", arguments: [experiment])
                .map { (variant: $0[0] as String, at: Date(timeIntervalSince1970: $0[1])) }
        }
        return DailyExposures(exposures: rows, timeZone: timeZone)
    }
}

extension DailyExposures {
    /// Counts first exposures, oldest first, per variant per day in `timeZone`; nil when
    /// there are none.
    public init?(exposures: [(variant: String, at: Date)], timeZone: TimeZone) {
        guard let first = exposures.first?.at, let last = exposures.last?.at else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let start = calendar.startOfDay(for: first)
        let dayCount = (calendar.dateComponents([.day], from: start, to: calendar.startOfDay(for: last)).day ?? 0) + 1
        var counts: [String: [Int]] = [:]
        for row in exposures {
            let day = calendar.dateComponents([.day], from: start, to: calendar.startOfDay(for: row.at)).day ?? 0
            counts[row.variant, default: Array(repeating: 0, count: dayCount)][day] += 1
        }
        let days = (0..<dayCount).map { offset -> String in
            let date = calendar.date(byAdding: .day, value: offset, to: start) ?? start
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        }
        self.init(days: days, counts: counts, first: first, last: last)
    }
}
