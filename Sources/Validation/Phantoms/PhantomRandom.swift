import Foundation

/// The phantom generator's own pseudo-random numbers: xoshiro256** (Blackman & Vigna,
/// "Scrambled linear pseudorandom number generators", 2018) seeded through SplitMix64, so
/// a seed gives the same scans on every platform and Swift version (the system generator
/// promises neither).
public struct PhantomRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator whose whole state derives from `seed` (any value, including 0).
    public init(seed: UInt64) {
        var sm = seed
        s0 = PhantomRandom.splitMix64(&sm)
        s1 = PhantomRandom.splitMix64(&sm)
        s2 = PhantomRandom.splitMix64(&sm)
        s3 = PhantomRandom.splitMix64(&sm)
    }

    /// An independent stream for a sub-task (a case, a slice), derived from `seed` and `stream`.
    public init(seed: UInt64, stream: UInt64) {
        var sm = seed ^ (stream &* 0xD1B5_4A32_D192_ED03)
        self.init(seed: PhantomRandom.splitMix64(&sm))
    }

    /// SplitMix64 step (Steele, Lea & Flood 2014).
    @inlinable
    public static func splitMix64(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = Self.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = Self.rotl(s3, 45)
        return result
    }

    /// Uniform in [0, 1).
    @inline(__always)
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [lo, hi).
    @inline(__always)
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * unit() }

    /// Uniform integer in `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// Standard normal (Box-Muller; one value per call, the pair's twin is discarded for
    /// simplicity - speed does not matter where this is used).
    public mutating func normal() -> Double {
        let u1 = Swift.max(unit(), 1e-300), u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// A uniformly distributed unit vector.
    public mutating func unitVector() -> SIMD3<Double> {
        while true {
            let v = SIMD3(uniform(-1, 1), uniform(-1, 1), uniform(-1, 1))
            let n2 = (v * v).sum()
            if n2 > 1e-6 && n2 <= 1 { return v / n2.squareRoot() }
        }
    }

    /// An element chosen with probability proportional to its weight.
    public mutating func weighted<T>(_ choices: [(T, Double)]) -> T {
        let total = choices.reduce(0) { $0 + $1.1 }
        var x = unit() * total
        for (v, w) in choices {
            if x < w { return v }
            x -= w
        }
        return choices[choices.count - 1].0
    }
}
