import Foundation
import Volumes
import Profiling

/// The three Hessian eigenvalues per voxel, ascending (`lambda1 <= lambda2 <= lambda3`).
public struct HessianEigenvalues: Sendable {
    public var lambda1: Volume
    public var lambda2: Volume
    public var lambda3: Volume
}

/// The six distinct second derivatives (mm units, optionally scale-normalised).
public struct HessianComponents: Sendable {
    public var xx: Volume, yy: Volume, zz: Volume, xy: Volume, xz: Volume, yz: Volume
}

/// One slice of eigenvalues handed to a streaming consumer; valid only during the call.
public struct EigenvalueSlice {
    /// Slice index (z) within the filtered volume or view.
    public let slice: Int
    /// `rows * columns` values each, row-major, ascending per voxel.
    public let lambda1: UnsafeBufferPointer<Float>
    public let lambda2: UnsafeBufferPointer<Float>
    public let lambda3: UnsafeBufferPointer<Float>
}

/// Gaussian-scale Hessian of a volume and its eigenvalues.
///
/// The six second derivatives come from one separable pass sharing work: the z-pass is done
/// once per z order (0, 1, 2) and the x-pass once per (z order, x order) pair, so a scale costs
/// 3 z-filters + 6 x-filters + 6 y-filters per voxel instead of 18 independent 1-D passes.
/// Derivatives are taken in mm (voxel-index derivatives divided by the spacings) and, when
/// `normalized`, multiplied by `sigmaMM^2` (Lindeberg's scale normalisation with gamma = 1,
/// T. Lindeberg, "Feature detection with automatic scale selection", IJCV 30(2), 1998), so
/// responses are comparable across scales. Eigenvalues: closed form (`SymmetricEigen3`).
///
/// Memory: besides input and outputs, only per-worker tile buffers of `SeparableEngine` (well
/// under 1 MB each) and rows; no full-size intermediate volume is ever allocated.
public enum HessianFilter {
    static let triples = [DerivativeTriple(z: 0, y: 0, x: 2), DerivativeTriple(z: 0, y: 2, x: 0),
                          DerivativeTriple(z: 2, y: 0, x: 0), DerivativeTriple(z: 0, y: 1, x: 1),
                          DerivativeTriple(z: 1, y: 0, x: 1), DerivativeTriple(z: 1, y: 1, x: 0)]

    static func engine(view: VolumeView, sigmaMM: Double, context: KernelContext, name: String) -> SeparableEngine {
        let s = GaussianFilter.voxelSigmas(sigmaMM: sigmaMM, spacing: view.spacing)
        return SeparableEngine(triples: triples, sigmaVoxels: (s.x, s.y, s.z), context: context, spanName: name)
    }

    static func spacingTriple(_ s: VoxelSpacing) -> VoxelSpacingTriple {
        VoxelSpacingTriple(x: s.columnMM, y: s.rowMM, z: s.sliceMM)
    }

    /// The six second derivatives at scale `sigmaMM` (six output volumes: meant for tests and
    /// small crops; prefer `eigenvalues` / `multiScaleEigenvalues` on whole scans).
    public static func components(of view: VolumeView, sigmaMM: Double, normalized: Bool = true,
                                  context: KernelContext = .default) -> HessianComponents {
        let nx = view.columns, ny = view.rows, nz = view.slices
        let count = nx * ny * nz
        let storage = UnsafeMutablePointer<Float>.allocate(capacity: 6 * count)
        defer { storage.deallocate() }
        let scales = HessianScales(sigmaMM: sigmaMM, spacing: spacingTriple(view.spacing), normalized: normalized)
        let factors: [Float] = [scales.xx, scales.yy, scales.zz, scales.xy, scales.xz, scales.yz].map { Float($0) }
        let eng = engine(view: view, sigmaMM: sigmaMM, context: context, name: "hessian.components")
        withVoxelSource(view) { source in
            eng.run(source) { _, z, y, rows in
                for c in 0..<6 {
                    let dst = storage + c * count + (z * ny + y) * nx
                    let f = factors[c]
                    for i in 0..<nx { dst[i] = rows[c][i] * f }
                }
            }
        }
        func vol(_ i: Int) -> Volume {
            Volume(columns: nx, rows: ny, slices: nz,
                   voxels: Array(UnsafeBufferPointer(start: storage + i * count, count: count)),
                   spacing: view.spacing, affine: view.affine)
        }
        return HessianComponents(xx: vol(0), yy: vol(1), zz: vol(2), xy: vol(3), xz: vol(4), yz: vol(5))
    }

    public static func components(of volume: Volume, sigmaMM: Double, normalized: Bool = true,
                                  context: KernelContext = .default) -> HessianComponents {
        components(of: volume.view(VoxelBox(covering: volume)), sigmaMM: sigmaMM, normalized: normalized,
                   context: context)
    }

    /// Sorted Hessian eigenvalues at one scale. `mask` (optional, nonzero = inside, laid out
    /// like the view's voxels) limits the eigen-decomposition to those voxels; others get 0.
    public static func eigenvalues(of view: VolumeView, sigmaMM: Double, normalized: Bool = true,
                                   mask: [UInt8]? = nil, context: KernelContext = .default) -> HessianEigenvalues {
        let nx = view.columns, ny = view.rows, nz = view.slices
        let count = nx * ny * nz
        if let mask { precondition(mask.count == count, "mask size \(mask.count) does not match the volume") }
        // Three uninitialised outputs (every voxel is written), filled row by row straight from
        // the engine's derivative rows: no zero fill, no per-slice staging copy.
        let maskCopy = mask ?? []
        var l2: [Float] = [], l3: [Float] = []
        let l1 = [Float](unsafeUninitializedCapacity: count) { b1, n1 in
            l2 = [Float](unsafeUninitializedCapacity: count) { b2, n2 in
                l3 = [Float](unsafeUninitializedCapacity: count) { b3, n3 in
                    if count > 0 {
                        let p1 = b1.baseAddress!, p2 = b2.baseAddress!, p3 = b3.baseAddress!
                        maskCopy.withUnsafeBufferPointer { maskBuffer in
                            eigenvalueRows(of: view, sigmaMM: sigmaMM, normalized: normalized,
                                           mask: mask == nil ? nil : maskBuffer.baseAddress, context: context,
                                           zChunk: nil, chunkDone: nil) { _, z, y in
                                let o = (z * ny + y) * nx
                                return (p1 + o, p2 + o, p3 + o)
                            }
                        }
                    }
                    n3 = count
                }
                n2 = count
            }
            n1 = count
        }
        func vol(_ v: [Float]) -> Volume {
            Volume(columns: nx, rows: ny, slices: nz, voxels: v, spacing: view.spacing, affine: view.affine)
        }
        return HessianEigenvalues(lambda1: vol(l1), lambda2: vol(l2), lambda3: vol(l3))
    }

    public static func eigenvalues(of volume: Volume, sigmaMM: Double, normalized: Bool = true,
                                   mask: [UInt8]? = nil, context: KernelContext = .default) -> HessianEigenvalues {
        eigenvalues(of: volume.view(VoxelBox(covering: volume)), sigmaMM: sigmaMM, normalized: normalized,
                    mask: mask, context: context)
    }

    /// One scale: the engine's six derivative rows turned into eigenvalue rows at
    /// `destination(worker, slice, row)` (three rows of `columns` floats).
    static func eigenvalueRows(of view: VolumeView, sigmaMM: Double, normalized: Bool,
                               mask maskBase: UnsafePointer<UInt8>?, context: KernelContext, zChunk: Int?,
                               chunkDone: ((_ worker: Int, _ slices: Range<Int>) -> Void)?,
                               destination: (_ worker: Int, _ slice: Int, _ row: Int)
                                   -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)) {
        let nx = view.columns, ny = view.rows, nz = view.slices
        let plane = nx * ny
        if plane * nz == 0 { return }
        let scales = HessianScales(sigmaMM: sigmaMM, spacing: spacingTriple(view.spacing), normalized: normalized)
        var eng = engine(view: view, sigmaMM: sigmaMM, context: context, name: "hessian")
        eng.zChunk = zChunk
        let eigenFlops = plane * nz * 160
        // Eigenvalues are computed inside the separable pass, so the span covers the whole scale.
        Profiler.span("hessian.scale", voxels: plane * nz, bytesMoved: plane * nz * 4 * 4, flops: eigenFlops) {
            withVoxelSource(view) { source in
                eng.run(source, chunkDone: chunkDone) { worker, z, y, rows in
                    let (d1, d2, d3) = destination(worker, z, y)
                    SymmetricEigen3.eigenvalueRows(
                        count: nx, a11: rows[0], a22: rows[1], a33: rows[2],
                        a12: rows[3], a13: rows[4], a23: rows[5], scales: scales,
                        mask: maskBase.map { $0 + z * plane + y * nx },
                        lambda1: d1, lambda2: d2, lambda3: d3)
                }
            }
        }
    }

    /// Slices per streamed chunk: a worker holds one chunk of eigenvalues (3 floats per voxel)
    /// until all its rows are done, about 32 MB per worker.
    static func streamChunkSlices(plane: Int, slices nz: Int) -> Int {
        Swift.max(1, Swift.min(nz, Swift.max(4, (32 << 20) / Swift.max(1, 12 * plane))))
    }

    /// Streams sorted eigenvalues for each scale in `sigmasMM`, one slice at a time:
    /// `consume(scaleIndex, slice)` is called once per (scale, slice), concurrently from the
    /// workers for different slices of the same scale (scales run one after another). The
    /// buffers are reused after the call returns. Holds no full-size volume besides the input:
    /// each worker keeps one chunk of slices' eigenvalues (about 32 MB) until the chunk is done.
    public static func multiScaleEigenvalues(of view: VolumeView, sigmasMM: [Double], normalized: Bool = true,
                                             mask: [UInt8]? = nil, context: KernelContext = .default,
                                             consume: (_ scaleIndex: Int, _ slice: EigenvalueSlice) -> Void) {
        streamEigenvalues(of: view, sigmasMM: sigmasMM, normalized: normalized, mask: mask, context: context,
                          chunkSlices: nil, consume: consume)
    }

    /// `multiScaleEigenvalues` with an explicit chunk length (tests force several ragged chunks).
    static func streamEigenvalues(of view: VolumeView, sigmasMM: [Double], normalized: Bool,
                                  mask: [UInt8]?, context: KernelContext, chunkSlices: Int?,
                                  consume: (_ scaleIndex: Int, _ slice: EigenvalueSlice) -> Void) {
        let nx = view.columns, ny = view.rows, nz = view.slices
        let plane = nx * ny
        if let mask { precondition(mask.count == plane * nz, "mask size \(mask.count) does not match the volume") }
        if plane * nz == 0 { return }
        let workers = context.workers
        let chunk = Swift.min(nz, Swift.max(1, chunkSlices ?? streamChunkSlices(plane: plane, slices: nz)))
        let perWorker = chunk * 3 * plane
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: workers * perWorker)
        defer { scratch.deallocate() }
        let maskCopy = mask ?? []
        // `chunkDone` is stored as an optional closure (formally escaping); it never outlives this call.
        withoutActuallyEscaping(consume) { consume in
        maskCopy.withUnsafeBufferPointer { maskBuffer in
            let maskBase = mask == nil ? nil : maskBuffer.baseAddress
            for (scaleIndex, sigmaMM) in sigmasMM.enumerated() {
                // Chunks start at multiples of `chunk`, so a slice's place in its worker's buffer is z % chunk.
                eigenvalueRows(of: view, sigmaMM: sigmaMM, normalized: normalized, mask: maskBase, context: context,
                               zChunk: chunk,
                               chunkDone: { worker, slices in
                                   for z in slices {
                                       let base = scratch + worker * perWorker + (z % chunk) * 3 * plane
                                       consume(scaleIndex, EigenvalueSlice(
                                           slice: z,
                                           lambda1: UnsafeBufferPointer(start: base, count: plane),
                                           lambda2: UnsafeBufferPointer(start: base + plane, count: plane),
                                           lambda3: UnsafeBufferPointer(start: base + 2 * plane, count: plane)))
                                   }
                               },
                               destination: { worker, z, y in
                                   let base = scratch + worker * perWorker + (z % chunk) * 3 * plane + y * nx
                                   return (base, base + plane, base + 2 * plane)
                               })
            }
        }
        }
    }

    public static func multiScaleEigenvalues(of volume: Volume, sigmasMM: [Double], normalized: Bool = true,
                                             mask: [UInt8]? = nil, context: KernelContext = .default,
                                             consume: (_ scaleIndex: Int, _ slice: EigenvalueSlice) -> Void) {
        multiScaleEigenvalues(of: volume.view(VoxelBox(covering: volume)), sigmasMM: sigmasMM,
                              normalized: normalized, mask: mask, context: context, consume: consume)
    }
}
