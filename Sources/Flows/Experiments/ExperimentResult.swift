import Foundation

/// One experiment's numbers and what they mean, computed once for `replyflow experiments
/// report` and the admin panel's experiment pages, so both always say the same thing.
public struct ExperimentResult: Sendable {
    public var key: String
    public var flow: ExperimentReport.FlowState
    /// The flow's goal (what counts as a conversion, and within how long); nil when the
    /// flow is gone or has none.
    public var goal: Experiment.Goal?
    public var variants: [VariantCounts]
    /// One per variant, the first being the baseline the others are compared with.
    public var rows: [Row]
    /// Whether some variant has too few users or conversions for an interval and a p-value.
    public var tooFew: Bool
    /// Nil when there are no exposures yet.
    public var sampleRatio: SampleRatioCheck?

    /// What the numbers say of one variant against the first.
    public enum Verdict: String, Sendable {
        case baseline
        case tooFew = "too few users to compare yet"
        case significant
        case notSignificant = "not significant yet"
        /// Enough users, but no p-value (no conversions anywhere, say).
        case undetermined = ""
    }

    public struct Row: Sendable {
        public var comparison: VariantComparison
        public var verdict: Verdict
        /// The interval and p-value, shown only when both variants have enough data.
        public var interval95: ClosedRange<Double>?
        public var pValue: Double?
        /// +1 when significantly better than the baseline, -1 when significantly worse, 0 otherwise.
        public var direction: Int {
            guard verdict == .significant, let difference = comparison.difference else { return 0 }
            return difference > 0 ? 1 : difference < 0 ? -1 : 0
        }
    }

    public init(key: String, flow: ExperimentReport.FlowState, goal: Experiment.Goal? = nil, variants: [VariantCounts]) {
        self.key = key
        self.flow = flow
        self.goal = goal
        self.variants = variants
        let baseline = variants.first
        var tooFew = false
        rows = ExperimentStatistics.compare(variants).enumerated().map { index, comparison in
            guard index > 0 else { return Row(comparison: comparison, verdict: .baseline) }
            let enough = baseline.map(ExperimentReport.hasEnoughData) == true && ExperimentReport.hasEnoughData(variants[index])
            guard enough else {
                tooFew = true
                return Row(comparison: comparison, verdict: .tooFew)
            }
            guard let p = comparison.pValue else {
                return Row(comparison: comparison, verdict: .undetermined, interval95: comparison.interval95)
            }
            // Newcombe's interval and the z-test agree but at the very edge; there the verdict
            // follows the more careful of the two, so it never contradicts the table.
            let excludesZero = comparison.interval95.map { !$0.contains(0) } ?? false
            return Row(
                comparison: comparison, verdict: p < 0.05 && excludesZero ? .significant : .notSignificant, interval95: comparison.interval95, pValue: p)
        }
        self.tooFew = tooFew
        sampleRatio = ExperimentStatistics.sampleRatio(variants)
    }

    /// Every experiment worth a report: those in the flows (with their weights, in the
    /// flows' order), then those only the database still has exposures for (equal weights).
    /// `counts` reads one experiment's exposures and conversions per variant.
    public static func all(
        flows: FlowSet?, storedKeys: [String], counts: (String) throws -> [String: (exposures: Int, conversions: Int)]
    ) rethrows -> [ExperimentResult] {
        var declared: [(key: String, variants: [(String, Double)], flow: Flow?)] =
            flows?.experiments.map { pair in (pair.experiment.key, pair.experiment.variants.map { ($0.name, $0.weight) }, pair.flow) } ?? []
        var results: [ExperimentResult] = []
        for key in storedKeys where !declared.contains(where: { $0.key == key }) {
            declared.append((key, try counts(key).keys.sorted().map { ($0, 1) }, nil))
        }
        for experiment in declared {
            let stored = try counts(experiment.key)
            let variants = experiment.variants.map { name, weight in
                VariantCounts(name: name, weight: weight, exposures: stored[name]?.exposures ?? 0, conversions: stored[name]?.conversions ?? 0)
            }
            let state: ExperimentReport.FlowState = experiment.flow.map { .flow($0.name) } ?? (flows == nil ? .flowsHaveErrors : .gone)
            results.append(ExperimentResult(key: experiment.key, flow: state, goal: experiment.flow?.experiment?.goal, variants: variants))
        }
        return results
    }
}
