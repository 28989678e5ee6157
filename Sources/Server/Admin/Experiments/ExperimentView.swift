import Flows
import Foundation
import Storage

/// How the experiment pages show `ExperimentResult`: the numbers of `replyflow experiments
/// report`, in words and charts.
struct ExperimentView {
    let time: DisplayTime

    /// A key as a path segment of `/admin/experiments/:key`.
    static func href(_ key: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%")
        return "/admin/experiments/" + (key.addingPercentEncoding(withAllowedCharacters: allowed) ?? key)
    }

    static func percent(_ value: Double?) -> String { value.map { String(format: "%.2f%%", $0 * 100) } ?? "—" }
    static func points(_ value: Double) -> String { String(format: "%+.2f pp", value * 100) }

    /// One line for the list: what the experiment says so far.
    static func headline(_ result: ExperimentResult) -> String {
        if result.sampleRatio == nil { return "No exposures yet." }
        if result.sampleRatio?.mismatch == true { return "Sample ratio mismatch: check the assignment before trusting the numbers." }
        let baseline = result.variants.first?.name ?? "the first variant"
        let clear = result.rows.filter { $0.direction != 0 }
        if !clear.isEmpty {
            return clear.map { "\($0.comparison.name) is \($0.direction > 0 ? "better" : "worse") than \(baseline)" }.joined(separator: "; ") + "."
        }
        return result.tooFew ? "Too few users to compare yet." : "Not significant yet: keep it running."
    }

    static func flowValues(_ result: ExperimentResult, files: [String: String]) -> [String: Any] {
        switch result.flow {
        case .flow(let name):
            var values: [String: Any] = ["flow": name, "running": true]
            if let file = files[name] { values["flowHref"] = "/admin/flows/\(file)" }
            return values
        case .gone: return ["state": "no longer in the flows"]
        case .flowsHaveErrors: return ["state": "the flows have errors: weights unknown"]
        }
    }

    func listRow(_ result: ExperimentResult, files: [String: String]) -> [String: Any] {
        var values = Self.flowValues(result, files: files)
        values["key"] = result.key
        values["href"] = Self.href(result.key)
        values["variants"] = result.variants.map(\.name).joined(separator: ", ")
        values["exposures"] = String(result.variants.map(\.exposures).reduce(0, +))
        values["headline"] = Self.headline(result)
        return values
    }

    /// The goal in words: what counts as a conversion.
    static func goal(_ goal: Experiment.Goal?) -> String? {
        guard let goal else { return nil }
        let hours = goal.withinSeconds / 3600
        let window = hours >= 24 && hours.truncatingRemainder(dividingBy: 24) == 0
            ? "\(Int(hours / 24)) day\(hours == 24 ? "" : "s")" : hours >= 1 ? String(format: "%g hours", hours) : String(format: "%g minutes", goal.withinSeconds / 60)
        return "a user converts when \(goal.trigger.rawValue) happens within \(window) of their first exposure"
    }

    func page(_ result: ExperimentResult, files: [String: String], daily: DailyExposures?, versions: [FlowVersion]?, file: String?) -> [String: Any] {
        var values = Self.flowValues(result, files: files)
        values["key"] = result.key
        values["headline"] = Self.headline(result)
        if let goal = Self.goal(result.goal) { values["goal"] = goal }
        let totalWeight = result.variants.map(\.weight).reduce(0, +)
        let bars = result.rows.compactMap { row -> (difference: Double, interval: ClosedRange<Double>)? in
            guard let difference = row.comparison.difference, let interval = row.interval95 else { return nil }
            return (difference, interval)
        }
        let halfWidth = ExperimentCharts.axisHalfWidth(bars)
        values["axisLeft"] = Self.points(-halfWidth)
        values["axisRight"] = Self.points(halfWidth)
        values["rows"] = result.rows.enumerated().map { index, row -> [String: Any] in
            let variant = result.variants[index]
            var values: [String: Any] = [
                "name": row.comparison.name, "exposures": String(row.comparison.exposures), "conversions": String(row.comparison.conversions),
                "rate": Self.percent(row.comparison.rate),
                "share": totalWeight > 0 ? String(format: "%.0f%%", variant.weight / totalWeight * 100) : "—",
                "isBaseline": index == 0,
            ]
            if index > 0 { values["verdict"] = Self.verdictWords(row) }
            if let difference = row.comparison.difference { values["difference"] = Self.points(difference) }
            if let interval = row.interval95, let difference = row.comparison.difference {
                values["interval"] = "[\(Self.points(interval.lowerBound)), \(Self.points(interval.upperBound))]"
                let bar = ExperimentCharts.intervalBar(difference: difference, interval: interval, direction: row.direction, halfWidth: halfWidth)
                values["bar"] = [
                    "zero": bar.zeroX, "from": bar.fromX, "width": max(1, bar.toX - bar.fromX), "point": bar.pointX, "tone": bar.tone,
                    "label": "\(Self.points(difference)), 95% interval \(Self.points(interval.lowerBound)) to \(Self.points(interval.upperBound))",
                ]
            }
            if let p = row.pValue { values["p"] = p < 0.0001 ? "<0.0001" : String(format: "%.4f", p) }
            return values
        }
        if let check = result.sampleRatio, check.mismatch {
            values["mismatch"] = String(format: "chi-square %.2f, p = %.2g", check.chiSquare, check.pValue)
        } else if let check = result.sampleRatio {
            values["ratioOK"] = String(format: "p = %.3f", check.pValue)
        }
        values["tooFew"] = result.tooFew
        values["minimumUsers"] = String(ExperimentReport.minimumUsers)
        values["minimumConversions"] = String(ExperimentReport.minimumConversions)
        if let daily {
            let chart = ExperimentCharts.dailyLines(days: daily.days, counts: daily.counts, variants: result.variants.map(\.name))
            values["daily"] = [
                "series": chart.series.map { ["variant": $0.variant, "points": $0.points, "index": String($0.index % 6)] },
                "maximum": String(chart.maximum), "firstDay": chart.firstDay, "lastDay": chart.lastDay,
                "baseline": chart.baselineY, "top": chart.topY, "right": ExperimentCharts.DailyLines.width - ExperimentCharts.DailyLines.right,
                "left": ExperimentCharts.DailyLines.left, "labelY": ExperimentCharts.DailyLines.height - 6,
                "table": daily.days.enumerated().map { day, name in
                    ["day": name, "counts": result.variants.map { String(daily.counts[$0.name]?[day] ?? 0) }]
                },
                "variantNames": result.variants.map(\.name),
            ]
            values["span"] = "\(time.full(daily.first)) to \(time.full(daily.last))"
        }
        if let file { values["file"] = file }
        if let versions {
            values["versions"] = versions.map { version -> [String: Any] in
                var row: [String: Any] = [
                    "id": String(version.id), "change": version.change.rawValue, "author": version.author, "at": time.full(version.createdAt),
                ]
                if !version.comment.isEmpty { row["comment"] = version.comment }
                return row
            }
            values["noVersions"] = versions.isEmpty
        }
        return values
    }

    static func verdictWords(_ row: ExperimentResult.Row) -> String {
        switch row.verdict {
        case .baseline: return ""
        case .tooFew: return "too few users to compare yet"
        case .significant: return row.direction > 0 ? "significantly better" : "significantly worse"
        case .notSignificant: return "not significant yet: the difference could still be chance"
        case .undetermined: return "no conversions to compare yet"
        }
    }

    /// The versions of the experiment's flow file that ran while it had exposures: the one
    /// in place at the first exposure, and every one recorded until the last.
    static func versionsLive(_ versions: [FlowVersion], from first: Date, to last: Date) -> [FlowVersion] {
        let oldestFirst = versions.sorted { $0.id < $1.id }
        var live = oldestFirst.filter { $0.createdAt > first && $0.createdAt <= last }
        if let atStart = oldestFirst.last(where: { $0.createdAt <= first }) { live.insert(atStart, at: 0) }
        return live
    }
}
