import Testing

@testable import Flows

// Test vectors from GrowthBook's shared SDK test suite:
// growthbook/growthbook, packages/sdk-js/test/cases.json, specVersion "0.5.4",
// sections "hash", "getBucketRange" and "chooseVariation" (all entries, in file order).
// Every GrowthBook SDK runs these same cases, so passing them means our buckets agree
// with GrowthBook's.

/// One "hash" case: `[seed, value, version, expected]`, where expected is null for an unknown version.
struct GrowthBookHashVector: Sendable, CustomTestStringConvertible {
    let seed: String
    let value: String
    let version: Int
    let expected: Double?

    var testDescription: String { "hash(\"\(seed)\", \"\(value)\", v\(version))" }
}

/// One "getBucketRange" case: `[name, [numVariations, coverage, weights], expectedRanges]`.
struct GrowthBookBucketRangeVector: Sendable, CustomTestStringConvertible {
    let name: String
    let count: Int
    let coverage: Double
    let weights: [Double]?
    let expected: [(Double, Double)]

    var testDescription: String { name }
}

/// One "chooseVariation" case: `[name, bucket, ranges, expectedIndex]`.
struct GrowthBookChooseVariationVector: Sendable, CustomTestStringConvertible {
    let name: String
    let bucket: Double
    let ranges: [(Double, Double)]
    let expected: Int

    var testDescription: String { name }
}

enum GrowthBookVectors {
    static let hash: [GrowthBookHashVector] = [
        .init(seed: "", value: "a", version: 1, expected: 0.22),
        .init(seed: "", value: "b", version: 1, expected: 0.077),
        .init(seed: "b", value: "a", version: 1, expected: 0.946),
        .init(seed: "ef", value: "d", version: 1, expected: 0.652),
        .init(seed: "asdf", value: "8952klfjas09ujk", version: 1, expected: 0.549),
        .init(seed: "", value: "123", version: 1, expected: 0.011),
        .init(seed: "", value: "___)((*\":&", version: 1, expected: 0.563),
        .init(seed: "seed", value: "a", version: 2, expected: 0.0505),
        .init(seed: "seed", value: "b", version: 2, expected: 0.2696),
        .init(seed: "foo", value: "ab", version: 2, expected: 0.2575),
        .init(seed: "foo", value: "def", version: 2, expected: 0.2019),
        .init(seed: "89123klj", value: "8952klfjas09ujkasdf", version: 2, expected: 0.124),
        .init(seed: "90850943850283058242805", value: "123", version: 2, expected: 0.7516),
        .init(seed: "()**(%$##$%#$#", value: "___)((*\":&", version: 2, expected: 0.0128),
        .init(seed: "abc", value: "def", version: 99, expected: nil),
    ]

    static let bucketRanges: [GrowthBookBucketRangeVector] = [
        .init(
            name: "normal 50/50", count: 2, coverage: 1, weights: nil,
            expected: [(0, 0.5), (0.5, 1)]),
        .init(
            name: "reduced coverage", count: 2, coverage: 0.5, weights: nil,
            expected: [(0, 0.25), (0.5, 0.75)]),
        .init(
            name: "zero coverage", count: 2, coverage: 0, weights: nil,
            expected: [(0, 0), (0.5, 0.5)]),
        .init(
            name: "4 variations", count: 4, coverage: 1, weights: nil,
            expected: [(0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1)]),
        .init(
            name: "uneven weights", count: 2, coverage: 1, weights: [0.4, 0.6],
            expected: [(0, 0.4), (0.4, 1)]),
        .init(
            name: "uneven weights, 3 variations", count: 3, coverage: 1, weights: [0.2, 0.3, 0.5],
            expected: [(0, 0.2), (0.2, 0.5), (0.5, 1)]),
        .init(
            name: "uneven weights, reduced coverage, 3 variations", count: 3, coverage: 0.2,
            weights: [0.2, 0.3, 0.5],
            expected: [(0, 0.04), (0.2, 0.26), (0.5, 0.6)]),
        .init(
            name: "negative coverage", count: 2, coverage: -0.2, weights: nil,
            expected: [(0, 0), (0.5, 0.5)]),
        .init(
            name: "coverage above 1", count: 2, coverage: 1.5, weights: nil,
            expected: [(0, 0.5), (0.5, 1)]),
        .init(
            name: "weights sum below 1", count: 2, coverage: 1, weights: [0.4, 0.1],
            expected: [(0, 0.5), (0.5, 1)]),
        .init(
            name: "weights sum above 1", count: 2, coverage: 1, weights: [0.7, 0.6],
            expected: [(0, 0.5), (0.5, 1)]),
        .init(
            name: "weights.length not equal to num variations", count: 4, coverage: 1,
            weights: [0.4, 0.4, 0.2],
            expected: [(0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1)]),
        .init(
            name: "weights sum almost equals 1", count: 2, coverage: 1, weights: [0.4, 0.5999],
            expected: [(0, 0.4), (0.4, 0.9999)]),
    ]

    static let chooseVariation: [GrowthBookChooseVariationVector] = [
        .init(name: "even range, 0.2", bucket: 0.2, ranges: [(0, 0.5), (0.5, 1)], expected: 0),
        .init(name: "even range, 0.4", bucket: 0.4, ranges: [(0, 0.5), (0.5, 1)], expected: 0),
        .init(name: "even range, 0.6", bucket: 0.6, ranges: [(0, 0.5), (0.5, 1)], expected: 1),
        .init(name: "even range, 0.8", bucket: 0.8, ranges: [(0, 0.5), (0.5, 1)], expected: 1),
        .init(name: "even range, 0", bucket: 0, ranges: [(0, 0.5), (0.5, 1)], expected: 0),
        .init(name: "even range, 0.5", bucket: 0.5, ranges: [(0, 0.5), (0.5, 1)], expected: 1),
        .init(name: "reduced range, 0.2", bucket: 0.2, ranges: [(0, 0.25), (0.5, 0.75)], expected: 0),
        .init(name: "reduced range, 0.4", bucket: 0.4, ranges: [(0, 0.25), (0.5, 0.75)], expected: -1),
        .init(name: "reduced range, 0.6", bucket: 0.6, ranges: [(0, 0.25), (0.5, 0.75)], expected: 1),
        .init(name: "reduced range, 0.8", bucket: 0.8, ranges: [(0, 0.25), (0.5, 0.75)], expected: -1),
        .init(name: "reduced range, 0.25", bucket: 0.25, ranges: [(0, 0.25), (0.5, 0.75)], expected: -1),
        .init(name: "reduced range, 0.5", bucket: 0.5, ranges: [(0, 0.25), (0.5, 0.75)], expected: 1),
        .init(name: "zero range", bucket: 0.5, ranges: [(0, 0.5), (0.5, 0.5), (0.5, 1)], expected: 2),
    ]
}

@Suite("GrowthBook bucketing")
struct GrowthBookBucketingTests {
    /// Range ends are computed in floating point (e.g. 0.2 + 0.3 * 0.2), so compare with a tolerance
    /// far below any meaningful bucket width (v2 buckets are 1e-4 wide). GrowthBook's own suite
    /// compares after flooring to 1e-8.
    static let tolerance = 1e-9

    @Test("all published vectors are present")
    func vectorCounts() {
        #expect(GrowthBookVectors.hash.count == 15)
        #expect(GrowthBookVectors.bucketRanges.count == 13)
        #expect(GrowthBookVectors.chooseVariation.count == 13)
    }

    @Test("hash matches GrowthBook", arguments: GrowthBookVectors.hash)
    func hashMatches(_ vector: GrowthBookHashVector) throws {
        let actual = GrowthBookBucketing.hash(seed: vector.seed, value: vector.value, version: vector.version)
        guard let expected = vector.expected else {
            #expect(actual == nil)
            return
        }
        let value = try #require(actual)
        // The hash divides an integer remainder exactly as the JavaScript SDK does,
        // so the tolerance is only a formality here.
        #expect(abs(value - expected) < Self.tolerance, "got \(value), expected \(expected)")
    }

    @Test("bucket ranges match GrowthBook", arguments: GrowthBookVectors.bucketRanges)
    func bucketRangesMatch(_ vector: GrowthBookBucketRangeVector) {
        let actual = GrowthBookBucketing.bucketRanges(
            count: vector.count, coverage: vector.coverage, weights: vector.weights)
        #expect(actual.count == vector.expected.count)
        for (range, expected) in zip(actual, vector.expected) {
            #expect(
                abs(range.start - expected.0) < Self.tolerance,
                "start \(range.start), expected \(expected.0)")
            #expect(
                abs(range.end - expected.1) < Self.tolerance,
                "end \(range.end), expected \(expected.1)")
        }
    }

    @Test("chooseVariation matches GrowthBook", arguments: GrowthBookVectors.chooseVariation)
    func chooseVariationMatches(_ vector: GrowthBookChooseVariationVector) {
        let ranges = vector.ranges.map { GrowthBookBucketing.BucketRange(start: $0.0, end: $0.1) }
        #expect(GrowthBookBucketing.chooseVariation(bucket: vector.bucket, ranges: ranges) == vector.expected)
    }

    // The published vectors are all ASCII; these pin the UTF-16 code-unit behaviour that
    // matters for non-ASCII ids (values computed with the JavaScript SDK's arithmetic).

    @Test("FNV-1a basics and UTF-16 code units")
    func fnvCodeUnits() {
        #expect(GrowthBookBucketing.fnv1a32("") == 2_166_136_261)  // offset basis
        #expect(GrowthBookBucketing.fnv1a32("a") == 3_826_002_220)  // 0xE40C292C, the standard FNV-1a value
        #expect(GrowthBookBucketing.fnv1a32("\u{E9}") == 1_812_687_940)  // one code unit 0x00E9, not UTF-8 bytes
        #expect(GrowthBookBucketing.fnv1a32("\u{1F600}") == 3_409_036_472)  // both surrogates are hashed
    }

    @Test("unknown hash versions yield nil", arguments: [0, -1, 3, 99])
    func unknownVersions(_ version: Int) {
        #expect(GrowthBookBucketing.hash(seed: "seed", value: "value", version: version) == nil)
    }

    @Test("non-positive counts produce no ranges and choose nothing")
    func emptyRanges() {
        #expect(GrowthBookBucketing.bucketRanges(count: 0, coverage: 1, weights: nil).isEmpty)
        #expect(GrowthBookBucketing.bucketRanges(count: -1, coverage: 1, weights: [1]).isEmpty)
        #expect(GrowthBookBucketing.chooseVariation(bucket: 0.5, ranges: []) == -1)
    }

    @Test("NaN coverage and NaN weights do not leak into ranges")
    func nanInputs() {
        typealias BucketRange = GrowthBookBucketing.BucketRange
        let nanCoverage = GrowthBookBucketing.bucketRanges(count: 2, coverage: .nan, weights: nil)
        let emptyRanges: [BucketRange] = [BucketRange(start: 0, end: 0), BucketRange(start: 0.5, end: 0.5)]
        #expect(nanCoverage == emptyRanges)
        // A NaN in the weights makes the sum NaN, which falls back to equal weights.
        let nanWeights = GrowthBookBucketing.bucketRanges(count: 2, coverage: 1, weights: [.nan, 0.5])
        let evenSplit: [BucketRange] = [BucketRange(start: 0, end: 0.5), BucketRange(start: 0.5, end: 1)]
        #expect(nanWeights == evenSplit)
    }
}
