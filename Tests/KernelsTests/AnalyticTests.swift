import Testing
import Foundation
import Volumes
@testable import Kernels

/// Closed-form answers: Gaussian blob Hessians, LoG scale selection, tube/ball/plate signatures.
@Suite struct AnalyticHessianTests {
    /// A volume sampled from `f(x, y, z)` with positions in mm relative to the centre voxel.
    func sampled(columns: Int, rows: Int, slices: Int, spacing: VoxelSpacing,
                 _ f: (Double, Double, Double) -> Double) -> Volume {
        var v = [Float](repeating: 0, count: columns * rows * slices)
        for k in 0..<slices {
            for j in 0..<rows {
                for i in 0..<columns {
                    let x = Double(i - columns / 2) * spacing.columnMM
                    let y = Double(j - rows / 2) * spacing.rowMM
                    let z = Double(k - slices / 2) * spacing.sliceMM
                    v[(k * rows + j) * columns + i] = Float(f(x, y, z))
                }
            }
        }
        return Volume(columns: columns, rows: rows, slices: slices, voxels: v, spacing: spacing)
    }

    /// Gaussian blob exp(-|x|^2 / (2 s0^2)) smoothed at sigma is a Gaussian of variance
    /// S^2 = s0^2 + sigma^2 with amplitude (s0^2/S^2)^(3/2); its Hessian along x at offset d is
    /// A/S^2 (d^2/S^2 - 1) e^(-d^2/(2 S^2)) and across it -A/S^2 e^(-d^2/(2 S^2)).
    @Test func hessianOfAnisotropicallySampledGaussianBlob() {
        let spacing = VoxelSpacing(columnMM: 0.8, rowMM: 1.0, sliceMM: 1.6)
        let s0 = 4.0, sigma = 2.0
        let vol = sampled(columns: 61, rows: 49, slices: 31, spacing: spacing) { x, y, z in
            exp(-(x * x + y * y + z * z) / (2 * s0 * s0))
        }
        let eig = HessianFilter.eigenvalues(of: vol, sigmaMM: sigma, context: KernelContext(workers: 2))
        let S2 = s0 * s0 + sigma * sigma
        let amplitude = pow(s0 * s0 / S2, 1.5)
        // Centre: three equal eigenvalues -sigma^2 A / S^2.
        let centre = vol.index(column: 30, row: 24, slice: 15)
        let expectedCentre = -sigma * sigma * amplitude / S2
        for l in [eig.lambda1, eig.lambda2, eig.lambda3] {
            #expect(abs(Double(l.voxels[centre]) - expectedCentre) <= 0.02 * abs(expectedCentre),
                    "centre \(l.voxels[centre]) vs \(expectedCentre)")
        }
        // 8 mm along x (10 columns): one positive eigenvalue along x, two equal negative ones.
        let d = 8.0
        let off = vol.index(column: 40, row: 24, slice: 15)
        let decay = exp(-d * d / (2 * S2))
        let along = sigma * sigma * amplitude / S2 * (d * d / S2 - 1) * decay
        let across = -sigma * sigma * amplitude / S2 * decay
        #expect(abs(Double(eig.lambda3.voxels[off]) - along) <= 0.03 * abs(along), "\(eig.lambda3.voxels[off]) vs \(along)")
        #expect(abs(Double(eig.lambda1.voxels[off]) - across) <= 0.03 * abs(across))
        #expect(abs(Double(eig.lambda2.voxels[off]) - across) <= 0.03 * abs(across))
    }

    /// sigma^2 * LoG at the centre of a ball of radius r is proportional to x^3 e^(-x^2/2) with
    /// x = r / sigma, so its magnitude peaks at sigma = r / sqrt(3).
    @Test func multiScaleLoGOfABallPeaksNearRadiusOverRootThree() {
        let r = 5.0
        let vol = sampled(columns: 33, rows: 33, slices: 33, spacing: .isotropic1mm) { x, y, z in
            (x * x + y * y + z * z).squareRoot() <= r ? 100 : 0
        }
        let sigmas = [1.8, 2.3, 2.89, 3.4, 4.0]
        let result = LaplacianOfGaussian.multiScale(vol, sigmasMM: sigmas, context: KernelContext(workers: 2))
        let centre = vol.index(column: 16, row: 16, slice: 16)
        let chosen = sigmas[Int(result.scaleIndex[centre])]
        #expect(abs(chosen - r / 3.0.squareRoot()) <= 0.45, "chosen sigma \(chosen)")
        #expect(result.response.voxels[centre] > 0)
        // The single-scale LoG agrees with the multi-scale maximum at the chosen scale.
        let single = LaplacianOfGaussian.apply(vol, sigmaMM: chosen)
        #expect(abs(-single.voxels[centre] - result.response.voxels[centre]) <= 1e-4 * abs(result.response.voxels[centre]))
    }

    @Test func tubeBallAndPlateSignatures() {
        let s0 = 2.5, sigma = 2.5
        let spacing = VoxelSpacing(columnMM: 1, rowMM: 1, sliceMM: 1.5)
        let tube = sampled(columns: 33, rows: 33, slices: 25, spacing: spacing) { x, y, _ in exp(-(x * x + y * y) / (2 * s0 * s0)) }
        let ball = sampled(columns: 33, rows: 33, slices: 25, spacing: spacing) { x, y, z in exp(-(x * x + y * y + z * z) / (2 * s0 * s0)) }
        let plate = sampled(columns: 33, rows: 33, slices: 25, spacing: spacing) { _, _, z in exp(-(z * z) / (2 * s0 * s0)) }
        let centre = tube.index(column: 16, row: 16, slice: 12)
        func eig(_ v: Volume) -> (Float, Float, Float) {
            let e = HessianFilter.eigenvalues(of: v, sigmaMM: sigma, context: KernelContext(workers: 2))
            return (e.lambda1.voxels[centre], e.lambda2.voxels[centre], e.lambda3.voxels[centre])
        }
        let (t1, t2, t3) = eig(tube)   // bright line: two strongly negative, one ~0
        #expect(t1 < 0 && t2 < 0 && abs(t2 - t1) <= 0.02 * abs(t1) && abs(t3) <= 0.01 * abs(t1))
        let (b1, b2, b3) = eig(ball)   // bright blob: three equal negatives
        #expect(b3 < 0 && abs(b1 - b3) <= 0.02 * abs(b1))
        _ = b2
        let (p1, p2, p3) = eig(plate)  // bright sheet: one negative, two ~0
        #expect(p1 < 0 && abs(p2) <= 0.01 * abs(p1) && abs(p3) <= 0.01 * abs(p1))
    }

    @Test func maskLimitsEigenvaluesAndStreamingVisitsEverySlice() {
        let vol = sampled(columns: 20, rows: 18, slices: 12, spacing: .isotropic1mm) { x, y, z in
            exp(-(x * x + 2 * y * y + 0.5 * z * z) / 20) + 0.01 * x
        }
        var mask = [UInt8](repeating: 0, count: vol.voxelCount)
        for i in stride(from: 0, to: mask.count, by: 3) { mask[i] = 1 }
        let full = HessianFilter.eigenvalues(of: vol, sigmaMM: 1.5)
        let masked = HessianFilter.eigenvalues(of: vol, sigmaMM: 1.5, mask: mask)
        for i in 0..<vol.voxelCount {
            if mask[i] != 0 {
                #expect(masked.lambda1.voxels[i] == full.lambda1.voxels[i] && masked.lambda3.voxels[i] == full.lambda3.voxels[i])
            } else {
                #expect(masked.lambda1.voxels[i] == 0 && masked.lambda2.voxels[i] == 0 && masked.lambda3.voxels[i] == 0)
            }
        }
        // Streaming: every (scale, slice) exactly once, with the same values as the one-shot call.
        let lock = NSLock()
        var seen = [Int: Int]()
        var mismatches = 0
        let plane = vol.columns * vol.rows
        HessianFilter.multiScaleEigenvalues(of: vol, sigmasMM: [1.0, 1.5], context: KernelContext(workers: 2)) { scale, s in
            var bad = 0
            if scale == 1 {
                for i in 0..<plane where s.lambda2[i] != full.lambda2.voxels[s.slice * plane + i] { bad += 1 }
            }
            lock.lock(); seen[scale * 1000 + s.slice, default: 0] += 1; mismatches += bad; lock.unlock()
        }
        #expect(seen.count == 2 * vol.slices && seen.values.allSatisfy { $0 == 1 })
        #expect(mismatches == 0)
        // Several ragged chunks (5 + 5 + 2 slices) on 3 workers: same slices, same values.
        seen = [:]
        mismatches = 0
        HessianFilter.streamEigenvalues(of: vol.view(VoxelBox(covering: vol)), sigmasMM: [1.5], normalized: true,
                                        mask: nil, context: KernelContext(workers: 3), chunkSlices: 5) { _, s in
            var bad = 0
            for i in 0..<plane where s.lambda1[i] != full.lambda1.voxels[s.slice * plane + i]
                || s.lambda3[i] != full.lambda3.voxels[s.slice * plane + i] { bad += 1 }
            lock.lock(); seen[s.slice, default: 0] += 1; mismatches += bad; lock.unlock()
        }
        #expect(seen.count == vol.slices && seen.values.allSatisfy { $0 == 1 })
        #expect(mismatches == 0)
    }
}
