import Foundation
import Kernels

/// Exact Euclidean distance transform (Felzenszwalb & Huttenlocher, "Distance Transforms of
/// Sampled Functions", Theory of Computing 8, 2012): separable lower envelopes of parabolas,
/// one 1D pass per axis, anisotropic spacing in mm. Used for the lung mask's closing, for
/// distance to the pleura, and for the per-candidate morphological opening.
enum DistanceTransform {
    static let infinity: Float = 1e20

    /// Squared distance (mm^2) from every voxel to the nearest voxel where `isFeature` is true.
    /// `spacing` is (x, y, z) in mm; axes of size 1 are skipped.
    static func squaredDistance(isFeature: [Bool], size: GridSize, spacing: SIMD3<Double>, workers: Int) -> [Float] {
        var d = [Float](repeating: 0, count: size.count)
        for i in 0..<size.count where !isFeature[i] { d[i] = infinity }
        transformAxis(&d, size: size, axis: 0, step: Float(spacing.x), workers: workers)
        transformAxis(&d, size: size, axis: 1, step: Float(spacing.y), workers: workers)
        transformAxis(&d, size: size, axis: 2, step: Float(spacing.z), workers: workers)
        return d
    }

    /// One separable pass along `axis` (0 = x, 1 = y, 2 = z), in place.
    private static func transformAxis(_ d: inout [Float], size: GridSize, axis: Int, step: Float, workers: Int) {
        let n = axis == 0 ? size.nx : axis == 1 ? size.ny : size.nz
        guard n > 1 else { return }
        let stride = axis == 0 ? 1 : axis == 1 ? size.nx : size.plane
        let lines = size.count / n
        let nx = size.nx, plane = size.plane
        let w2 = step * step
        d.withUnsafeMutableBufferPointer { buf in
            KernelContext(workers: workers).parallelRanges(lines) { _, range in
                var f = [Float](repeating: 0, count: n)
                var out = [Float](repeating: 0, count: n)
                var v = [Int](repeating: 0, count: n)
                var zb = [Float](repeating: 0, count: n + 1)
                for line in range {
                    // Start index of this line.
                    let start: Int
                    switch axis {
                    case 0: start = line * nx
                    case 1: start = (line / nx) * plane + (line % nx)
                    default: start = line
                    }
                    var any = false
                    for i in 0..<n { f[i] = buf[start + i * stride]; if f[i] < infinity { any = true } }
                    guard any else { continue }
                    // Lower envelope of parabolas w2*(q - i)^2 + f[i].
                    var k = 0
                    var first = 0
                    while first < n && f[first] >= infinity { first += 1 }
                    v[0] = first; zb[0] = -infinity; zb[1] = infinity
                    if first + 1 < n {
                        for q in (first + 1)..<n where f[q] < infinity {
                            var s: Float
                            while true {
                                let p = v[k]
                                s = ((f[q] + w2 * Float(q * q)) - (f[p] + w2 * Float(p * p))) / (2 * w2 * Float(q - p))
                                if s <= zb[k] && k > 0 { k -= 1 } else { break }
                            }
                            if s <= zb[k] { // k == 0 and the new parabola dominates everywhere
                                v[0] = q; zb[0] = -infinity; zb[1] = infinity
                                continue
                            }
                            k += 1; v[k] = q; zb[k] = s; zb[k + 1] = infinity
                        }
                    }
                    k = 0
                    for q in 0..<n {
                        while zb[k + 1] < Float(q) { k += 1 }
                        let p = v[k], dq = Float(q - p)
                        out[q] = w2 * dq * dq + f[p]
                    }
                    for i in 0..<n { buf[start + i * stride] = out[i] }
                }
            }
        }
    }

    /// Morphological closing of `mask` with a ball of `radiusMM` (dilate, then erode).
    static func close(_ mask: [Bool], size: GridSize, spacing: SIMD3<Double>, radiusMM: Double, workers: Int) -> [Bool] {
        guard radiusMM > 0 else { return mask }
        let r2 = Float(radiusMM * radiusMM)
        let toMask = squaredDistance(isFeature: mask, size: size, spacing: spacing, workers: workers)
        let dilated = toMask.map { $0 <= r2 }
        let outside = dilated.map { !$0 }
        let toOutside = squaredDistance(isFeature: outside, size: size, spacing: spacing, workers: workers)
        return toOutside.map { $0 > r2 }
    }

    /// `close` on `mask` padded by the radius on every side (none along z for a single
    /// slice): `close` does not erode from beyond the grid's edge, so a mask nearer the edge
    /// than the radius keeps everything between it and the edge. For the lungs' envelope
    /// (`LungOpacities`), whose crop leaves only `closing_radius_mm` around the lungs; the
    /// lung mask's own closing pads each lung's box the same way
    /// (`LungSegmentation.closeEachComponent`).
    static func closePadded(_ mask: [Bool], size: GridSize, spacing: SIMD3<Double>, radiusMM: Double,
                            workers: Int) -> [Bool] {
        let pad = SIMD3(Int((radiusMM / spacing.x).rounded(.up)) + 1, Int((radiusMM / spacing.y).rounded(.up)) + 1,
                        size.nz == 1 ? 0 : Int((radiusMM / spacing.z).rounded(.up)) + 1)
        let padded = GridSize(nx: size.nx + 2 * pad.x, ny: size.ny + 2 * pad.y, nz: size.nz + 2 * pad.z)
        var big = [Bool](repeating: false, count: padded.count)
        for z in 0..<size.nz {
            for y in 0..<size.ny {
                let row = size.index(0, y, z), bigRow = padded.index(pad.x, y + pad.y, z + pad.z)
                for x in 0..<size.nx where mask[row + x] { big[bigRow + x] = true }
            }
        }
        let closed = close(big, size: padded, spacing: spacing, radiusMM: radiusMM, workers: workers)
        var out = [Bool](repeating: false, count: size.count)
        for z in 0..<size.nz {
            for y in 0..<size.ny {
                let row = size.index(0, y, z), bigRow = padded.index(pad.x, y + pad.y, z + pad.z)
                for x in 0..<size.nx { out[row + x] = closed[bigRow + x] }
            }
        }
        return out
    }

    /// Morphological opening of `mask` with a ball of `radiusMM` (erode, then dilate by
    /// `radiusMM + dilationSlackMM`, never beyond the original mask).
    static func open(_ mask: [Bool], size: GridSize, spacing: SIMD3<Double>, radiusMM: Double,
                     dilationSlackMM: Double = 0) -> [Bool] {
        guard radiusMM > 0 else { return mask }
        let r2 = Float(radiusMM * radiusMM)
        let toOutside = squaredDistance(isFeature: mask.map { !$0 }, size: size, spacing: spacing, workers: 1)
        let eroded = toOutside.map { $0 > r2 }
        let toEroded = squaredDistance(isFeature: eroded, size: size, spacing: spacing, workers: 1)
        let d2 = Float((radiusMM + dilationSlackMM) * (radiusMM + dilationSlackMM))
        var r = [Bool](repeating: false, count: mask.count)
        for i in 0..<mask.count { r[i] = mask[i] && toEroded[i] <= d2 }
        return r
    }
}
