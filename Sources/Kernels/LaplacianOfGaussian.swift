import Foundation
import Volumes
import Profiling

/// The best response over scales per voxel and which scale gave it.
public struct MultiScaleResponse: Sendable {
    /// Maximum over scales of the per-scale response.
    public var response: Volume
    /// Index into the scale list of the scale that gave the maximum, per voxel.
    public var scaleIndex: [UInt8]
}

/// Laplacian of Gaussian, `d2/dx2 + d2/dy2 + d2/dz2` of the Gaussian-smoothed volume, from one
/// separable pass (z orders 0 and 2 shared).
public enum LaplacianOfGaussian {
    static let triples = [DerivativeTriple(z: 0, y: 0, x: 2), DerivativeTriple(z: 0, y: 2, x: 0),
                          DerivativeTriple(z: 2, y: 0, x: 0)]

    /// Voxel-unit LoG with per-axis sigma in voxels; matches
    /// `scipy.ndimage.gaussian_laplace(v, sigma=(sz, sy, sx))` (mode 'reflect', truncate 4).
    public static func apply(_ volume: Volume, sigmaVoxels: SIMD3<Double>,
                             context: KernelContext = .default) -> Volume {
        filter(volume.view(VoxelBox(covering: volume)), sigmaVoxels: sigmaVoxels, factors: (1, 1, 1),
               context: context)
    }

    /// LoG in mm at physical scale `sigmaMM`: `sum_a (d2/da2 in voxels) / spacing_a^2`, times
    /// `sigmaMM^2` when `normalized` (scale-normalised LoG; a bright ball of radius r gives its
    /// most negative centre response near `sigmaMM = r / sqrt(3)`).
    public static func apply(_ view: VolumeView, sigmaMM: Double, normalized: Bool = true,
                             context: KernelContext = .default) -> Volume {
        let s = GaussianFilter.voxelSigmas(sigmaMM: sigmaMM, spacing: view.spacing)
        let n = normalized ? sigmaMM * sigmaMM : 1
        let sp = view.spacing
        return filter(view, sigmaVoxels: s,
                      factors: (Float(n / (sp.columnMM * sp.columnMM)), Float(n / (sp.rowMM * sp.rowMM)),
                                Float(n / (sp.sliceMM * sp.sliceMM))),
                      context: context)
    }

    public static func apply(_ volume: Volume, sigmaMM: Double, normalized: Bool = true,
                             context: KernelContext = .default) -> Volume {
        apply(volume.view(VoxelBox(covering: volume)), sigmaMM: sigmaMM, normalized: normalized, context: context)
    }

    static func filter(_ view: VolumeView, sigmaVoxels: SIMD3<Double>, factors: (Float, Float, Float),
                       context: KernelContext) -> Volume {
        let nx = view.columns, ny = view.rows, nz = view.slices
        let engine = SeparableEngine(triples: triples, sigmaVoxels: (sigmaVoxels.x, sigmaVoxels.y, sigmaVoxels.z),
                                     context: context, spanName: "log")
        // Every voxel is written by `sumRows`: no zero fill first.
        let out = [Float](unsafeUninitializedCapacity: nx * ny * nz) { dst, initialized in
            if let base = dst.baseAddress {
                withVoxelSource(view) { source in
                    engine.run(source) { _, z, y, rows in
                        sumRows(rows, factors, base + (z * ny + y) * nx, nx)
                    }
                }
            }
            initialized = nx * ny * nz
        }
        return Volume(columns: nx, rows: ny, slices: nz, voxels: out, spacing: view.spacing, affine: view.affine)
    }

    @inline(__always)
    static func sumRows(_ rows: UnsafePointer<UnsafeMutablePointer<Float>>, _ f: (Float, Float, Float),
                        _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        let a = rows[0], b = rows[1], c = rows[2]
        var i = 0
        let fx = SIMD8<Float>(repeating: f.0), fy = SIMD8<Float>(repeating: f.1), fz = SIMD8<Float>(repeating: f.2)
        while i + 8 <= n {
            storeVector(fx * loadVector(a + i) + fy * loadVector(b + i) + fz * loadVector(c + i), dst + i)
            i += 8
        }
        while i < n { dst[i] = f.0 * a[i] + f.1 * b[i] + f.2 * c[i]; i += 1 }
    }

    /// Multi-scale blob response: per voxel the maximum over `sigmasMM` of `-sigmaMM^2 * LoG`
    /// (positive at the centre of bright blobs), and the index of the scale that gave it.
    /// Scales run one after another; memory is the input, the response, the 1-byte index and
    /// the engine's per-worker tile buffers.
    public static func multiScale(_ view: VolumeView, sigmasMM: [Double],
                                  context: KernelContext = .default) -> MultiScaleResponse {
        precondition(!sigmasMM.isEmpty && sigmasMM.count <= 256, "1...256 scales")
        let nx = view.columns, ny = view.rows, nz = view.slices
        var best = [Float](repeating: -.infinity, count: nx * ny * nz)
        var index = [UInt8](repeating: 0, count: nx * ny * nz)
        let sp = view.spacing
        best.withUnsafeMutableBufferPointer { bestBuffer in
            index.withUnsafeMutableBufferPointer { indexBuffer in
                let bestBase = bestBuffer.baseAddress, indexBase = indexBuffer.baseAddress
                for (k, sigmaMM) in sigmasMM.enumerated() {
                    let s = GaussianFilter.voxelSigmas(sigmaMM: sigmaMM, spacing: sp)
                    let n = -sigmaMM * sigmaMM
                    let f = (Float(n / (sp.columnMM * sp.columnMM)), Float(n / (sp.rowMM * sp.rowMM)),
                             Float(n / (sp.sliceMM * sp.sliceMM)))
                    let engine = SeparableEngine(triples: triples, sigmaVoxels: (s.x, s.y, s.z),
                                                 context: context, spanName: "log.scale")
                    let scaleTag = UInt8(k)
                    withVoxelSource(view) { source in
                        engine.run(source) { _, z, y, rows in
                            let o = (z * ny + y) * nx
                            let a = rows[0], b = rows[1], c = rows[2]
                            let bp = bestBase! + o, ip = indexBase! + o
                            for i in 0..<nx {
                                let r = f.0 * a[i] + f.1 * b[i] + f.2 * c[i]
                                if r > bp[i] { bp[i] = r; ip[i] = scaleTag }
                            }
                        }
                    }
                }
            }
        }
        return MultiScaleResponse(response: Volume(columns: nx, rows: ny, slices: nz, voxels: best,
                                                   spacing: sp, affine: view.affine),
                                  scaleIndex: index)
    }

    public static func multiScale(_ volume: Volume, sigmasMM: [Double],
                                  context: KernelContext = .default) -> MultiScaleResponse {
        multiScale(volume.view(VoxelBox(covering: volume)), sigmasMM: sigmasMM, context: context)
    }
}
