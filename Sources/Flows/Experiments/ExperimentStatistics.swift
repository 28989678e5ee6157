import Foundation

/// One variant's counts, as the report reads them from storage.
///
/// `weight` is the share of traffic the experiment was configured to send to this variant.
/// It does not have to be normalised: the sample ratio check only uses the ratios between
/// weights, so `50/50`, `1/1` and `0.5/0.5` all mean the same split.
public struct VariantCounts: Sendable, Equatable {
    public var name: String
    public var weight: Double
    public var exposures: Int
    public var conversions: Int

    public init(name: String, weight: Double, exposures: Int, conversions: Int) {
        self.name = name
        self.weight = weight
        self.exposures = exposures
        self.conversions = conversions
    }
}

/// Comparison of a variant with the first (control) variant.
///
/// Every statistic is optional because a report is read while the experiment is still
/// running: a variant can have no exposures yet, and showing `nil` is more honest than
/// showing a `0` or `NaN` that looks like a measurement.
public struct VariantComparison: Sendable, Equatable {
    public var name: String
    public var exposures: Int
    public var conversions: Int
    /// `conversions / exposures`; `nil` when there are no exposures.
    public var rate: Double?
    /// `rate - control rate`; `nil` for the control itself or when either rate is undefined.
    public var difference: Double?
    /// Newcombe (Wilson score) 95% confidence interval of the difference of proportions: a
    /// score method, as the pooled z-test of `pValue` is, so the two tell the same story.
    public var interval95: ClosedRange<Double>?
    /// Two-sided p-value of the pooled two-proportion z-test; `nil` when undefined
    /// (no exposures on either side, or a pooled variance of 0).
    public var pValue: Double?

    public init(
        name: String,
        exposures: Int,
        conversions: Int,
        rate: Double? = nil,
        difference: Double? = nil,
        interval95: ClosedRange<Double>? = nil,
        pValue: Double? = nil
    ) {
        self.name = name
        self.exposures = exposures
        self.conversions = conversions
        self.rate = rate
        self.difference = difference
        self.interval95 = interval95
        self.pValue = pValue
    }
}

/// Result of the sample ratio mismatch (SRM) check.
///
/// A mismatch means the exposures are not split the way the weights say they should be,
/// which usually points at a bug in assignment or logging; the conversion comparison of
/// such an experiment should not be trusted.
public struct SampleRatioCheck: Sendable, Equatable {
    public var chiSquare: Double
    public var degreesOfFreedom: Int
    public var pValue: Double
    /// `pValue < threshold`.
    public var mismatch: Bool

    public init(chiSquare: Double, degreesOfFreedom: Int, pValue: Double, mismatch: Bool) {
        self.chiSquare = chiSquare
        self.degreesOfFreedom = degreesOfFreedom
        self.pValue = pValue
        self.mismatch = mismatch
    }
}

/// Frequentist statistics for the experiments report.
///
/// Implemented with Foundation only (no statistics dependency) because the report needs just
/// the normal distribution and the chi-square upper tail, both of which have short, well-known
/// numerical methods.
public enum ExperimentStatistics {
    /// Two-sided 95% quantile of the standard normal, `Φ⁻¹(0.975)`, written out to full double
    /// precision rather than rounded to 1.96 so the intervals match other tools to the last digit.
    static let z95 = 1.959963984540054

    /// Compares every variant with the first one, which is taken to be the control.
    ///
    /// The result has one entry per input variant, in the same order. The control's entry only
    /// carries its counts and rate: comparing it with itself would produce a difference of 0
    /// and p = 1, which would read like a result when it is not one.
    public static func compare(_ variants: [VariantCounts]) -> [VariantComparison] {
        guard let control = variants.first else { return [] }
        let controlRate = rate(of: control)
        let controlSample = Proportion(control)

        return variants.enumerated().map { index, variant in
            let variantRate = rate(of: variant)
            var comparison = VariantComparison(
                name: variant.name,
                exposures: variant.exposures,
                conversions: variant.conversions,
                rate: variantRate
            )
            guard index > 0 else { return comparison }

            if let variantRate, let controlRate {
                comparison.difference = variantRate - controlRate
            }
            // Inference only makes sense for counts that form a proportion; counts that do not
            // (more conversions than exposures, negative numbers) would give a negative
            // variance, so they get no interval and no p-value rather than a wrong one.
            if let controlSample, let sample = Proportion(variant) {
                comparison.interval95 = newcombeInterval(control: controlSample, variant: sample)
                comparison.pValue = pooledTwoSidedPValue(control: controlSample, variant: sample)
            }
            return comparison
        }
    }

    /// Pearson chi-square goodness of fit of the exposures against the weights (normalised).
    ///
    /// The threshold defaults to 0.001, as GrowthBook uses: the check runs on every look at a
    /// live experiment, so a strict threshold keeps false alarms rare while a real assignment
    /// bug still shows up quickly once traffic accumulates.
    ///
    /// Returns `nil` when there are fewer than 2 variants, no exposures, or weights that do not
    /// describe a split (negative, not finite, or all zero); and also when fewer than 2 variants
    /// have a positive weight, because then there is no ratio to check.
    /// A variant with weight 0 is not part of the split; it adds no degree of freedom, but any
    /// exposure it received is an unconditional mismatch (chi-square infinite, p-value 0),
    /// since the expected count was 0.
    public static func sampleRatio(_ variants: [VariantCounts], threshold: Double = 0.001) -> SampleRatioCheck? {
        guard variants.count >= 2 else { return nil }
        guard variants.allSatisfy({ $0.exposures >= 0 && $0.weight.isFinite && $0.weight >= 0 }) else {
            return nil
        }
        // Sums in Double: exposure counts are far below 2^53, and this avoids overflow traps.
        let totalExposures = variants.reduce(0.0) { $0 + Double($1.exposures) }
        let totalWeight = variants.reduce(0.0) { $0 + $1.weight }
        guard totalExposures > 0, totalWeight > 0 else { return nil }

        let allocated = variants.filter { $0.weight > 0 }
        guard allocated.count >= 2 else { return nil }
        let degreesOfFreedom = allocated.count - 1

        if variants.contains(where: { $0.weight == 0 && $0.exposures > 0 }) {
            let pValue = 0.0
            return SampleRatioCheck(
                chiSquare: .infinity,
                degreesOfFreedom: degreesOfFreedom,
                pValue: pValue,
                mismatch: pValue < threshold
            )
        }

        var chiSquare = 0.0
        for variant in allocated {
            let expected = totalExposures * variant.weight / totalWeight
            let deviation = Double(variant.exposures) - expected
            chiSquare += deviation * deviation / expected
        }
        let pValue = chiSquareUpperTail(chiSquare, degreesOfFreedom: degreesOfFreedom)
        return SampleRatioCheck(
            chiSquare: chiSquare,
            degreesOfFreedom: degreesOfFreedom,
            pValue: pValue,
            mismatch: pValue < threshold
        )
    }

    /// Standard normal CDF, `Φ(x) = erfc(-x / √2) / 2`.
    ///
    /// Written with `erfc` rather than `1 + erf` because `erfc` keeps full relative precision
    /// in the lower tail, which is where small p-values come from; two-sided p-values are then
    /// taken as `2 Φ(-|z|)` so they never go through a subtraction from 1.
    static func normalCDF(_ x: Double) -> Double {
        0.5 * erfc(-x / 2.0.squareRoot())
    }

    /// Upper tail of chi-square with `degreesOfFreedom` degrees of freedom, `P(X ≥ x)`.
    ///
    /// This is the regularized upper incomplete gamma function `Q(k/2, x/2)`, implemented with
    /// the series / continued fraction method (accurate to ~1e-10): below `a + 1` the series for
    /// the lower function `P` converges quickly and `Q = 1 - P` loses nothing because `Q` is
    /// not small there; above it the continued fraction gives `Q` directly, which keeps
    /// relative precision in the far tail where `1 - P` would round to 0.
    ///
    /// Returns `NaN` for a non-positive number of degrees of freedom or a `NaN` input,
    /// and 1 for `x ≤ 0`.
    static func chiSquareUpperTail(_ x: Double, degreesOfFreedom: Int) -> Double {
        guard degreesOfFreedom > 0, !x.isNaN else { return .nan }
        guard x > 0 else { return 1 }
        guard x.isFinite else { return 0 }
        return regularizedUpperGamma(Double(degreesOfFreedom) / 2, x / 2)
    }
}

// MARK: - Implementation

extension ExperimentStatistics {
    /// Conversion rate as shown in the report; `nil` without exposures, where it is undefined.
    private static func rate(of variant: VariantCounts) -> Double? {
        guard variant.exposures > 0 else { return nil }
        return Double(variant.conversions) / Double(variant.exposures)
    }

    /// A variant's counts when they form a valid binomial proportion.
    private struct Proportion {
        let successes: Double
        let size: Double
        let rate: Double

        init?(_ variant: VariantCounts) {
            guard variant.exposures > 0,
                variant.conversions >= 0,
                variant.conversions <= variant.exposures
            else { return nil }
            successes = Double(variant.conversions)
            size = Double(variant.exposures)
            rate = successes / size
        }
    }

    /// Newcombe's hybrid score interval (his method 10) for `p₂ - p₁`, from each rate's Wilson
    /// score interval `[lᵢ, uᵢ]`: `d - √((p₂-l₂)² + (u₁-p₁)²) … d + √((u₂-p₂)² + (p₁-l₁)²)`.
    ///
    /// A score interval, like the pooled z-test's statistic, so the two agree far better than
    /// the Wald interval did (which collapsed to a point at rates of 0 or 1 and disagreed with
    /// the test on small counts).
    private static func newcombeInterval(control: Proportion, variant: Proportion) -> ClosedRange<Double>? {
        let difference = variant.rate - control.rate
        let (l1, u1) = wilson(control), (l2, u2) = wilson(variant)
        let lower = difference - ((variant.rate - l2) * (variant.rate - l2) + (u1 - control.rate) * (u1 - control.rate)).squareRoot()
        let upper = difference + ((u2 - variant.rate) * (u2 - variant.rate) + (control.rate - l1) * (control.rate - l1)).squareRoot()
        // `a...b` traps unless a <= b, so a NaN here must not reach the range operator.
        guard lower.isFinite, upper.isFinite, lower <= upper else { return nil }
        return lower...upper
    }

    /// Wilson score 95% interval of one rate.
    private static func wilson(_ sample: Proportion) -> (Double, Double) {
        let z2 = z95 * z95, n = sample.size, p = sample.rate
        let denominator = 1 + z2 / n
        let centre = (p + z2 / (2 * n)) / denominator
        let half = z95 / denominator * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        return (max(0, centre - half), min(1, centre + half))
    }

    /// Two-sided p-value of the pooled two-proportion z-test.
    ///
    /// Under the null hypothesis both variants share one rate, so that rate is estimated from
    /// the pooled counts. When the pooled rate is 0 or 1 (nobody or everybody converted) the
    /// variance is 0 and the statistic is undefined, so the result is `nil`.
    private static func pooledTwoSidedPValue(control: Proportion, variant: Proportion) -> Double? {
        let pooled = (control.successes + variant.successes) / (control.size + variant.size)
        let variance = pooled * (1 - pooled) * (1 / control.size + 1 / variant.size)
        guard variance > 0, variance.isFinite else { return nil }
        let z = (variant.rate - control.rate) / variance.squareRoot()
        // min(1, …) only guards against rounding above 1 at z = 0.
        return min(1, 2 * normalCDF(-abs(z)))
    }

    /// Relative tolerance at which the series and the continued fraction stop; close to the
    /// spacing of doubles, so the truncation error is well below the ~1e-10 target.
    private static let gammaEpsilon = 1e-15
    /// Iteration cap: both methods converge in O(√a) steps for the arguments used here, so
    /// reaching the cap would mean a pathological input, and the partial result is returned.
    private static let gammaMaxIterations = 10_000
    /// Stand-in for 0 in the continued fraction, so a vanishing denominator cannot divide by 0.
    private static let gammaTiny = 1e-300

    /// `Q(a, x) = Γ(a, x) / Γ(a)` for `a > 0`, `x > 0`.
    private static func regularizedUpperGamma(_ a: Double, _ x: Double) -> Double {
        if x < a + 1 {
            // Clamped because rounding can push P a hair above 1 when Q is tiny.
            return max(0, 1 - lowerGammaSeries(a, x))
        }
        return upperGammaContinuedFraction(a, x)
    }

    /// `e^(-x) x^a / Γ(a)`, the factor shared by the series and the continued fraction,
    /// computed in logs because `x^a` and `Γ(a)` overflow separately long before their ratio does.
    private static func gammaPrefactor(_ a: Double, _ x: Double) -> Double {
        exp(-x + a * log(x) - lgamma(a))
    }

    /// `P(a, x)` from `γ(a, x) = e^(-x) x^a Σₙ xⁿ / (a (a+1) … (a+n))`.
    ///
    /// Every term is positive, so the sum has no cancellation; it converges fast for `x < a + 1`.
    private static func lowerGammaSeries(_ a: Double, _ x: Double) -> Double {
        var denominator = a
        var term = 1 / a
        var sum = term
        for _ in 0..<gammaMaxIterations {
            denominator += 1
            term *= x / denominator
            sum += term
            if abs(term) < abs(sum) * gammaEpsilon { break }
        }
        return sum * gammaPrefactor(a, x)
    }

    /// `Q(a, x)` from the continued fraction
    /// `Γ(a, x) = e^(-x) x^a · 1/(x+1-a- 1(1-a)/(x+3-a- 2(2-a)/(x+5-a- …)))`,
    /// evaluated with the modified Lentz method, which works forward term by term and so needs
    /// no guess of how many terms to take. It converges fast for `x ≥ a + 1`.
    private static func upperGammaContinuedFraction(_ a: Double, _ x: Double) -> Double {
        var b = x + 1 - a
        var c = 1 / gammaTiny
        var d = 1 / b
        var fraction = d
        for i in 1...gammaMaxIterations {
            let n = Double(i)
            let numerator = -n * (n - a)
            b += 2
            d = numerator * d + b
            if abs(d) < gammaTiny { d = gammaTiny }
            c = b + numerator / c
            if abs(c) < gammaTiny { c = gammaTiny }
            d = 1 / d
            let step = d * c
            fraction *= step
            if abs(step - 1) < gammaEpsilon { break }
        }
        return fraction * gammaPrefactor(a, x)
    }
}
