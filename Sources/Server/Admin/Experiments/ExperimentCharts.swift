import Foundation

/// The experiment page's charts as numbers for SVG in the page template: the template
/// draws the shapes, and Mustache escapes every text in them, so no markup is built from
/// data here. Coordinates are in the SVG's own units.
enum ExperimentCharts {
    /// Where one variant's difference and its 95% interval sit on a shared axis.
    struct IntervalBar: Equatable {
        static let width = 260.0
        static let height = 26.0
        static let margin = 10.0
        var zeroX: Double
        var fromX: Double
        var toX: Double
        var pointX: Double
        /// `better`, `worse` (significant either way) or `unclear`: the bar's colour.
        var tone: String
    }

    /// The axis half-width (in proportion units) that holds every interval and point, so
    /// bars of one page can be compared by eye; at least one percentage point.
    static func axisHalfWidth(_ rows: [(difference: Double, interval: ClosedRange<Double>)]) -> Double {
        let widest = rows.map { max(abs($0.difference), abs($0.interval.lowerBound), abs($0.interval.upperBound)) }.max() ?? 0
        return max(0.01, widest * 1.1)
    }

    static func intervalBar(difference: Double, interval: ClosedRange<Double>, direction: Int, halfWidth: Double) -> IntervalBar {
        let usable = IntervalBar.width - 2 * IntervalBar.margin
        func x(_ value: Double) -> Double {
            let clamped = min(max(value, -halfWidth), halfWidth)
            return ((IntervalBar.margin + (clamped + halfWidth) / (2 * halfWidth) * usable) * 10).rounded() / 10
        }
        return IntervalBar(
            zeroX: x(0), fromX: x(interval.lowerBound), toX: x(interval.upperBound), pointX: x(difference),
            tone: direction > 0 ? "better" : direction < 0 ? "worse" : "unclear")
    }

    /// Exposures per day, one line per variant.
    struct DailyLines {
        static let width = 640.0
        static let height = 180.0
        static let left = 40.0
        static let right = 10.0
        static let top = 10.0
        static let bottom = 24.0
        var series: [(variant: String, points: String, index: Int)]
        var maximum: Int
        var firstDay: String
        var lastDay: String
        var baselineY: Double
        var topY: Double
    }

    static func dailyLines(days: [String], counts: [String: [Int]], variants: [String]) -> DailyLines {
        let maximum = max(1, counts.values.flatMap { $0 }.max() ?? 0)
        let plotWidth = DailyLines.width - DailyLines.left - DailyLines.right
        let plotHeight = DailyLines.height - DailyLines.top - DailyLines.bottom
        let baseline = DailyLines.top + plotHeight
        func x(_ day: Int) -> Double {
            days.count < 2 ? DailyLines.left + plotWidth / 2 : DailyLines.left + Double(day) / Double(days.count - 1) * plotWidth
        }
        func y(_ count: Int) -> Double { baseline - Double(count) / Double(maximum) * plotHeight }
        func format(_ value: Double) -> String { String(format: "%.1f", value) }
        let series = variants.enumerated().map { index, variant in
            let values = counts[variant] ?? Array(repeating: 0, count: days.count)
            return (variant, values.enumerated().map { "\(format(x($0.offset))),\(format(y($0.element)))" }.joined(separator: " "), index)
        }
        return DailyLines(
            series: series, maximum: maximum, firstDay: days.first ?? "", lastDay: days.last ?? "", baselineY: baseline, topY: DailyLines.top)
    }
}
