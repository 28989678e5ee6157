import Foundation
import Testing

@testable import Flows

// The report in words: no interval on too few users, a verdict, "pp" explained, and a report
// whose flows have errors says so.

@Suite("Experiment report wording")
struct ExperimentReportTests {
    private func v(_ name: String, _ exposures: Int, _ conversions: Int) -> VariantCounts {
        VariantCounts(name: name, weight: 1, exposures: exposures, conversions: conversions)
    }

    @Test("three users: too few to compare yet, no interval and no p-value")
    func tooFewUsers() {
        let text = ExperimentReport.render(key: "k", flow: .flow("F"), variants: [v("a", 2, 1), v("b", 1, 1)])
        let row = text.split(separator: "\n").first { $0.hasPrefix("  b ") }.map(String.init) ?? ""
        #expect(row.contains("too few users to compare yet"), "\(text)")
        #expect(!row.contains("["), "no interval: \(row)")
        #expect(text.contains("at least 30 users and 5 conversions"), "\(text)")
    }

    @Test("enough users but fewer than 5 conversions is still too few")
    func tooFewConversions() {
        let text = ExperimentReport.render(key: "k", flow: .flow("F"), variants: [v("a", 500, 4), v("b", 500, 20)])
        #expect(text.contains("too few users to compare yet"), "\(text)")
    }

    @Test("with enough data: the interval, a verdict, and what pp and not significant yet mean")
    func verdicts() {
        let significant = ExperimentReport.render(key: "k", flow: .flow("F"), variants: [v("a", 1000, 100), v("b", 1000, 130)])
        #expect(significant.contains("[+0.20 pp, +5.81 pp]"), "\(significant)")
        #expect(significant.contains("significant"))
        #expect(significant.contains("pp: percentage points"))
        let notYet = ExperimentReport.render(key: "k", flow: .flow("F"), variants: [v("a", 1000, 100), v("b", 1000, 110)])
        #expect(notYet.contains("not significant yet"), "\(notYet)")
        #expect(notYet.contains("not significant yet: the difference could still be chance"))
    }

    @Test("the interval agrees with the test: it contains 0 exactly when p ≥ 0.05", arguments: [(100, 130), (100, 120), (100, 125), (50, 70), (5, 14)])
    func intervalAgreesWithTest(control: Int, variant: Int) throws {
        let b = try #require(ExperimentStatistics.compare([v("a", 1000, control), v("b", 1000, variant)]).last)
        let interval = try #require(b.interval95), p = try #require(b.pValue)
        #expect(interval.contains(0) == (p >= 0.05), "p \(p), interval \(interval)")
    }

    @Test("at the edge where the two disagree (10 against 21 of 1000), the verdict is the careful one")
    func edgeVerdict() throws {
        let b = try #require(ExperimentStatistics.compare([v("a", 1000, 10), v("b", 1000, 21)]).last)
        #expect(try #require(b.pValue) < 0.05)
        #expect(try #require(b.interval95).contains(0))
        let text = ExperimentReport.render(key: "k", flow: .flow("F"), variants: [v("a", 1000, 10), v("b", 1000, 21)])
        #expect(text.contains("not significant yet"), "\(text)")
    }

    @Test("a report whose flows have errors says so, not 'no longer in the flows'")
    func flowsWithErrors() {
        let text = ExperimentReport.render(key: "k", flow: .flowsHaveErrors, variants: [v("a", 1, 0), v("b", 1, 0)])
        #expect(text.contains("the flows have errors"), "\(text)")
        #expect(!text.contains("no longer in the flows"))
    }
}
