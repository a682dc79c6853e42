import Testing
import Foundation
@testable import Kernels

@Suite struct SymmetricEigen3Tests {
    /// Builds R diag(l) R^T for a rotation from three angles.
    func matrix(eigenvalues l: (Double, Double, Double), angles: (Double, Double, Double)) -> [[Double]] {
        let (a, b, c) = angles
        let rz = [[cos(a), -sin(a), 0], [sin(a), cos(a), 0], [0, 0, 1.0]]
        let ry = [[cos(b), 0, sin(b)], [0, 1.0, 0], [-sin(b), 0, cos(b)]]
        let rx = [[1.0, 0, 0], [0, cos(c), -sin(c)], [0, sin(c), cos(c)]]
        func mul(_ p: [[Double]], _ q: [[Double]]) -> [[Double]] {
            (0..<3).map { i in (0..<3).map { j in (0..<3).reduce(0) { $0 + p[i][$1] * q[$1][j] } } }
        }
        let r = mul(mul(rz, ry), rx)
        let d = [[l.0, 0, 0], [0, l.1, 0], [0, 0, l.2]]
        let rt = (0..<3).map { i in (0..<3).map { j in r[j][i] } }
        return mul(mul(r, d), rt)
    }

    @Test(arguments: [
        (1.0, 2.0, 3.0), (-5.0, -5.0, 2.0), (4.0, 4.0, 4.0), (-1e-3, 0.0, 1e3),
        (7.0, 7.0 + 1e-7, 7.0 + 2e-7), (-300.0, -299.0, 0.5), (0.0, 0.0, 0.0), (-2.0, 1.0, 1.0),
    ])
    func recoversKnownEigenvalues(_ l: (Double, Double, Double)) {
        for angles in [(0.0, 0.0, 0.0), (0.3, -1.1, 2.0), (1.234, 0.5, -0.7)] {
            let m = matrix(eigenvalues: l, angles: angles)
            let expected = [l.0, l.1, l.2].sorted()
            let scale = max(1e-12, expected.map(abs).max()!)
            let s = SymmetricEigen3.eigenvalues(a11: m[0][0], a22: m[1][1], a33: m[2][2],
                                                a12: m[0][1], a13: m[0][2], a23: m[1][2])
            let v = SymmetricEigen3.eigenvalues(a11: SIMD4(repeating: m[0][0]), a22: SIMD4(repeating: m[1][1]),
                                                a33: SIMD4(repeating: m[2][2]), a12: SIMD4(repeating: m[0][1]),
                                                a13: SIMD4(repeating: m[0][2]), a23: SIMD4(repeating: m[1][2]))
            // Exactly repeated eigenvalues put r at +-1 where acos is ill-conditioned: the error
            // is ~ sqrt(double epsilon) relative (1e-8), still below Float resolution (6e-8).
            for (got, want) in zip([s.0, s.1, s.2], expected) {
                #expect(abs(got - want) <= 3e-8 * scale + 1e-12, "scalar \(got) vs \(want)")
            }
            // The vector path uses polynomial acos/cos (angle error ~1e-7): near-degenerate
            // clusters stay accurate because the eigenvalue error is 2p * (angle error).
            for (got, want) in zip([v.0[2], v.1[2], v.2[2]], expected) {
                #expect(abs(got - want) <= 2e-6 * scale + 1e-12, "vector \(got) vs \(want)")
            }
        }
    }

    @Test func diagonalAndTraceInvariants() {
        let (a, b, c) = SymmetricEigen3.eigenvalues(a11: SIMD4(3, -1, 0, 10), a22: SIMD4(1, -1, 2, 10),
                                                    a33: SIMD4(2, 5, 0, -10), a12: SIMD4(0, 0, 1, 0),
                                                    a13: SIMD4(0, 0, 0, 0), a23: SIMD4(0, 0, 0, 0))
        // Diagonal: eigenvalues are the sorted diagonal.
        #expect(abs(a[0] - 1) < 1e-6 && abs(b[0] - 2) < 1e-6 && abs(c[0] - 3) < 1e-6)
        #expect(abs(a[1] + 1) < 1e-6 && abs(b[1] + 1) < 1e-6 && abs(c[1] - 5) < 1e-6)
        // [[0,1],[1,2]] block has eigenvalues 1 -+ sqrt 2, plus 0.
        #expect(abs(a[2] - (1 - 2.0.squareRoot())) < 1e-6 && abs(b[2]) < 1e-6 && abs(c[2] - (1 + 2.0.squareRoot())) < 1e-6)
        #expect(abs(a[3] + 10) < 1e-6 && abs(b[3] - 10) < 1e-6 && abs(c[3] - 10) < 1e-6)
    }
}
