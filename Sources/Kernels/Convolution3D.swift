import Foundation
import COpenBLAS
import Profiling

/// A stack of 3D channels, channel-major: `data[((c * slices + z) * rows + y) * columns + x]`.
public struct FeatureVolume: Sendable, Equatable {
    public let channels: Int, slices: Int, rows: Int, columns: Int
    public var data: [Float]

    public init(channels: Int, slices: Int, rows: Int, columns: Int, data: [Float]) {
        precondition(data.count == channels * slices * rows * columns, "feature volume size mismatch")
        self.channels = channels; self.slices = slices; self.rows = rows; self.columns = columns
        self.data = data
    }

    public init(channels: Int, slices: Int, rows: Int, columns: Int) {
        self.init(channels: channels, slices: slices, rows: rows, columns: columns,
                  data: [Float](repeating: 0, count: channels * slices * rows * columns))
    }

    public var voxelsPerChannel: Int { slices * rows * columns }
}

/// One 3D convolution layer / filter bank: `C_in -> C_out`, cubic kernel `k`, equal stride and
/// zero padding on every axis, bias, optional ReLU. Weights are `[C_out][C_in][kz][ky][kx]`.
/// Cross-correlation, as in CNN frameworks (PyTorch `Conv3d`).
public struct Conv3DLayer: Sendable, Equatable {
    public var inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int, padding: Int
    public var weights: [Float]
    public var bias: [Float]
    public var relu: Bool

    public init(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                weights: [Float], bias: [Float]? = nil, relu: Bool = false) {
        precondition(inChannels > 0 && outChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0)
        precondition(weights.count == outChannels * inChannels * kernelSize * kernelSize * kernelSize,
                     "weights must be C_out x C_in x k^3")
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelSize = kernelSize; self.stride = stride; self.padding = padding
        self.weights = weights
        self.bias = bias ?? [Float](repeating: 0, count: outChannels)
        precondition(self.bias.count == outChannels, "one bias per output channel")
        self.relu = relu
    }

    /// Output extent along an axis of input extent `n`.
    public func outputExtent(_ n: Int) -> Int { Swift.max(0, (n + 2 * padding - kernelSize) / stride + 1) }

    /// Rows of the im2col matrix: `C_in * k^3`.
    public var patchLength: Int { inChannels * kernelSize * kernelSize * kernelSize }
}

/// How `Convolution3D.apply` computes a layer.
public enum Conv3DMethod: Sendable, Equatable {
    /// The faster of the two for the layer's shape (see `Convolution3D.prefersDirect`).
    case automatic
    /// im2col + `cblas_sgemm`.
    case im2colGEMM
    /// Direct register-blocked SIMD convolution, no im2col (falls back to im2col + sgemm when
    /// one output slice's padded input does not fit in `im2colBudgetBytes`).
    case direct
}

/// 3D convolution by im2col + `cblas_sgemm` (K. Chellapilla, S. Puri, P. Simard, "High
/// performance convolutional neural networks for document processing", 2006), or for layers
/// with a short patch (few input channels) a direct SIMD kernel (`DirectConvolution3D`) that
/// skips writing and re-packing the im2col matrix.
///
/// Output positions are cut into tiles of about `tileBytes` of im2col (`C_in k^3` rows x tile
/// columns) so a tile is still in cache when sgemm reads it back. With many tiles each Dispatch
/// worker runs im2col + a 1-thread sgemm on its own tiles; with few tiles im2col rows are filled
/// in parallel and one sgemm uses `workers` OpenBLAS threads (the `KernelContext` policy).
/// All im2col buffers together stay within `im2colBudgetBytes` (default 32 MB) whatever the
/// layer size. Padding is zero padding.
public enum Convolution3D {
    public static let defaultIm2colBudgetBytes = 32 << 20

    /// Budget for one worker's im2col tile: small enough that the tile is still in L2/L3 when
    /// sgemm reads it back right after im2col wrote it.
    public static let defaultTileBytes = 1 << 20

    public static func apply(_ layer: Conv3DLayer, to input: FeatureVolume, context: KernelContext = .default,
                             im2colBudgetBytes: Int = defaultIm2colBudgetBytes,
                             tileBytes: Int = defaultTileBytes, method: Conv3DMethod = .automatic) -> FeatureVolume {
        precondition(input.channels == layer.inChannels, "input has \(input.channels) channels, layer expects \(layer.inChannels)")
        let oz = layer.outputExtent(input.slices), oy = layer.outputExtent(input.rows), ox = layer.outputExtent(input.columns)
        let positions = oz * oy * ox
        if positions == 0 { return FeatureVolume(channels: layer.outChannels, slices: oz, rows: oy, columns: ox) }
        // Both paths write every output element, so the output is not zero-filled first.
        var output = FeatureVolume(channels: layer.outChannels, slices: oz, rows: oy, columns: ox,
                                   data: [Float](unsafeUninitializedCapacity: layer.outChannels * positions) { _, n in
                                       n = layer.outChannels * positions
                                   })
        let directFits = DirectConvolution3D.bufferFloats(layer, input: input, outSlices: 1) * 4 * context.workers
            <= im2colBudgetBytes
        let direct = directFits && (method == .direct || (method == .automatic && prefersDirect(layer)))
        if direct {
            output.data.withUnsafeMutableBufferPointer { out in
                DirectConvolution3D.run(layer, input: input, output: out.baseAddress!, context: context,
                                        budgetBytes: im2colBudgetBytes)
            }
            return output
        }
        let kLen = layer.patchLength
        let workers = context.workers
        // Tile columns: about `tileBytes` of im2col per worker (at least 256 columns so sgemm
        // stays efficient), and never more than the total budget across workers.
        let budgetColumns = Swift.max(1, im2colBudgetBytes / (kLen * 4 * workers))
        let tile = Swift.max(1, Swift.min(positions, budgetColumns, Swift.max(256, tileBytes / (kLen * 4))))
        let tileCount = (positions + tile - 1) / tile
        let geometry = Im2colGeometry(k: layer.kernelSize, stride: layer.stride, padding: layer.padding,
                                      inSlices: input.slices, inRows: input.rows, inColumns: input.columns,
                                      outRows: oy, outColumns: ox)
        let m = layer.outChannels
        let bias = layer.bias, relu = layer.relu
        input.data.withUnsafeBufferPointer { src in
            layer.weights.withUnsafeBufferPointer { w in
                output.data.withUnsafeMutableBufferPointer { out in
                    let srcBase = src.baseAddress!, outBase = out.baseAddress!, wBase = w.baseAddress!
                    /// GEMM of one tile into output columns p0..<p0+n, then bias/ReLU there.
                    func gemmTile(_ columns: UnsafeMutablePointer<Float>, _ p0: Int, _ n: Int) {
                        Profiler.span("conv3d.gemm", voxels: n, bytesMoved: (m * kLen + kLen * n + m * n) * 4,
                                      flops: 2 * m * n * kLen) {
                            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(kLen),
                                        1, wBase, Int32(kLen), columns, Int32(n), 0, outBase + p0, Int32(positions))
                        }
                        for c in 0..<m {
                            let b = bias[c]
                            let o = outBase + c * positions + p0
                            if relu {
                                for i in 0..<n { o[i] = Swift.max(0, o[i] + b) }
                            } else if b != 0 {
                                for i in 0..<n { o[i] += b }
                            }
                        }
                    }
                    if tileCount >= 2 * workers || workers == 1 {
                        // Many tiles: each worker does im2col + single-threaded sgemm on its own tiles
                        // (tiles stay in its cache; Dispatch workers x 1 BLAS thread = cores).
                        context.withBLASThreads(1) {
                            context.parallelRanges(tileCount) { _, tiles in
                                let columns = UnsafeMutablePointer<Float>.allocate(capacity: kLen * tile)
                                defer { columns.deallocate() }
                                for t in tiles {
                                    let p0 = t * tile, n = Swift.min(tile, positions - p0)
                                    Profiler.span("conv3d.im2col", voxels: n, bytesMoved: 2 * kLen * n * 4) {
                                        for row in 0..<kLen { geometry.fill(row: row, p0: p0, n: n, source: srcBase, into: columns + row * n) }
                                    }
                                    gemmTile(columns, p0, n)
                                }
                            }
                        }
                    } else {
                        // Few tiles: parallel im2col rows, then one sgemm with all cores' BLAS threads.
                        let columns = UnsafeMutablePointer<Float>.allocate(capacity: kLen * tile)
                        defer { columns.deallocate() }
                        for t in 0..<tileCount {
                            let p0 = t * tile, n = Swift.min(tile, positions - p0)
                            Profiler.span("conv3d.im2col", voxels: n, bytesMoved: 2 * kLen * n * 4) {
                                context.parallelFor(kLen) { row in
                                    geometry.fill(row: row, p0: p0, n: n, source: srcBase, into: columns + row * n)
                                }
                            }
                            context.withBLASThreads(workers) { gemmTile(columns, p0, n) }
                        }
                        // OpenBLAS's idle threads busy-wait for ~0.1 s after a threaded call:
                        // stop them so the Dispatch kernels that follow get both cores.
                        if workers > 1 { KernelContext.stopIdleBLASThreads() }
                    }
                }
            }
        }
        return output
    }

    /// Whether `.automatic` uses the direct kernel. It beat im2col + sgemm on every layer shape
    /// measured (patch lengths 27 to 1728, strides 1 and 2; docs/performance.md, Kernels): it
    /// writes no im2col matrix, OpenBLAS re-packs nothing, and bias + ReLU cost no extra pass.
    /// Longer patches (more than 2048 = C_in x k^3) were not measured and stay with sgemm, whose
    /// blocking is built for large K.
    public static func prefersDirect(_ layer: Conv3DLayer) -> Bool {
        layer.patchLength <= 2048
    }

    /// Direct convolution with the same semantics (six nested loops, Double accumulation): the
    /// independent reference for tests.
    public static func naive(_ layer: Conv3DLayer, to input: FeatureVolume) -> FeatureVolume {
        let oz = layer.outputExtent(input.slices), oy = layer.outputExtent(input.rows), ox = layer.outputExtent(input.columns)
        var output = FeatureVolume(channels: layer.outChannels, slices: oz, rows: oy, columns: ox)
        let k = layer.kernelSize
        for co in 0..<layer.outChannels {
            for z in 0..<oz { for y in 0..<oy { for x in 0..<ox {
                var acc = Double(layer.bias[co])
                for ci in 0..<layer.inChannels {
                    for dz in 0..<k { for dy in 0..<k { for dx in 0..<k {
                        let zi = z * layer.stride - layer.padding + dz
                        let yi = y * layer.stride - layer.padding + dy
                        let xi = x * layer.stride - layer.padding + dx
                        guard zi >= 0, zi < input.slices, yi >= 0, yi < input.rows, xi >= 0, xi < input.columns else { continue }
                        let wv = layer.weights[(((co * layer.inChannels + ci) * k + dz) * k + dy) * k + dx]
                        acc += Double(wv) * Double(input.data[((ci * input.slices + zi) * input.rows + yi) * input.columns + xi])
                    } } }
                }
                if layer.relu { acc = Swift.max(0, acc) }
                output.data[((co * oz + z) * oy + y) * ox + x] = Float(acc)
            } } }
        }
        return output
    }
}

/// Index arithmetic of one im2col row: row `((c * k + dz) * k + dy) * k + dx` holds, for each
/// output position p, the input value under kernel tap (dz, dy, dx) of channel c (0 in the padding).
struct Im2colGeometry {
    let k: Int, stride: Int, padding: Int
    let inSlices: Int, inRows: Int, inColumns: Int
    let outRows: Int, outColumns: Int

    @inline(__always)
    func fill(row: Int, p0: Int, n: Int, source: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        let dx = row % k, dy = (row / k) % k, dz = (row / (k * k)) % k, c = row / (k * k * k)
        let channel = source + c * inSlices * inRows * inColumns
        let ox = outColumns, oy = outRows, s = stride, pad = padding, ix = inColumns
        var p = p0
        while p < p0 + n {
            let px = p % ox, py = (p / ox) % oy, pz = p / (ox * oy)
            let run = Swift.min(ox - px, p0 + n - p)   // same (pz, py) for `run` positions
            let zIn = pz * s - pad + dz, yIn = py * s - pad + dy
            let d = dst + (p - p0)
            if zIn < 0 || zIn >= inSlices || yIn < 0 || yIn >= inRows {
                d.update(repeating: 0, count: run)
            } else {
                let line = channel + (zIn * inRows + yIn) * ix
                if s == 1 {
                    // Contiguous copy of the in-range part, zeros in the padding.
                    let first = px - pad + dx
                    var q = 0
                    while q < run && first + q < 0 { d[q] = 0; q += 1 }
                    let copyEnd = Swift.min(run, ix - first)
                    if copyEnd > q { (d + q).update(from: line + first + q, count: copyEnd - q); q = copyEnd }
                    while q < run { d[q] = 0; q += 1 }
                } else {
                    for q in 0..<run {
                        let xIn = (px + q) * s - pad + dx
                        d[q] = (xIn >= 0 && xIn < ix) ? line[xIn] : 0
                    }
                }
            }
            p += run
        }
    }
}
