/// Kernels: the Dispatch-parallel compute core (Gaussian and derivative filters,
/// multi-scale Hessian and eigenvalues, LoG, 3D convolution / filter banks).
///
/// # Usage
///
/// ```swift
/// import Kernels
/// import Volumes
///
/// let ctx = KernelContext()                       // one worker per core (KernelContext(workers: 1) to run serially)
///
/// // Crop to the lungs without copying (views), or with a contiguous copy.
/// let box = VoxelBox.boundingBox(ofMask: lungMask, columns: v.columns, rows: v.rows, slices: v.slices)!
///                   .expanded(by: 8, clampedTo: v)
/// let lungs = v.view(box)                         // no copy; kernels reflect at the box edges
/// let crop = v.cropped(to: box)                   // contiguous copy, affine moved accordingly
///
/// // Gaussian smoothing / derivatives (scipy.ndimage.gaussian_filter semantics, voxel units).
/// let smooth = GaussianFilter.apply(v, sigmaMM: 1.5, context: ctx)           // sigma in mm -> per-axis voxels
/// let dx = GaussianFilter.apply(v, sigmaVoxels: SIMD3(2, 2, 1), orders: DerivativeOrders(x: 1), context: ctx)
///
/// // Hessian eigenvalues at one scale, ascending (lambda1 <= lambda2 <= lambda3), derivatives in mm,
/// // scale-normalised by sigmaMM^2; optional mask (UInt8 per voxel, nonzero = compute).
/// let eig = HessianFilter.eigenvalues(of: lungs, sigmaMM: 2.0, mask: maskOfCrop, context: ctx)
///
/// // Multi-scale, streamed one slice at a time (no full-size temporaries):
/// HessianFilter.multiScaleEigenvalues(of: lungs, sigmasMM: [1, 2, 4], context: ctx) { scale, s in
///     // s.slice, s.lambda1/2/3: rows*columns Floats of that slice; called concurrently for different slices.
/// }
///
/// // LoG: scale-normalised sigma^2 * LoG in mm, or the scipy-compatible voxel-unit version.
/// let log = LaplacianOfGaussian.apply(v, sigmaMM: 3.0, context: ctx)
/// let blobs = LaplacianOfGaussian.multiScale(lungs, sigmasMM: [1.5, 2.5, 4], context: ctx)
/// // blobs.response = max over scales of -sigma^2 LoG (bright blobs positive), blobs.scaleIndex per voxel.
///
/// // 3D convolution / filter bank: direct SIMD kernel, or im2col + cblas_sgemm for long patches (see Convolution3D).
/// // Max pooling over 2^3 cells and global max, as PyTorch's MaxPool3d (the patch network's layers).
/// let pooled = MaxPool3D.apply(features, size: 2)
/// ```
///
/// # Conventions
/// - Volumes are `Volume` (Float32, slice-row-column). Outputs have the input's (or view's)
///   geometry. `x` = columns, `y` = rows, `z` = slices.
/// - Boundary: scipy.ndimage mode 'reflect' (`d c b a | a b c d | d c b a`), extended periodically
///   when the kernel is longer than the axis. Truncation: radius `Int(4 * sigma + 0.5)` voxels per
///   axis (scipy's default `truncate=4.0`).
/// - Parallelism and OpenBLAS threads: see `KernelContext`.
/// - Every pass records a `Profiler` span (`gaussian.separable`, `hessian.separable`,
///   `hessian.scale`, `log.separable`, `conv3d.direct`, `conv3d.im2col`, `conv3d.gemm`, ...) with voxels, bytes and FLOPs.
/// - Memory: Gaussian/Hessian/LoG never allocate a full-size intermediate; besides input and
///   outputs they use per-worker tile buffers (well under 1 MB each; see `SeparableEngine`), and
///   the streamed multi-scale Hessian one chunk of eigenvalue slices per worker (about 32 MB).
/// - Instruction set: on x86-64 this module is built for AVX2 + FMA (Package.swift `kernelsCPU`).
///
/// Details and measured speed: docs/kernels.md.
public enum KernelsModule {}
