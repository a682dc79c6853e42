import Foundation
import Volumes

/// A small analytic chest for tests: air around an elliptic body (+40 HU soft tissue) that
/// holds two ellipsoidal lungs (-850 HU), plus objects painted with partial volume (each
/// voxel 4x4x4 supersampled), and optional seeded Gaussian noise.
struct SyntheticChest {
    enum Shape {
        case ball(center: SIMD3<Double>, radiusMM: Double)
        /// Cylinder between two points.
        case tube(from: SIMD3<Double>, to: SIMD3<Double>, radiusMM: Double)
    }

    var columns = 96, rows = 80, slices = 48
    var spacing = VoxelSpacing(columnMM: 1.0, rowMM: 1.0, sliceMM: 1.25)
    var objects: [(Shape, Double)] = []
    var noiseHU = 0.0
    var seed: UInt64 = 1

    /// Lung ellipsoid centres and semi-axes (mm), right lung at low x (LPS +x = left).
    var rightLungCenter: SIMD3<Double> { SIMD3(26, 40, 30) }
    var leftLungCenter: SIMD3<Double> { SIMD3(70, 40, 30) }
    var lungSemiAxes: SIMD3<Double> { SIMD3(18, 26, 24) }

    func isInBody(_ p: SIMD3<Double>) -> Bool {
        let d = (p.x - 48) / 46, e = (p.y - 40) / 36
        return d * d + e * e <= 1
    }

    func isInLung(_ p: SIMD3<Double>) -> Bool {
        for c in [rightLungCenter, leftLungCenter] {
            let q = (p - c) / lungSemiAxes
            if (q * q).sum() <= 1 { return true }
        }
        return false
    }

    func background(_ p: SIMD3<Double>) -> Double {
        if !isInBody(p) { return -1000 }
        return isInLung(p) ? -850 : 40
    }

    static func inside(_ s: Shape, _ p: SIMD3<Double>) -> Bool {
        switch s {
        case let .ball(c, r):
            let d = p - c
            return (d * d).sum() <= r * r
        case let .tube(a, b, r):
            let ab = b - a, ap = p - a
            let t = max(0, min(1, (ap * ab).sum() / (ab * ab).sum()))
            let d = ap - t * ab
            return (d * d).sum() <= r * r
        }
    }

    func value(_ p: SIMD3<Double>) -> Double {
        var h = background(p)
        for (shape, hu) in objects where Self.inside(shape, p) { h = hu }
        return h
    }

    func makeVolume() -> Volume {
        var v = [Float](repeating: 0, count: columns * rows * slices)
        var rng = SplitMix(seed: seed)
        let sub = 4
        for z in 0..<slices {
            for y in 0..<rows {
                for x in 0..<columns {
                    let centre = SIMD3(Double(x) * spacing.columnMM, Double(y) * spacing.rowMM, Double(z) * spacing.sliceMM)
                    // Supersample only where the voxel's corners disagree (edges), cheap for tests.
                    let step = SIMD3(spacing.columnMM, spacing.rowMM, spacing.sliceMM)
                    let c0 = value(centre)
                    var uniform = true
                    for corner in 0..<8 where uniform {
                        let o = SIMD3(Double(corner & 1), Double((corner >> 1) & 1), Double((corner >> 2) & 1)) - 0.5
                        if value(centre + o * step) != c0 { uniform = false }
                    }
                    if uniform {
                        var h = c0
                        if noiseHU > 0 { h += noiseHU * rng.gaussian() }
                        v[(z * rows + y) * columns + x] = Float(h)
                        continue
                    }
                    var acc = 0.0
                    for sz in 0..<sub {
                        for sy in 0..<sub {
                            for sx in 0..<sub {
                                let o = (SIMD3(Double(sx), Double(sy), Double(sz)) + 0.5) / Double(sub) - 0.5
                                let p = centre + o * SIMD3(spacing.columnMM, spacing.rowMM, spacing.sliceMM)
                                acc += value(p)
                            }
                        }
                    }
                    var h = acc / Double(sub * sub * sub)
                    if noiseHU > 0 { h += noiseHU * rng.gaussian() }
                    v[(z * rows + y) * columns + x] = Float(h)
                }
            }
        }
        return Volume(columns: columns, rows: rows, slices: slices, voxels: v, spacing: spacing)
    }
}

/// Deterministic generator (SplitMix64) so test volumes are the same on every run.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func gaussian() -> Double {
        let u = max(uniform(), 1e-12), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}

extension SyntheticChest {
    /// A 10 mm thick trunk from the mediastinum (x 44-52 mm) into the right lung, a 2 mm
    /// vessel from the mediastinum into the left lung ending in a 10 mm ball, and an isolated
    /// 10 mm ball in the right lung.
    static func withHilum() -> SyntheticChest {
        var chest = SyntheticChest()
        chest.objects = [
            (.tube(from: SIMD3(48, 40, 30), to: SIMD3(24, 40, 30), radiusMM: 5), 40),
            (.tube(from: SIMD3(48, 40, 16), to: SIMD3(68, 40, 16), radiusMM: 1), 40),
            (.ball(center: SIMD3(68, 40, 16), radiusMM: 5), 40),
            (.ball(center: SIMD3(24, 40, 44), radiusMM: 5), 40),
        ]
        return chest
    }
}
