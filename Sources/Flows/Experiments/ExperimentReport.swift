import Foundation

/// The experiment report in words, shared by `replyflow experiments report` and the admin
/// panel: a table per experiment, a verdict a non-statistician can read, and what "pp" and
/// "not significant yet" mean.
public enum ExperimentReport {
    /// Below this, per variant, the report shows no interval or p-value: with a handful of
    /// users any difference is noise, and numbers would sound certain.
    public static let minimumUsers = 30
    public static let minimumConversions = 5

    /// Where the experiment's flow stands.
    public enum FlowState: Sendable, Equatable {
        /// In this flow of the loaded flows.
        case flow(String)
        /// The flows loaded, and none has this experiment any more.
        case gone
        /// The flows have errors, so it is not known which flow has it.
        case flowsHaveErrors
    }

    /// Colours and emphasis, for a terminal; plain text by default.
    public struct Style: Sendable {
        public var bold: @Sendable (String) -> String
        public var warning: @Sendable (String) -> String
        public var dim: @Sendable (String) -> String
        public init(
            bold: @escaping @Sendable (String) -> String = { $0 }, warning: @escaping @Sendable (String) -> String = { $0 },
            dim: @escaping @Sendable (String) -> String = { $0 }
        ) {
            self.bold = bold
            self.warning = warning
            self.dim = dim
        }
    }

    /// Whether a variant has enough users and conversions to be compared.
    public static func hasEnoughData(_ variant: VariantCounts) -> Bool {
        variant.exposures >= minimumUsers && variant.conversions >= minimumConversions
    }

    public static func render(key: String, flow: FlowState, variants: [VariantCounts], style: Style = Style()) -> String {
        render(ExperimentResult(key: key, flow: flow, variants: variants), style: style)
    }

    public static func render(_ result: ExperimentResult, style: Style = Style()) -> String {
        let title: String
        switch result.flow {
        case .flow(let name): title = " (flow '\(name)')"
        case .gone: title = " (no longer in the flows)"
        case .flowsHaveErrors: title = " (the flows have errors, so their weights are not known: run replyflow check)"
        }
        let variants = result.variants
        var lines = [style.bold("Experiment \(result.key)") + title]
        func percent(_ value: Double?) -> String { value.map { String(format: "%.2f%%", $0 * 100) } ?? "—" }
        func signed(_ value: Double) -> String { String(format: "%+.2f pp", value * 100) }
        let baseline = variants.first
        let header = ["variant", "exposures", "conversions", "rate", "vs " + (baseline?.name ?? "first"), "95% interval", "p-value", "verdict"]
        var rows = [header]
        for (index, row) in result.rows.enumerated() {
            let comparison = row.comparison
            let interval = row.interval95.map { "[\(signed($0.lowerBound)), \(signed($0.upperBound))]" } ?? "—"
            let p = row.pValue.map { $0 < 0.0001 ? "<0.0001" : String(format: "%.4f", $0) } ?? "—"
            let difference = comparison.difference.map(signed) ?? (index == 0 ? "(baseline)" : "—")
            let verdict = row.verdict == .baseline ? "" : row.verdict.rawValue
            rows.append([
                comparison.name, String(comparison.exposures), String(comparison.conversions), percent(comparison.rate), difference, interval, p, verdict,
            ])
        }
        let tooFew = result.tooFew
        let widths = (0..<header.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            lines.append(
                ("  " + row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")).trimmingTrailingSpaces)
        }
        if tooFew {
            lines.append(
                "  Too few users to compare yet: each variant needs at least \(minimumUsers) users and \(minimumConversions) conversions before the report shows an interval."
            )
        }
        if let check = result.sampleRatio {
            if check.mismatch {
                lines.append(
                    style.warning("  Warning: sample ratio mismatch")
                        + String(
                            format: " (chi-square %.2f, p = %.2g): exposures do not follow the weights; check assignment before trusting these results.",
                            check.chiSquare, check.pValue))
            } else {
                lines.append(style.dim(String(format: "  Sample ratio OK (p = %.3f).", check.pValue)))
            }
        } else {
            lines.append(style.dim("  No exposures yet."))
        }
        if variants.count > 1 {
            lines.append(style.dim("  pp: percentage points, the difference between two rates (12.00% against 10.00% is +2.00 pp)."))
            lines.append(
                style.dim(
                    "  not significant yet: the difference could still be chance (p-value 0.05 or more; the interval contains 0); keep the experiment running.")
            )
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
