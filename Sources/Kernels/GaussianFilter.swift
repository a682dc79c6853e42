import Foundation
import Volumes

/// Derivative order (0, 1 or 2) along each axis.
public struct DerivativeOrders: Sendable, Equatable, Hashable {
    public var x: Int, y: Int, z: Int
    public init(x: Int = 0, y: Int = 0, z: Int = 0) {
        precondition([x, y, z].allSatisfy { (0...2).contains($0) }, "derivative orders must be 0, 1 or 2")
        self.x = x; self.y = y; self.z = z
    }
    /// Plain smoothing.
    public static let none = DerivativeOrders()
}

/// Separable Gaussian and Gaussian-derivative filtering of a volume.
///
/// Matches `scipy.ndimage.gaussian_filter(v, sigma=(sz, sy, sx), order=(oz, oy, ox),
/// mode='reflect', truncate=4.0)` on a (slice, row, column) array: same sampled weights
/// (`GaussianKernel1D`), radius `Int(4 * sigma + 0.5)` per axis, boundary mode 'reflect'
/// (`d c b a | a b c d | d c b a`, the edge sample repeated), derivatives per voxel index.
public enum GaussianFilter {
    /// Per-axis sigma in voxels for a sigma in mm: `sigmaMM / spacing` along each axis.
    public static func voxelSigmas(sigmaMM: Double, spacing: VoxelSpacing) -> SIMD3<Double> {
        SIMD3(sigmaMM / spacing.columnMM, sigmaMM / spacing.rowMM, sigmaMM / spacing.sliceMM)
    }

    /// Filter `volume` with per-axis sigmas in voxels (`x` columns, `y` rows, `z` slices).
    public static func apply(_ volume: Volume, sigmaVoxels: SIMD3<Double>, orders: DerivativeOrders = .none,
                             truncate: Double = GaussianKernel1D.defaultTruncate,
                             context: KernelContext = .default) -> Volume {
        apply(volume.view(VoxelBox(covering: volume)), sigmaVoxels: sigmaVoxels, orders: orders,
              truncate: truncate, context: context)
    }

    /// Filter `volume` with an isotropic physical sigma in mm (anisotropic in voxels).
    public static func apply(_ volume: Volume, sigmaMM: Double, orders: DerivativeOrders = .none,
                             context: KernelContext = .default) -> Volume {
        apply(volume, sigmaVoxels: voxelSigmas(sigmaMM: sigmaMM, spacing: volume.spacing), orders: orders,
              context: context)
    }

    /// Filter the window `view` (reflecting at the window's edges, as scipy would on the cropped
    /// array) into a new contiguous volume with the window's geometry. Nothing is copied first.
    public static func apply(_ view: VolumeView, sigmaVoxels: SIMD3<Double>, orders: DerivativeOrders = .none,
                             truncate: Double = GaussianKernel1D.defaultTruncate,
                             context: KernelContext = .default) -> Volume {
        let nx = view.columns, ny = view.rows, nz = view.slices
        let engine = SeparableEngine(triples: [DerivativeTriple(z: orders.z, y: orders.y, x: orders.x)],
                                     sigmaVoxels: (sigmaVoxels.x, sigmaVoxels.y, sigmaVoxels.z),
                                     truncate: truncate, context: context, spanName: "gaussian")
        // Every voxel is written by the engine's x-pass, so the output is not zero-filled first
        // (that would be one more full-volume memory pass).
        let out = [Float](unsafeUninitializedCapacity: nx * ny * nz) { dst, initialized in
            if let dstBase = dst.baseAddress {
                withVoxelSource(view) { source in
                    engine.run(source, directOutput: dstBase) { _, _, _, _ in }
                }
            }
            initialized = nx * ny * nz
        }
        return Volume(columns: nx, rows: ny, slices: nz, voxels: out, spacing: view.spacing, affine: view.affine)
    }
}

/// Run `body` with a strided source over the view's voxels.
func withVoxelSource<T>(_ view: VolumeView, _ body: (VoxelSource) -> T) -> T {
    view.parent.voxels.withUnsafeBufferPointer { buffer in
        let base = buffer.baseAddress ?? UnsafePointer(bitPattern: 16)!
        let source = VoxelSource(base: base + (view.voxelCount > 0 ? view.baseOffset : 0),
                                 columns: view.columns, rows: view.rows, slices: view.slices,
                                 rowStride: view.rowStride, sliceStride: view.sliceStride)
        return body(source)
    }
}
