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
    /// The (x, y, z) of linear index `i`: the inverse of `index`.
    @inline(__always) func position(of i: Int) -> SIMD3<Int> { SIMD3(i % nx, (i / nx) % ny, i / plane) }
    /// Calls `body` with the linear index of each face neighbour (6-connectivity) of voxel `i`
    /// that lies inside the grid: the step of the flood fills.
    @inline(__always) func forEachFaceNeighbour(of i: Int, _ body: (Int) -> Void) {
        let x = i % nx, y = (i / nx) % ny, z = i / plane
        if x > 0 { body(i - 1) }
        if x + 1 < nx { body(i + 1) }
        if y > 0 { body(i - nx) }
        if y + 1 < ny { body(i + nx) }
        if z > 0 { body(i - plane) }
        if z + 1 < nz { body(i + plane) }
    }

    /// Calls `body` with the linear index and (x, y, z) of each voxel within half a voxel of
    /// the sphere of `r` voxels around position `c` (a circle in the slice when nz == 1),
    /// inside the grid: the shell the sphere-fraction rules read.
    @inline(__always) func forEachVoxel(onSphereAround c: SIMD3<Double>, radiusVoxels r: Double,
                                        _ body: (Int, SIMD3<Int>) -> Void) {
        guard let (lo, hi) = LungMask.box(around: c, radius: r + 1, size: self) else { return }
        for z in lo.z...hi.z {
            for y in lo.y...hi.y {
                for x in lo.x...hi.x {
                    var d = SIMD3<Double>(Double(x), Double(y), Double(z)) - c
                    if nz == 1 { d.z = 0 }
                    guard abs((d * d).sum().squareRoot() - r) <= 0.5 else { continue }
                    body(index(x, y, z), SIMD3(x, y, z))
                }
            }
        }
    }
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

    /// A grid from HU already on it (`hu.count == size.count`).
    init(size: GridSize, spacingMM: Double, hu: [Float], nativeStep: SIMD3<Double>) {
        precondition(hu.count == size.count, "HU count \(hu.count) does not match the grid's \(size.count)")
        self.size = size
        self.spacingMM = spacingMM
        self.hu = hu
        self.nativeStep = nativeStep
    }

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

    /// Fraction of the grid voxels on a sphere of `radiusMM` around grid position `p` (a
    /// circle in the slice when the grid is 2D) whose HU is below `belowHU`; the voxels
    /// within half a voxel of the radius count, those outside the grid are skipped. 0 when
    /// no voxel of the sphere is on the grid.
    func fractionOnSphere(around p: SIMD3<Double>, radiusMM: Double, belowHU: Float) -> Double {
        var onSphere = 0, below = 0
        size.forEachVoxel(onSphereAround: p, radiusVoxels: radiusMM / spacingMM) { i, _ in
            onSphere += 1
            if hu[i] < belowHU { below += 1 }
        }
        return onSphere == 0 ? 0 : Double(below) / Double(onSphere)
    }
}

/// Gaussian smoothing on a grid with the same sigma (voxels) on every axis, through the
/// Kernels module's one-pass separable filter (`GaussianFilter`, scipy's 'reflect' borders),
/// truncated at 3 sigma as the detector's model was trained with. A single slice (2D) is
/// left unchanged across slices: reflecting one slice gives itself back.
func gaussianSmooth(_ input: [Float], size: GridSize, sigmaVoxels: Double, workers: Int) -> [Float] {
    let volume = Volume(columns: size.nx, rows: size.ny, slices: size.nz, voxels: input,
                        spacing: VoxelSpacing(columnMM: 1, rowMM: 1, sliceMM: 1))
    return GaussianFilter.apply(volume, sigmaVoxels: SIMD3(repeating: sigmaVoxels), truncate: 3,
                                context: KernelContext(workers: workers)).voxels
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
