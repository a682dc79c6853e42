import Foundation
import Kernels
import Volumes

/// Size of a voxel grid in (slice, row, column) order, `index = (z * ny + y) * nx + x`.
struct GridSize: Equatable {
    var nx: Int
    var ny: Int
    var nz: Int
    var count: Int { nx * ny * nz }
    var plane: Int { nx * ny }
    @inline(__always) func index(_ x: Int, _ y: Int, _ z: Int) -> Int { (z * ny + y) * nx + x }
}

/// Runs `body(i)` for i in 0..<count on `workers` threads (the Kernels module's slab policy).
@inline(__always)
func parallelSlabs(_ count: Int, workers: Int, _ body: (Int) -> Void) {
    KernelContext(workers: workers).parallelFor(count, body)
}

/// The isotropic working grid the lung mask and blob filter run on: the series resampled
/// (trilinear) to `spacingMM` along each index axis. A 2D series keeps nz = 1.
struct WorkingGrid {
    var size: GridSize
    var spacingMM: Double
    /// HU on the grid.
    var hu: [Float]
    /// Native voxel index per grid step along (x, y, z).
    var nativeStep: SIMD3<Double>

    /// Native (column, row, slice) index of a fractional grid position.
    func nativeIndex(_ p: SIMD3<Double>) -> SIMD3<Double> { p * nativeStep }
    func gridPosition(ofNative n: SIMD3<Double>) -> SIMD3<Double> { n / nativeStep }

    /// Resamples `volume` (one slice when `slice` is given) to spacing `g` mm.
    init(volume: Volume, spacingMM g: Double, slice: Int? = nil, workers: Int) {
        let sp = volume.spacing
        let twoD = slice != nil || volume.slices == 1
        let nx = max(1, Int((Double(volume.columns - 1) * sp.columnMM / g).rounded(.down)) + 1)
        let ny = max(1, Int((Double(volume.rows - 1) * sp.rowMM / g).rounded(.down)) + 1)
        let nz = twoD ? 1 : max(1, Int((Double(volume.slices - 1) * sp.sliceMM / g).rounded(.down)) + 1)
        size = GridSize(nx: nx, ny: ny, nz: nz)
        spacingMM = g
        nativeStep = SIMD3(g / sp.columnMM, g / sp.rowMM, twoD ? 0 : g / sp.sliceMM)
        let cols = volume.columns, rows = volume.rows, slices = volume.slices
        let step = nativeStep
        let fixedSlice = slice ?? 0
        var out = [Float](repeating: -1000, count: size.count)
        // Precompute the x interpolation taps once; rows and slices are per line.
        var x0 = [Int](repeating: 0, count: nx), fx = [Float](repeating: 0, count: nx)
        for x in 0..<nx {
            let s = min(Double(cols - 1), Double(x) * step.x)
            let i = min(cols - 2, Int(s)); x0[x] = max(0, i); fx[x] = cols > 1 ? Float(s - Double(x0[x])) : 0
        }
        volume.voxels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                x0.withUnsafeBufferPointer { x0p in
                    fx.withUnsafeBufferPointer { fxp in
                        parallelSlabs(nz, workers: workers) { z in
                            let sz: Double = twoD ? Double(fixedSlice) : min(Double(slices - 1), Double(z) * step.z)
                            let z0 = twoD ? fixedSlice : max(0, min(slices - 2, Int(sz)))
                            let z1 = twoD ? fixedSlice : min(slices - 1, z0 + 1)
                            let wz = Float(sz - Double(z0))
                            for y in 0..<ny {
                                let sy = min(Double(rows - 1), Double(y) * step.y)
                                let y0 = max(0, min(rows - 2, Int(sy))), y1 = min(rows - 1, y0 + 1)
                                let wy = Float(sy - Double(y0))
                                let r00 = (z0 * rows + y0) * cols, r01 = (z0 * rows + y1) * cols
                                let r10 = (z1 * rows + y0) * cols, r11 = (z1 * rows + y1) * cols
                                let o = (z * ny + y) * nx
                                for x in 0..<nx {
                                    let a = x0p[x], b = min(cols - 1, a + 1), f = fxp[x]
                                    let v00 = src[r00 + a] + f * (src[r00 + b] - src[r00 + a])
                                    let v01 = src[r01 + a] + f * (src[r01 + b] - src[r01 + a])
                                    let v10 = src[r10 + a] + f * (src[r10 + b] - src[r10 + a])
                                    let v11 = src[r11 + a] + f * (src[r11 + b] - src[r11 + a])
                                    let v0 = v00 + wy * (v01 - v00), v1 = v10 + wy * (v11 - v10)
                                    dst[o + x] = v0 + wz * (v1 - v0)
                                }
                            }
                        }
                    }
                }
            }
        }
        hu = out
    }
}

/// Separable Gaussian smoothing on a grid with the same sigma (voxels) on every axis used
/// (z is skipped when nz == 1). Truncated at 3 sigma, borders replicate the edge voxel.
/// Detection keeps this private copy for its isotropic working grid; the general,
/// anisotropic, profiled filters live in Kernels.
func gaussianSmooth(_ input: [Float], size: GridSize, sigmaVoxels: Double, workers: Int) -> [Float] {
    let radius = max(1, Int((3 * sigmaVoxels).rounded(.up)))
    var w = [Float](repeating: 0, count: 2 * radius + 1)
    var total: Double = 0
    for k in -radius...radius {
        let v = exp(-Double(k * k) / (2 * sigmaVoxels * sigmaVoxels)); w[k + radius] = Float(v); total += v
    }
    for i in w.indices { w[i] = Float(Double(w[i]) / total) }
    var a = input
    var b = [Float](repeating: 0, count: input.count)
    let nx = size.nx, ny = size.ny, nz = size.nz
    w.withUnsafeBufferPointer { wp in
        // x pass: a -> b
        a.withUnsafeBufferPointer { src in b.withUnsafeMutableBufferPointer { dst in
            parallelSlabs(nz * ny, workers: workers) { line in
                let o = line * nx
                for x in 0..<nx {
                    var s: Float = 0
                    if x >= radius && x + radius < nx {
                        for k in 0...(2 * radius) { s += wp[k] * src[o + x - radius + k] }
                    } else {
                        for k in 0...(2 * radius) { s += wp[k] * src[o + min(nx - 1, max(0, x - radius + k))] }
                    }
                    dst[o + x] = s
                }
            }
        } }
        // y pass: b -> a (rows of a slice as vectors)
        b.withUnsafeBufferPointer { src in a.withUnsafeMutableBufferPointer { dst in
            parallelSlabs(nz, workers: workers) { z in
                let base = z * nx * ny
                for y in 0..<ny {
                    let o = base + y * nx
                    for x in 0..<nx { dst[o + x] = 0 }
                    for k in 0...(2 * radius) {
                        let yy = min(ny - 1, max(0, y - radius + k))
                        let i = base + yy * nx, wk = wp[k]
                        for x in 0..<nx { dst[o + x] += wk * src[i + x] }
                    }
                }
            }
        } }
        guard nz > 1 else { return }
        // z pass: a -> b, then b is the result
        a.withUnsafeBufferPointer { src in b.withUnsafeMutableBufferPointer { dst in
            let plane = nx * ny
            parallelSlabs(nz, workers: workers) { z in
                let o = z * plane
                for i in 0..<plane { dst[o + i] = 0 }
                for k in 0...(2 * radius) {
                    let zz = min(nz - 1, max(0, z - radius + k))
                    let s = zz * plane, wk = wp[k]
                    for i in 0..<plane { dst[o + i] += wk * src[s + i] }
                }
            }
        } }
        swap(&a, &b)
    }
    return a
}

/// 2x block-average downsampling (2x2x2, or 2x2 when nz == 1); odd trailing voxels dropped.
func downsample2(_ input: [Float], size: GridSize) -> ([Float], GridSize) {
    let twoD = size.nz == 1
    let out = GridSize(nx: max(1, size.nx / 2), ny: max(1, size.ny / 2), nz: twoD ? 1 : max(1, size.nz / 2))
    var r = [Float](repeating: 0, count: out.count)
    let zs = twoD ? 1 : 2
    let scale = 1 / Float(4 * zs)
    for z in 0..<out.nz {
        for y in 0..<out.ny {
            for x in 0..<out.nx {
                var s: Float = 0
                for dz in 0..<zs {
                    let zz = min(size.nz - 1, 2 * z + dz)
                    for dy in 0..<2 {
                        let yy = min(size.ny - 1, 2 * y + dy)
                        let i = size.index(0, yy, zz)
                        s += input[i + min(size.nx - 1, 2 * x)] + input[i + min(size.nx - 1, 2 * x + 1)]
                    }
                }
                r[out.index(x, y, z)] = s * scale
            }
        }
    }
    return (r, out)
}
