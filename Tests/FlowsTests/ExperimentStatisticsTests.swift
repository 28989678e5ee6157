import Foundation
import Testing

@testable import Flows

// Expected values were computed with SciPy 1.17.1, independently of the Swift code:
//
//     from math import sqrt
//     from scipy.stats import norm, chi2, chisquare
//     Z = 1.959963984540054
//     def two_prop(n1, c1, n2, c2):              # control n1/c1, variant n2/c2
//         p1, p2 = c1/n1, c2/n2
//         d = p2 - p1
//         pool = (c1 + c2) / (n1 + n2)
//         se_pool = sqrt(pool*(1-pool)*(1/n1 + 1/n2))
//         p = 2*norm.sf(abs(d)/se_pool) if se_pool > 0 else None
//         se = sqrt(p1*(1-p1)/n1 + p2*(1-p2)/n2)
//         return d, p, d - Z*se, d + Z*se
//     for case in [(1000,100,1000,130), (1000,100,1000,100), (5000,250,4000,260),
//                  (200,0,300,3), (1000,100,1000,0)]:
//         print(case, [repr(v) for v in two_prop(*case)])
//     for x in [-1.0, 0.0, 1.0, 1.959963984540054, -5.0]:
//         print("cdf", x, repr(norm.cdf(x)))
//     for df in [1, 2, 3, 7]:
//         for x in [0.01, 0.5, 1.0, 3.0, 3.84, 10.0, 50.0]:
//             print("chi2.sf", df, x, repr(chi2.sf(x, df)))
//     for obs, w in [([5000,5400],[0.5,0.5]), ([5000,5100],[0.5,0.5]), ([2100,7900],[0.2,0.8]),
//                    ([2400,7600],[0.2,0.8]), ([1000,1000],[0.2,0.8]), ([3300,3350,3350],[1,1,1])]:
//         tot, ws = sum(obs), sum(w)
//         r = chisquare(obs, [tot*x/ws for x in w])
//         print("srm", obs, w, repr(float(r.statistic)), repr(float(r.pvalue)), len(obs)-1)

/// Checks `actual` against `expected` with a relative tolerance, and an absolute floor so that
/// an expected value of exactly 0 can still be met by a result that is off by rounding.
private func expectClose(
    _ actual: Double?,
    _ expected: Double,
    relative: Double = 1e-6,
    absolute: Double = 1e-12,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    guard let actual else {
        Issue.record("expected \(expected), got nil", sourceLocation: sourceLocation)
        return
    }
    let tolerance = max(relative * abs(expected), absolute)
    #expect(
        abs(actual - expected) <= tolerance,
        "expected \(expected), got \(actual) (tolerance \(tolerance))",
        sourceLocation: sourceLocation
    )
}

private func variant(_ name: String, weight: Double = 1, _ exposures: Int, _ conversions: Int = 0) -> VariantCounts {
    VariantCounts(name: name, weight: weight, exposures: exposures, conversions: conversions)
}

@Suite("Experiment statistics: comparing variants")
struct ExperimentComparisonTests {
    @Test("no variants give no comparisons")
    func emptyInput() {
        #expect(ExperimentStatistics.compare([]).isEmpty)
    }

    @Test("the control carries its rate but no comparison with itself")
    func controlEntry() {
        let result = ExperimentStatistics.compare([variant("control", 1000, 100), variant("b", 1000, 130)])
        #expect(result.count == 2)
        #expect(result[0] == VariantComparison(name: "control", exposures: 1000, conversions: 100, rate: 0.1))
        #expect(result[1].name == "b")
        #expect(result[1].exposures == 1000)
        #expect(result[1].conversions == 130)
    }

    @Test("1000/100 against 1000/130")
    func tenAgainstThirteenPercent() throws {
        let b = try #require(ExperimentStatistics.compare([variant("control", 1000, 100), variant("b", 1000, 130)]).last)
        expectClose(b.rate, 0.13)
        expectClose(b.difference, 0.03)
        expectClose(b.pValue, 0.03548845046647471)
        let interval = try #require(b.interval95)
        expectClose(interval.lowerBound, 0.0020023487152830075)
        expectClose(interval.upperBound, 0.05807048502220285)
    }

    @Test("equal rates give p = 1 and an interval centred on 0")
    func equalRates() throws {
        let b = try #require(ExperimentStatistics.compare([variant("control", 1000, 100), variant("b", 1000, 100)]).last)
        expectClose(b.difference, 0)
        expectClose(b.pValue, 1)
        let interval = try #require(b.interval95)
        expectClose(interval.lowerBound, -0.02642326132263491)
        expectClose(interval.upperBound, 0.02642326132263491)
    }

    @Test("unequal sample sizes: 5000/250 against 4000/260")
    func unequalSizes() throws {
        let b = try #require(ExperimentStatistics.compare([variant("control", 5000, 250), variant("b", 4000, 260)]).last)
        expectClose(b.difference, 0.015)
        expectClose(b.pValue, 0.0022255217974261735)
        let interval = try #require(b.interval95)
        expectClose(interval.lowerBound, 0.005348122880086332)
        expectClose(interval.upperBound, 0.024877622265814026)
    }

    @Test("a control with no conversions: 200/0 against 300/3")
    func controlWithoutConversions() throws {
        let b = try #require(ExperimentStatistics.compare([variant("control", 200, 0), variant("b", 300, 3)]).last)
        expectClose(b.difference, 0.01)
        expectClose(b.pValue, 0.15605201848318043)
        let interval = try #require(b.interval95)
        expectClose(interval.lowerBound, -0.009965445316635823)
        expectClose(interval.upperBound, 0.02898349336233983)
    }

    @Test("a very small p-value keeps its relative precision")
    func farTail() throws {
        let b = try #require(ExperimentStatistics.compare([variant("control", 1000, 100), variant("b", 1000, 0)]).last)
        expectClose(b.difference, -0.1)
        expectClose(b.pValue, 1.0694621986423644e-24)
        let interval = try #require(b.interval95)
        expectClose(interval.lowerBound, -0.1201519631953484)
        expectClose(interval.upperBound, -0.08248625685913073)
    }

    @Test("a variant without exposures has no rate and no statistics")
    func variantWithoutExposures() throws {
        let b = try #require(ExperimentStatistics.compare([variant("control", 1000, 100), variant("b", 0, 0)]).last)
        #expect(b == VariantComparison(name: "b", exposures: 0, conversions: 0))
    }

    @Test("a control without exposures leaves every comparison undefined")
    func controlWithoutExposures() {
        let result = ExperimentStatistics.compare([variant("control", 0, 0), variant("b", 1000, 130)])
        #expect(result[0].rate == nil)
        #expect(result[1].rate == 0.13)
        #expect(result[1].difference == nil)
        #expect(result[1].interval95 == nil)
        #expect(result[1].pValue == nil)
    }

    @Test("a pooled variance of 0 gives no p-value")
    func zeroPooledVariance() throws {
        let none = try #require(ExperimentStatistics.compare([variant("control", 100, 0), variant("b", 200, 0)]).last)
        #expect(none.difference == 0)
        #expect(none.pValue == nil)
        // The Newcombe interval does not collapse to a point when both rates are 0 (Wald's did).
        let interval = try #require(none.interval95)
        #expect(interval.lowerBound < 0 && interval.upperBound > 0)

        let all = try #require(ExperimentStatistics.compare([variant("control", 100, 100), variant("b", 200, 200)]).last)
        #expect(all.pValue == nil)
    }

    @Test("counts that are not a proportion get no interval and no p-value")
    func invalidCounts() throws {
        let b = try #require(ExperimentStatistics.compare([variant("control", 1000, 100), variant("b", 1000, 1001)]).last)
        #expect(b.interval95 == nil)
        #expect(b.pValue == nil)
    }

    @Test("every variant is compared with the first one, in input order")
    func severalVariants() {
        let result = ExperimentStatistics.compare([
            variant("control", 1000, 100), variant("b", 1000, 130), variant("c", 1000, 100),
        ])
        #expect(result.map(\.name) == ["control", "b", "c"])
        expectClose(result[1].pValue, 0.03548845046647471)
        expectClose(result[2].pValue, 1)
    }
}

@Suite("Experiment statistics: distributions")
struct ExperimentDistributionTests {
    @Test(
        "standard normal CDF",
        arguments: [
            (x: -1.0, expected: 0.15865525393145707),
            (x: 0.0, expected: 0.5),
            (x: 1.0, expected: 0.8413447460685429),
            (x: 1.959963984540054, expected: 0.975),
            (x: -5.0, expected: 2.866515718791933e-07),
        ]
    )
    func normalCDF(_ sample: (x: Double, expected: Double)) {
        expectClose(ExperimentStatistics.normalCDF(sample.x), sample.expected, relative: 1e-9)
    }

    // Tighter than the other tests (1e-9) because the implementation claims ~1e-10.
    @Test(
        "chi-square upper tail matches scipy.stats.chi2.sf",
        arguments: [
            (df: 1, x: 0.01, expected: 0.920344325445942),
            (df: 1, x: 0.5, expected: 0.47950012218695337),
            (df: 1, x: 1.0, expected: 0.31731050786291115),
            (df: 1, x: 3.0, expected: 0.08326451666355042),
            (df: 1, x: 3.84, expected: 0.05004352124870519),
            (df: 1, x: 10.0, expected: 0.001565402258002549),
            (df: 1, x: 50.0, expected: 1.537459794428033e-12),
            (df: 2, x: 0.01, expected: 0.9950124791926823),
            (df: 2, x: 0.5, expected: 0.7788007830714049),
            (df: 2, x: 1.0, expected: 0.6065306597126334),
            (df: 2, x: 3.0, expected: 0.22313016014842982),
            (df: 2, x: 3.84, expected: 0.14660696213035013),
            (df: 2, x: 10.0, expected: 0.006737946999085468),
            (df: 2, x: 50.0, expected: 1.3887943864964e-11),
            (df: 3, x: 0.01, expected: 0.9997348349413444),
            (df: 3, x: 0.5, expected: 0.9188914116546758),
            (df: 3, x: 1.0, expected: 0.8012519569012009),
            (df: 3, x: 3.0, expected: 0.3916251762710877),
            (df: 3, x: 3.84, expected: 0.27926761711860965),
            (df: 3, x: 10.0, expected: 0.01856613546304325),
            (df: 3, x: 50.0, expected: 7.989179244951495e-11),
            (df: 7, x: 0.01, expected: 0.999999999243059),
            (df: 7, x: 0.5, expected: 0.9994464813904249),
            (df: 7, x: 1.0, expected: 0.9948285365165155),
            (df: 7, x: 3.0, expected: 0.8850022316431506),
            (df: 7, x: 3.84, expected: 0.79801091503604),
            (df: 7, x: 10.0, expected: 0.18857346751344997),
            (df: 7, x: 50.0, expected: 1.4444852779215397e-08),
        ]
    )
    func chiSquareUpperTail(_ sample: (df: Int, x: Double, expected: Double)) {
        expectClose(
            ExperimentStatistics.chiSquareUpperTail(sample.x, degreesOfFreedom: sample.df),
            sample.expected,
            relative: 1e-9
        )
    }

    @Test("chi-square upper tail at the edges of its domain")
    func chiSquareEdges() {
        #expect(ExperimentStatistics.chiSquareUpperTail(0, degreesOfFreedom: 3) == 1)
        #expect(ExperimentStatistics.chiSquareUpperTail(-2, degreesOfFreedom: 3) == 1)
        #expect(ExperimentStatistics.chiSquareUpperTail(.infinity, degreesOfFreedom: 3) == 0)
        #expect(ExperimentStatistics.chiSquareUpperTail(1, degreesOfFreedom: 0).isNaN)
        #expect(ExperimentStatistics.chiSquareUpperTail(.nan, degreesOfFreedom: 1).isNaN)
    }
}

@Suite("Experiment statistics: sample ratio mismatch")
struct SampleRatioTests {
    @Test("5000 against 5400 at 50/50 is a mismatch")
    func mismatch() throws {
        let check = try #require(
            ExperimentStatistics.sampleRatio([
                variant("a", weight: 0.5, 5000), variant("b", weight: 0.5, 5400),
            ]))
        expectClose(check.chiSquare, 15.384615384615385)
        #expect(check.degreesOfFreedom == 1)
        expectClose(check.pValue, 8.769942375590228e-05)
        #expect(check.mismatch)
    }

    @Test("5000 against 5100 at 50/50 is not a mismatch")
    func noMismatch() throws {
        let check = try #require(
            ExperimentStatistics.sampleRatio([
                variant("a", weight: 0.5, 5000), variant("b", weight: 0.5, 5100),
            ]))
        expectClose(check.chiSquare, 0.9900990099009901)
        expectClose(check.pValue, 0.3197181768128675)
        #expect(!check.mismatch)
    }

    @Test("the threshold decides what counts as a mismatch")
    func customThreshold() throws {
        let check = try #require(
            ExperimentStatistics.sampleRatio(
                [variant("a", weight: 0.5, 5000), variant("b", weight: 0.5, 5100)],
                threshold: 0.5
            ))
        #expect(check.mismatch)
    }

    @Test("unequal weights: 20/80")
    func unequalWeights() throws {
        let close = try #require(
            ExperimentStatistics.sampleRatio([
                variant("a", weight: 0.2, 2100), variant("b", weight: 0.8, 7900),
            ]))
        expectClose(close.chiSquare, 6.25)
        expectClose(close.pValue, 0.01241933065155227)
        #expect(!close.mismatch)

        let far = try #require(
            ExperimentStatistics.sampleRatio([
                variant("a", weight: 0.2, 2400), variant("b", weight: 0.8, 7600),
            ]))
        expectClose(far.chiSquare, 100)
        expectClose(far.pValue, 1.5239706048320995e-23)
        #expect(far.mismatch)
    }

    @Test("weights are normalised: 1/4 is the same split as 0.2/0.8")
    func unnormalisedWeights() throws {
        let check = try #require(
            ExperimentStatistics.sampleRatio([
                variant("a", weight: 1, 1000), variant("b", weight: 4, 1000),
            ]))
        expectClose(check.chiSquare, 1125)
        expectClose(check.pValue, 1.2171176048522711e-246)
        #expect(check.mismatch)
    }

    @Test("three variants have two degrees of freedom")
    func threeVariants() throws {
        let check = try #require(
            ExperimentStatistics.sampleRatio([
                variant("a", 3300), variant("b", 3350), variant("c", 3350),
            ]))
        expectClose(check.chiSquare, 0.5)
        #expect(check.degreesOfFreedom == 2)
        expectClose(check.pValue, 0.7788007830714049)
        #expect(!check.mismatch)
    }

    @Test("an exact split has chi-square 0 and p = 1")
    func exactSplit() throws {
        let check = try #require(
            ExperimentStatistics.sampleRatio([
                variant("a", weight: 1, 1000), variant("b", weight: 1, 1000), variant("c", weight: 2, 2000),
            ]))
        #expect(check.chiSquare == 0)
        #expect(check.pValue == 1)
        #expect(!check.mismatch)
    }

    @Test("exposures on a variant with weight 0 are always a mismatch")
    func exposuresOnZeroWeight() throws {
        let check = try #require(
            ExperimentStatistics.sampleRatio([
                variant("a", weight: 0.5, 5000), variant("b", weight: 0.5, 5000), variant("off", weight: 0, 3),
            ]))
        #expect(check.chiSquare == .infinity)
        #expect(check.degreesOfFreedom == 1)
        #expect(check.pValue == 0)
        #expect(check.mismatch)
    }

    @Test("a variant with weight 0 and no exposures is left out of the test")
    func unexposedZeroWeight() throws {
        let check = try #require(
            ExperimentStatistics.sampleRatio([
                variant("a", weight: 0.5, 5000), variant("b", weight: 0.5, 5400), variant("off", weight: 0, 0),
            ]))
        #expect(check.degreesOfFreedom == 1)
        expectClose(check.pValue, 8.769942375590228e-05)
    }

    @Test("undefined cases give nil")
    func undefined() {
        // Fewer than two variants.
        #expect(ExperimentStatistics.sampleRatio([]) == nil)
        #expect(ExperimentStatistics.sampleRatio([variant("a", 1000)]) == nil)
        // No exposures yet.
        #expect(ExperimentStatistics.sampleRatio([variant("a", 0), variant("b", 0)]) == nil)
        // Weights that do not describe a split.
        #expect(ExperimentStatistics.sampleRatio([variant("a", weight: 0, 10), variant("b", weight: 0, 10)]) == nil)
        #expect(ExperimentStatistics.sampleRatio([variant("a", weight: -1, 10), variant("b", weight: 2, 10)]) == nil)
        #expect(ExperimentStatistics.sampleRatio([variant("a", weight: .nan, 10), variant("b", weight: 1, 10)]) == nil)
        // Only one variant is allocated traffic, so there is no ratio to check.
        #expect(ExperimentStatistics.sampleRatio([variant("a", weight: 1, 10), variant("b", weight: 0, 0)]) == nil)
    }
}
