/// SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA
/// 2014): a tiny generator with a fixed, documented output so the bootstrap is reproducible from
/// its seed on any platform and can be replayed by the Python reference
/// (`scripts/reference/froc_reference.py`).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An index in 0..<count: the high 64 bits of next() x count (Lemire's multiply-shift).
    public mutating func nextIndex(below count: Int) -> Int {
        Int(next().multipliedFullWidth(by: UInt64(count)).high)
    }
}

/// Percentile bootstrap over scans, as LUNA16's `computeFROC_bootstrap` does it.
public enum ScanBootstrap {
    /// Scan multiplicities of each replicate: replicate b draws `scanCount` scans with
    /// replacement, index by index, from one SplitMix64 stream seeded with `seed`
    /// (replicate 0 takes the first `scanCount` draws, replicate 1 the next, ...).
    public static func replicates(scanCount: Int, count: Int, seed: UInt64) -> [[Int]] {
        var result: [[Int]] = []
        result.reserveCapacity(count)
        forEachReplicate(scanCount: scanCount, count: count, seed: seed) { result.append($0) }
        return result
    }

    /// The same draws, one replicate at a time (memory stays at one multiplicity array).
    public static func forEachReplicate(scanCount: Int, count: Int, seed: UInt64, _ body: ([Int]) -> Void) {
        var generator = SplitMix64(seed: seed)
        var multiplicity = Array(repeating: 0, count: scanCount)
        for _ in 0..<count {
            for index in multiplicity.indices { multiplicity[index] = 0 }
            for _ in 0..<scanCount {
                multiplicity[generator.nextIndex(below: scanCount)] += 1
            }
            body(multiplicity)
        }
    }

    /// LUNA16's `computeMeanCI`: the mean, and the values at sorted positions
    /// floor(Pz x n) and floor((1 - Pz) x n) with Pz = (1 - confidence) / 2. NaN values
    /// (replicates where the quantity is undefined) are left out; nil when none remain.
    public static func interval(_ values: [Double], confidence: Double = 0.95) -> ConfidenceInterval? {
        let sorted = values.filter { !$0.isNaN }.sorted()
        guard !sorted.isEmpty else { return nil }
        let tail = (1.0 - confidence) / 2.0
        let n = Double(sorted.count)
        let lowIndex = min(sorted.count - 1, Int((tail * n).rounded(.down)))
        let highIndex = min(sorted.count - 1, Int(((1.0 - tail) * n).rounded(.down)))
        let mean = sorted.reduce(0, +) / n
        return ConfidenceInterval(low: sorted[lowIndex], high: sorted[highIndex], mean: mean, replicates: sorted.count)
    }
}

/// A bootstrap percentile interval.
public struct ConfidenceInterval: Sendable, Equatable, Codable {
    public var low: Double
    public var high: Double
    /// Mean over the replicates used.
    public var mean: Double
    /// Replicates where the quantity was defined.
    public var replicates: Int
}
