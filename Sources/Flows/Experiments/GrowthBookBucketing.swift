/// GrowthBook's published deterministic bucketing (FNV-1a 32-bit, hash versions 1 and 2),
/// bucket ranges from coverage and weights, and choosing a variation from a bucket.
///
/// Replyflow experiments assign a contact to a variant with the same arithmetic as GrowthBook's
/// SDKs, so an assignment made here matches the one GrowthBook would make for the same seed,
/// hash attribute value and hash version. The semantics follow GrowthBook's SDK specification
/// and its shared test vectors (`packages/sdk-js/test/cases.json` in `growthbook/growthbook`,
/// specVersion 0.5.4, sections "hash", "getBucketRange" and "chooseVariation"). This is an
/// independent implementation of that specification.
///
/// Everything here is pure: no state, no randomness, no I/O.
public enum GrowthBookBucketing {
    /// A half-open range `[start, end)` of the unit interval that one variant owns.
    ///
    /// This is a struct rather than `ClosedRange<Double>` for two reasons: membership is
    /// end-exclusive (a `ClosedRange` would suggest the opposite), and ranges can come from
    /// experiment definitions that GrowthBook accepts as-is, where `end < start` or NaN must
    /// not trap the way `ClosedRange`'s initializer does.
    public struct BucketRange: Sendable, Hashable {
        /// The first bucket value inside the range.
        public var start: Double
        /// The first bucket value past the range (exclusive).
        public var end: Double

        public init(start: Double, end: Double) {
            self.start = start
            self.end = end
        }

        /// Whether `bucket` lies in `[start, end)`. An empty range (`start == end`) holds nothing,
        /// which is how zero coverage and zero-weight variants exclude everyone.
        public func contains(_ bucket: Double) -> Bool {
            bucket >= start && bucket < end
        }
    }

    /// The FNV-1a 32-bit offset basis.
    private static let offsetBasis: UInt32 = 0x811C_9DC5
    /// The FNV 32-bit prime, 2^24 + 2^8 + 0x93. GrowthBook's JavaScript SDK multiplies by it as
    /// a sum of shifts (`h<<1 + h<<4 + h<<7 + h<<8 + h<<24`, plus `h`), which is the same
    /// product modulo 2^32.
    private static let prime: UInt32 = 0x0100_0193

    /// FNV-1a 32-bit over the string's UTF-16 code units (as the JavaScript SDK's `charCodeAt` does).
    ///
    /// UTF-16 rather than UTF-8 or Unicode scalars, because the reference SDK hashes JavaScript
    /// string code units: characters outside the BMP contribute both surrogates, and non-ASCII
    /// BMP characters contribute one 16-bit unit, not their UTF-8 bytes. Hashing anything else
    /// would put non-ASCII ids in different buckets than GrowthBook does.
    public static func fnv1a32(_ text: String) -> UInt32 {
        var hash = offsetBasis
        for unit in text.utf16 {
            hash ^= UInt32(unit)
            // Wrapping multiply: the reference arithmetic is modulo 2^32.
            hash = hash &* prime
        }
        return hash
    }

    /// A number in [0, 1) for (seed, value), or nil for an unknown version.
    ///
    /// - v1: `(fnv1a32(value + seed) % 1000) / 1000`. GrowthBook's original algorithm, kept
    ///   because existing experiments were bucketed with it; it has 1000 buckets and is biased
    ///   (similar ids land close together).
    /// - v2: `(fnv1a32(String(fnv1a32(seed + value))) % 10000) / 10000`. Hashing the decimal
    ///   text of the first hash spreads similar inputs apart; note the seed comes first here
    ///   but last in v1, as in the reference.
    ///
    /// Any other version returns nil rather than falling back, because the reference treats an
    /// unknown version as "cannot bucket" (the user is not assigned).
    public static func hash(seed: String, value: String, version: Int) -> Double? {
        switch version {
        case 1:
            // Dividing the integer remainder (not multiplying by 0.001) yields the same double
            // as the JavaScript SDK, so results compare exactly with the published vectors.
            return Double(fnv1a32(value + seed) % 1000) / 1000
        case 2:
            let first = fnv1a32(seed + value)
            return Double(fnv1a32(String(first)) % 10000) / 10000
        default:
            return nil
        }
    }

    /// `count` equal weights of `1 / count`, or none for a non-positive count.
    public static func equalWeights(count: Int) -> [Double] {
        guard count > 0 else { return [] }
        return Array(repeating: 1.0 / Double(count), count: count)
    }

    /// Bucket ranges for `count` variants with `coverage` in [0,1] and optional weights
    /// (GrowthBook's getBucketRanges).
    ///
    /// Variant `i` starts at the sum of the weights before it and spans `coverage * weight`,
    /// so reducing coverage shrinks every range from its end while each start stays put:
    /// raising coverage later only adds people, it never moves anyone between variants.
    ///
    /// Rules, as in the reference:
    /// - `coverage` below 0 is clamped to 0 and above 1 to 1. NaN is treated as 0: the
    ///   reference would produce NaN ends, which hold no bucket, so 0 excludes the same users
    ///   while keeping the ranges well-formed.
    /// - Missing weights, weights whose count differs from `count`, or weights whose sum is not
    ///   within 0.99...1.01 fall back to equal weights. A NaN sum also falls back (the
    ///   reference's `sum < 0.99 || sum > 1.01` test would let it through).
    /// - No rounding: ends such as `0.4 + 0.5999` keep their floating-point value, as in the SDK.
    ///
    /// A non-positive `count` yields no ranges.
    public static func bucketRanges(count: Int, coverage: Double, weights: [Double]?) -> [BucketRange] {
        let clampedCoverage: Double
        if coverage.isNaN || coverage < 0 {
            clampedCoverage = 0
        } else if coverage > 1 {
            clampedCoverage = 1
        } else {
            clampedCoverage = coverage
        }

        let equal = equalWeights(count: count)
        var chosen = weights ?? equal
        if chosen.count != count {
            chosen = equal
        }
        // Summed left to right like the reference's reduce, so the tolerance check sees the
        // same total.
        let total = chosen.reduce(0, +)
        if !(total >= 0.99 && total <= 1.01) {
            chosen = equal
        }

        var ranges: [BucketRange] = []
        ranges.reserveCapacity(chosen.count)
        var cumulative = 0.0
        for weight in chosen {
            let start = cumulative
            cumulative += weight
            ranges.append(BucketRange(start: start, end: start + clampedCoverage * weight))
        }
        return ranges
    }

    /// The index of the range holding `bucket` (start inclusive, end exclusive), or -1.
    ///
    /// The first matching range wins, so with adjacent ranges a bucket on a boundary belongs
    /// to the later one (its start), and an empty range in between is skipped. -1 (rather than
    /// nil) mirrors the reference's "not in the experiment" result.
    public static func chooseVariation(bucket: Double, ranges: [BucketRange]) -> Int {
        for (index, range) in ranges.enumerated() where range.contains(bucket) {
            return index
        }
        return -1
    }
}
