import Foundation

/// Closed-form eigenvalues of real symmetric 3x3 matrices (the trigonometric method of
/// O. K. Smith, "Eigenvalues of a symmetric 3x3 matrix", Comm. ACM 4(4):168, 1961; see also
/// J. Kopp, "Efficient numerical diagonalization of hermitian 3x3 matrices",
/// Int. J. Mod. Phys. C 19:523, 2008).
///
/// With `q = trace/3`, `p = sqrt(trace((A - qI)^2) / 6)`, `B = (A - qI) / p` and
/// `r = det(B) / 2` clamped to [-1, 1], the eigenvalues are `q + 2p cos(phi + 2 pi k / 3)` with
/// `phi = acos(r) / 3`. Computed in Double; when `p` is (near) zero the matrix is a multiple
/// of the identity and all three eigenvalues are `q` (no division by zero).
/// Results are sorted ascending: `lambda1 <= lambda2 <= lambda3`.
public enum SymmetricEigen3 {
    /// Eigenvalues (ascending) of `[[a11,a12,a13],[a12,a22,a23],[a13,a23,a33]]`, scalar reference
    /// using the C library's `acos`/`cos`.
    public static func eigenvalues(a11: Double, a22: Double, a33: Double,
                                   a12: Double, a13: Double, a23: Double) -> (Double, Double, Double) {
        let q = (a11 + a22 + a33) / 3
        let b11 = a11 - q, b22 = a22 - q, b33 = a33 - q
        let p2 = (b11 * b11 + b22 * b22 + b33 * b33 + 2 * (a12 * a12 + a13 * a13 + a23 * a23)) / 6
        if !(p2 > 1e-300) { return (q, q, q) }
        let p = p2.squareRoot()
        let det = b11 * (b22 * b33 - a23 * a23) - a12 * (a12 * b33 - a23 * a13) + a13 * (a12 * a23 - b22 * a13)
        let r = Swift.min(1, Swift.max(-1, det / (2 * p2 * p)))
        let phi = acos(r) / 3
        let largest = q + 2 * p * cos(phi)
        let smallest = q + 2 * p * cos(phi + 2 * Double.pi / 3)
        let middle = 3 * q - largest - smallest
        return (smallest, middle, largest)
    }

    /// Four matrices at once (vectorised; polynomial acos/cos/sin accurate to ~1e-7 rad in the
    /// angle, far below Float output precision).
    @inline(__always)
    public static func eigenvalues(a11: SIMD4<Double>, a22: SIMD4<Double>, a33: SIMD4<Double>,
                                   a12: SIMD4<Double>, a13: SIMD4<Double>, a23: SIMD4<Double>)
        -> (SIMD4<Double>, SIMD4<Double>, SIMD4<Double>) {
        let third = SIMD4<Double>(repeating: 1.0 / 3.0)
        let q = (a11 + a22 + a33) * third
        let b11 = a11 - q, b22 = a22 - q, b33 = a33 - q
        let p2 = (b11 * b11 + b22 * b22 + b33 * b33 + 2 * (a12 * a12 + a13 * a13 + a23 * a23)) * (1.0 / 6.0)
        let degenerate = p2 .<= SIMD4<Double>(repeating: 1e-300)
        let safeP2 = p2.replacing(with: 1, where: degenerate)
        let p = safeP2.squareRoot()
        let det = b11 * (b22 * b33 - a23 * a23) - a12 * (a12 * b33 - a23 * a13) + a13 * (a12 * a23 - b22 * a13)
        var r = det / (2 * safeP2 * p)
        r = r.replacing(with: 0, where: degenerate)
        r = simd_clamp(r, -1, 1)
        let phi = vectorAcos(r) * third
        let (s, c) = sinCosSmall(phi)
        let twoP = (2 * p).replacing(with: 0, where: degenerate)
        let largest = q + twoP * c
        // cos(phi + 2pi/3) = -cos/2 - sin*sqrt(3)/2
        let smallest = q + twoP * (-0.5 * c - 0.8660254037844386 * s)
        let middle = 3 * q - largest - smallest
        return (smallest, middle, largest)
    }

    @inline(__always)
    static func simd_clamp(_ x: SIMD4<Double>, _ lo: Double, _ hi: Double) -> SIMD4<Double> {
        // Two compares and blends (the generic `clamped` was not inlined: a call per 4 voxels).
        let l = SIMD4<Double>(repeating: lo), h = SIMD4<Double>(repeating: hi)
        return x.replacing(with: l, where: x .< l).replacing(with: h, where: x .> h)
    }

    /// acos on [-1, 1] via Cephes' asinf polynomial (range-reduced for |x| > 0.5).
    @inline(__always)
    static func vectorAcos(_ x: SIMD4<Double>) -> SIMD4<Double> {
        let a = x.replacing(with: -x, where: x .< 0)
        let big = a .> SIMD4<Double>(repeating: 0.5)
        let zBig = 0.5 * (1 - a)
        let z = zBig.replacing(with: a * a, where: .!big)
        let t = z.squareRoot().replacing(with: a, where: .!big)
        var poly = SIMD4<Double>(repeating: 4.2163199048e-2)
        poly = SIMD4<Double>(repeating: 2.4181311049e-2).addingProduct(poly, z)
        poly = SIMD4<Double>(repeating: 4.5470025998e-2).addingProduct(poly, z)
        poly = SIMD4<Double>(repeating: 7.4953002686e-2).addingProduct(poly, z)
        poly = SIMD4<Double>(repeating: 1.6666752422e-1).addingProduct(poly, z)
        var y = poly * z * t + t
        y = y.replacing(with: Double.pi / 2 - 2 * y, where: big)
        let asinX = y.replacing(with: -y, where: x .< 0)
        return Double.pi / 2 - asinX
    }

    /// sin and cos for angles in [0, pi/3] (Taylor series; error < 1e-10 there).
    @inline(__always)
    static func sinCosSmall(_ x: SIMD4<Double>) -> (SIMD4<Double>, SIMD4<Double>) {
        let x2 = x * x
        var c = SIMD4<Double>(repeating: 1.0 / 479001600)
        c = SIMD4<Double>(repeating: -(1.0 / 3628800)).addingProduct(c, x2)
        c = SIMD4<Double>(repeating: (1.0 / 40320)).addingProduct(c, x2)
        c = SIMD4<Double>(repeating: -(1.0 / 720)).addingProduct(c, x2)
        c = SIMD4<Double>(repeating: (1.0 / 24)).addingProduct(c, x2)
        c = SIMD4<Double>(repeating: -(0.5)).addingProduct(c, x2)
        c = SIMD4<Double>(repeating: (1)).addingProduct(c, x2)
        var s = SIMD4<Double>(repeating: -1.0 / 39916800)
        s = SIMD4<Double>(repeating: (1.0 / 362880)).addingProduct(s, x2)
        s = SIMD4<Double>(repeating: -(1.0 / 5040)).addingProduct(s, x2)
        s = SIMD4<Double>(repeating: (1.0 / 120)).addingProduct(s, x2)
        s = SIMD4<Double>(repeating: -(1.0 / 6)).addingProduct(s, x2)
        s = SIMD4<Double>(repeating: (1)).addingProduct(s, x2)
        return (s * x, c)
    }

    /// Eigenvalues of `count` matrices given as six Float rows (each component scaled by the
    /// matching factor first), written ascending into three rows. Where `mask` is given, voxels
    /// with mask 0 get eigenvalues 0 and are not computed.
    static func eigenvalueRows(count n: Int,
                               a11: UnsafePointer<Float>, a22: UnsafePointer<Float>, a33: UnsafePointer<Float>,
                               a12: UnsafePointer<Float>, a13: UnsafePointer<Float>, a23: UnsafePointer<Float>,
                               scales: HessianScales,
                               mask: UnsafePointer<UInt8>?,
                               lambda1: UnsafeMutablePointer<Float>, lambda2: UnsafeMutablePointer<Float>,
                               lambda3: UnsafeMutablePointer<Float>) {
        @inline(__always) func load4(_ p: UnsafePointer<Float>, _ i: Int, _ scale: Double) -> SIMD4<Double> {
            SIMD4<Double>(UnsafeRawPointer(p + i).loadUnaligned(as: SIMD4<Float>.self)) * scale
        }
        var i = 0
        while i + 4 <= n {
            if let m = mask, m[i] == 0 && m[i + 1] == 0 && m[i + 2] == 0 && m[i + 3] == 0 {
                for k in 0..<4 { lambda1[i + k] = 0; lambda2[i + k] = 0; lambda3[i + k] = 0 }
                i += 4
                continue
            }
            let (l1, l2, l3) = eigenvalues(a11: load4(a11, i, scales.xx), a22: load4(a22, i, scales.yy),
                                           a33: load4(a33, i, scales.zz), a12: load4(a12, i, scales.xy),
                                           a13: load4(a13, i, scales.xz), a23: load4(a23, i, scales.yz))
            var f1 = SIMD4<Float>(l1), f2 = SIMD4<Float>(l2), f3 = SIMD4<Float>(l3)
            if let m = mask {
                let inside = SIMD4<Int32>(Int32(m[i]), Int32(m[i + 1]), Int32(m[i + 2]), Int32(m[i + 3])) .!= 0
                f1 = f1.replacing(with: 0, where: .!inside)
                f2 = f2.replacing(with: 0, where: .!inside)
                f3 = f3.replacing(with: 0, where: .!inside)
            }
            UnsafeMutableRawPointer(lambda1 + i).storeBytes(of: f1, as: SIMD4<Float>.self)
            UnsafeMutableRawPointer(lambda2 + i).storeBytes(of: f2, as: SIMD4<Float>.self)
            UnsafeMutableRawPointer(lambda3 + i).storeBytes(of: f3, as: SIMD4<Float>.self)
            i += 4
        }
        while i < n {
            if let m = mask, m[i] == 0 {
                lambda1[i] = 0; lambda2[i] = 0; lambda3[i] = 0
            } else {
                let (l1, l2, l3) = eigenvalues(a11: Double(a11[i]) * scales.xx, a22: Double(a22[i]) * scales.yy,
                                               a33: Double(a33[i]) * scales.zz, a12: Double(a12[i]) * scales.xy,
                                               a13: Double(a13[i]) * scales.xz, a23: Double(a23[i]) * scales.yz)
                lambda1[i] = Float(l1); lambda2[i] = Float(l2); lambda3[i] = Float(l3)
            }
            i += 1
        }
    }
}

/// Per-component factors turning voxel-index second derivatives into scale-normalised
/// derivatives in mm: `sigmaMM^2 / (spacing_a * spacing_b)`.
struct HessianScales {
    var xx, yy, zz, xy, xz, yz: Double

    init(sigmaMM: Double, spacing: VoxelSpacingTriple, normalized: Bool) {
        let s2 = normalized ? sigmaMM * sigmaMM : 1
        xx = s2 / (spacing.x * spacing.x); yy = s2 / (spacing.y * spacing.y); zz = s2 / (spacing.z * spacing.z)
        xy = s2 / (spacing.x * spacing.y); xz = s2 / (spacing.x * spacing.z); yz = s2 / (spacing.y * spacing.z)
    }
}

struct VoxelSpacingTriple { var x, y, z: Double }
