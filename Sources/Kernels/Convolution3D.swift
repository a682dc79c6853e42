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

/// 3D convolution by im2col + `cblas_sgemm`.
///
/// The output positions are processed in tiles; for each tile the im2col matrix
/// (`C_in k^3` rows x tile columns) is filled in parallel (Dispatch, one row per task) and then
/// multiplied by the `C_out x C_in k^3` weight matrix with one sgemm on the calling thread using
/// `workers` OpenBLAS threads (see `KernelContext`). The tile is chosen so the im2col buffer stays
/// within `im2colBudgetBytes` (default 32 MB) whatever the layer size.
public enum Convolution3D {
    public static let defaultIm2colBudgetBytes = 32 << 20

    public static func apply(_ layer: Conv3DLayer, to input: FeatureVolume, context: KernelContext = .default,
                             im2colBudgetBytes: Int = defaultIm2colBudgetBytes) -> FeatureVolume {
        precondition(input.channels == layer.inChannels, "input has \(input.channels) channels, layer expects \(layer.inChannels)")
        let oz = layer.outputExtent(input.slices), oy = layer.outputExtent(input.rows), ox = layer.outputExtent(input.columns)
        var output = FeatureVolume(channels: layer.outChannels, slices: oz, rows: oy, columns: ox)
        let positions = oz * oy * ox
        if positions == 0 { return output }
        let kLen = layer.patchLength
        let tile = Swift.max(1, Swift.min(positions, im2colBudgetBytes / (kLen * 4)))
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: kLen * tile)
        defer { columns.deallocate() }
        let k = layer.kernelSize, s = layer.stride, pad = layer.padding
        let iz = input.slices, iy = input.rows, ix = input.columns
        let m = layer.outChannels
        input.data.withUnsafeBufferPointer { src in
            layer.weights.withUnsafeBufferPointer { w in
                output.data.withUnsafeMutableBufferPointer { out in
                    let srcBase = src.baseAddress!, outBase = out.baseAddress!
                    var p0 = 0
                    while p0 < positions {
                        let n = Swift.min(tile, positions - p0)
                        Profiler.span("conv3d.im2col", voxels: n, bytesMoved: 2 * kLen * n * 4) {
                            context.parallelFor(kLen) { row in
                                // row = ((c * k + dz) * k + dy) * k + dx
                                let dx = row % k, dy = (row / k) % k, dz = (row / (k * k)) % k, c = row / (k * k * k)
                                let dst = columns + row * n
                                let channel = srcBase + c * iz * iy * ix
                                var p = p0
                                while p < p0 + n {
                                    let px = p % ox, py = (p / ox) % oy, pz = p / (ox * oy)
                                    let run = Swift.min(ox - px, p0 + n - p)   // same (pz, py) for `run` positions
                                    let zIn = pz * s - pad + dz, yIn = py * s - pad + dy
                                    let d = dst + (p - p0)
                                    if zIn < 0 || zIn >= iz || yIn < 0 || yIn >= iy {
                                        d.update(repeating: 0, count: run)
                                    } else {
                                        let line = channel + (zIn * iy + yIn) * ix
                                        for q in 0..<run {
                                            let xIn = (px + q) * s - pad + dx
                                            d[q] = (xIn >= 0 && xIn < ix) ? line[xIn] : 0
                                        }
                                    }
                                    p += run
                                }
                            }
                        }
                        Profiler.span("conv3d.gemm", voxels: n, bytesMoved: (m * kLen + kLen * n + m * n) * 4,
                                      flops: 2 * m * n * kLen) {
                            context.withBLASThreads(context.workers) {
                                // out[m][p0 ..< p0+n] = W (m x kLen) * columns (kLen x n); ldc = positions.
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(kLen),
                                            1, w.baseAddress, Int32(kLen), columns, Int32(n), 0,
                                            outBase + p0, Int32(positions))
                            }
                        }
                        p0 += n
                    }
                    // Bias and ReLU in one pass over the output, per channel.
                    let bias = layer.bias, relu = layer.relu
                    context.parallelFor(m) { c in
                        let b = bias[c]
                        let o = outBase + c * positions
                        if relu {
                            for i in 0..<positions { o[i] = Swift.max(0, o[i] + b) }
                        } else if b != 0 {
                            for i in 0..<positions { o[i] += b }
                        }
                    }
                }
            }
        }
        return output
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
