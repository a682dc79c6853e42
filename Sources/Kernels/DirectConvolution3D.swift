import Foundation
import Profiling

/// Direct (im2col-free) 3D convolution with a register-blocked SIMD inner kernel.
///
/// Why: for few input channels (the 1-channel filter bank, a first CNN layer) the im2col matrix
/// is as large as the output times `k^3 / C_out`, and im2col + sgemm spend their time writing it
/// and OpenBLAS re-packing it; the arithmetic is the same either way. Here each output vector
/// is accumulated in registers straight from the input:
///
/// - Input: per work unit (a run of output slices), the slices it needs are copied once into a
///   zero-padded, *phase-split* buffer: row `x` values of stride phase `f` are stored contiguously
///   (`input[s * i + f - pad]` at index `i`), so output column `x` under tap `dx` reads phase
///   `dx % s` at index `x + dx / s` and every tap is one contiguous vector load, also for stride 2.
///   Padding is in the buffer: the inner loop has no bounds tests.
/// - Inner kernel: 4 output channels x 2 vectors of 8 output columns = 8 independent FMA chains
///   (a single vector at the end of an odd row); per tap 2 vector loads of input and 4 scalar weight
///   broadcasts (weights repacked `[channel block][tap][4]`, so a block's weights are
///   consecutive). On the Zen 1 host a 256-bit FMA issues once per cycle with 5 cycles latency,
///   so 8 chains keep it busy; 8 accumulators + 4 weights + 2 inputs fit the 16 AVX registers
///   (4 x 3 vectors did not: the compiler spilled an accumulator and ran at half speed).
/// - Bias and ReLU are applied in registers before the one store of each output vector.
enum DirectConvolution3D {
    /// Output channels per register block.
    static let channelBlock = 4

    /// Floats of one worker's padded input buffer for `outSlices` output slices.
    static func bufferFloats(_ layer: Conv3DLayer, input: FeatureVolume, outSlices: Int) -> Int {
        let g = Geometry(layer, input)
        return layer.inChannels * (layer.stride * (outSlices - 1) + layer.kernelSize) * g.paddedRows * g.rowFloats
    }

    struct Geometry {
        let k: Int, s: Int, pad: Int
        let inSlices: Int, inRows: Int, inColumns: Int
        let oz: Int, oy: Int, ox: Int
        /// Output vectors per row (ox rounded up to 8).
        let vectors: Int
        /// Floats of one phase of one padded row, and of the whole row (all `s` phases).
        let phaseLength: Int, rowFloats: Int
        let paddedRows: Int

        init(_ layer: Conv3DLayer, _ input: FeatureVolume) {
            k = layer.kernelSize; s = layer.stride; pad = layer.padding
            inSlices = input.slices; inRows = input.rows; inColumns = input.columns
            oz = layer.outputExtent(inSlices); oy = layer.outputExtent(inRows); ox = layer.outputExtent(inColumns)
            vectors = (ox + 7) / 8
            phaseLength = vectors * 8 + (k - 1) / s
            rowFloats = s * phaseLength
            paddedRows = s * (oy - 1) + k
        }
    }

    /// Writes every output voxel of `out` (`C_out x oz x oy x ox`, channel-major).
    static func run(_ layer: Conv3DLayer, input: FeatureVolume, output out: UnsafeMutablePointer<Float>,
                    context: KernelContext, budgetBytes: Int) {
        let g = Geometry(layer, input)
        let cin = layer.inChannels, cout = layer.outChannels, k = g.k, s = g.s
        let kLen = layer.patchLength
        let blocks = (cout + channelBlock - 1) / channelBlock
        // Weights [block][tap][4], zero for channels past C_out (computed, never stored).
        var packed = [Float](repeating: 0, count: blocks * kLen * channelBlock)
        for c in 0..<cout {
            for t in 0..<kLen { packed[((c / channelBlock) * kLen + t) * channelBlock + c % channelBlock] = layer.weights[c * kLen + t] }
        }
        // Bias padded to whole blocks.
        let bias = layer.bias + [Float](repeating: 0, count: blocks * channelBlock - cout)
        let relu = layer.relu

        // Work units: runs of output slices, several per worker for balance, each within the
        // per-worker share of the buffer budget (the caller checked that one slice fits).
        let workersWanted = context.workers
        let perSlice = bufferFloats(layer, input: input, outSlices: 1)
        var chunk = Swift.max(1, (g.oz + 4 * workersWanted - 1) / (4 * workersWanted))
        while chunk > 1 && bufferFloats(layer, input: input, outSlices: chunk) * 4 * workersWanted > budgetBytes { chunk -= 1 }
        let units = (g.oz + chunk - 1) / chunk
        let workers = Swift.min(workersWanted, units)
        let unitFloats = Swift.max(perSlice, bufferFloats(layer, input: input, outSlices: chunk))
        let slabSlices = s * (chunk - 1) + k

        // The x-blocks of a row: pairs of vectors, and one single vector when the count is odd.
        let xBlocks: [(first: Int, count: Int)] = stride(from: 0, to: g.vectors, by: 2).map { ($0, Swift.min(2, g.vectors - $0)) }
        // Tap offsets within a padded row for dx = 0..<k (phase dx % s, index dx / s).
        let dxOffsets = (0..<k).map { ($0 % s) * g.phaseLength + $0 / s }
        let rowCount = cin * k * k
        let positions = g.oz * g.oy * g.ox
        let queue = WorkUnitQueue(count: units)

        input.data.withUnsafeBufferPointer { src in
            packed.withUnsafeBufferPointer { wp in
                bias.withUnsafeBufferPointer { bp in
                    dxOffsets.withUnsafeBufferPointer { dxo in
                        let srcBase = src.baseAddress!, wBase = wp.baseAddress!, biasBase = bp.baseAddress!
                        let dxBase = dxo.baseAddress!
                        Profiler.span("conv3d.direct", voxels: positions,
                                      bytesMoved: (input.data.count + cout * positions) * 4,
                                      flops: 2 * cout * positions * kLen) {
                            context.parallelRanges(workers) { _, _ in
                                let buffer = UnsafeMutablePointer<Float>.allocate(capacity: unitFloats)
                                defer { buffer.deallocate() }
                                let rows = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: rowCount)
                                defer { rows.deallocate() }
                                let spill = UnsafeMutablePointer<Float>.allocate(capacity: 8)
                                defer { spill.deallocate() }
                                while let u = queue.take() {
                                    let z0 = u * chunk, z1 = Swift.min(g.oz, z0 + chunk)
                                    let slab = s * (z1 - z0 - 1) + k
                                    fillPadded(g, source: srcBase, channels: cin, firstPaddedSlice: s * z0,
                                               slices: slab, slabStride: slabSlices, into: buffer)
                                    for z in z0..<z1 {
                                        for y in 0..<g.oy {
                                            // Row pointers for every (channel, dz, dy), in tap order.
                                            var r = 0
                                            for c in 0..<cin {
                                                for dz in 0..<k {
                                                    let sliceBase = buffer + (c * slabSlices + s * (z - z0) + dz) * g.paddedRows * g.rowFloats
                                                    for dy in 0..<k {
                                                        rows[r] = UnsafePointer(sliceBase + (s * y + dy) * g.rowFloats)
                                                        r += 1
                                                    }
                                                }
                                            }
                                            let outRow = out + (z * g.oy + y) * g.ox
                                            for b in 0..<blocks {
                                                let c0 = b * channelBlock
                                                let outs = OutputBlock(row: outRow, channelStride: positions, firstChannel: c0,
                                                                       channels: Swift.min(channelBlock, cout - c0), columns: g.ox,
                                                                       bias: biasBase + c0, relu: relu, spill: spill)
                                                let wBlock = wBase + b * kLen * channelBlock
                                                for xb in xBlocks {
                                                    let x0 = xb.first * 8
                                                    if xb.count == 2 {
                                                        directBlock(Vectors2.self, rows, rowCount, x0, k, dxBase, wBlock, outs)
                                                    } else {
                                                        directBlock(Vectors1.self, rows, rowCount, x0, k, dxBase, wBlock, outs)
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Copies padded input slices `firstPaddedSlice ..< + slices` of every channel into
    /// `buffer` (channel c's slab at `c * slabStride` slices), phase-split, zeros in the padding.
    static func fillPadded(_ g: Geometry, source: UnsafePointer<Float>, channels: Int, firstPaddedSlice: Int,
                           slices: Int, slabStride: Int, into buffer: UnsafeMutablePointer<Float>) {
        let s = g.s, pad = g.pad, len = g.phaseLength
        // Stride > 1: the padded row is first made contiguous here (zeros, one copy, zeros), then
        // split into its phases: column s i + f - pad goes to phase f, index i.
        let row = UnsafeMutablePointer<Float>.allocate(capacity: s == 1 ? 1 : s * len)
        defer { row.deallocate() }
        for c in 0..<channels {
            let channel = source + c * g.inSlices * g.inRows * g.inColumns
            for sl in 0..<slices {
                let zIn = firstPaddedSlice + sl - pad
                let dstSlice = buffer + (c * slabStride + sl) * g.paddedRows * g.rowFloats
                for py in 0..<g.paddedRows {
                    let yIn = py - pad
                    let dst = dstSlice + py * g.rowFloats
                    if zIn < 0 || zIn >= g.inSlices || yIn < 0 || yIn >= g.inRows {
                        dst.update(repeating: 0, count: g.rowFloats)
                        continue
                    }
                    let line = channel + (zIn * g.inRows + yIn) * g.inColumns
                    // Zeros left of column 0, one contiguous copy, zeros to the end.
                    let padded = s == 1 ? dst : row, total = s * len
                    let lead = Swift.min(pad, total)
                    padded.update(repeating: 0, count: lead)
                    let copy = Swift.max(0, Swift.min(g.inColumns, total - lead))
                    (padded + lead).update(from: line, count: copy)
                    (padded + lead + copy).update(repeating: 0, count: total - lead - copy)
                    if s == 2 {
                        // Even and odd columns, 8 of each per step.
                        let d0 = dst, d1 = dst + len
                        var i = 0
                        while i + 8 <= len {
                            let v = UnsafeRawPointer(row + 2 * i).loadUnaligned(as: SIMD16<Float>.self)
                            storeVector(v.evenHalf, d0 + i); storeVector(v.oddHalf, d1 + i)
                            i += 8
                        }
                        while i < len { d0[i] = row[2 * i]; d1[i] = row[2 * i + 1]; i += 1 }
                    } else if s > 2 {
                        for f in 0..<s {
                            let d = dst + f * len
                            for i in 0..<len { d[i] = row[s * i + f] }
                        }
                    }
                }
            }
        }
    }
}

/// Where one 4-channel block of one output row goes, and its epilogue (bias, ReLU).
struct OutputBlock {
    let row: UnsafeMutablePointer<Float>
    let channelStride: Int, firstChannel: Int, channels: Int, columns: Int
    let bias: UnsafePointer<Float>
    let relu: Bool
    /// Scratch for a vector that runs past the row's end (8 floats).
    let spill: UnsafeMutablePointer<Float>

    init(row: UnsafeMutablePointer<Float>, channelStride: Int, firstChannel: Int, channels: Int, columns: Int,
         bias: UnsafePointer<Float>, relu: Bool, spill: UnsafeMutablePointer<Float>) {
        self.row = row; self.channelStride = channelStride; self.firstChannel = firstChannel
        self.channels = channels; self.columns = columns; self.bias = bias; self.relu = relu
        self.spill = spill
    }

    /// Stores vector `j` (columns x0 + 8j ..< +8) of block channel `i`, after bias and ReLU.
    @inline(__always)
    func store(_ v: SIMD8<Float>, channel i: Int, x0: Int, vector j: Int) {
        var r = v + SIMD8<Float>(repeating: bias[i])
        if relu { r = r.replacing(with: 0, where: r .< 0) }
        guard i < channels else { return }
        let x = x0 + 8 * j
        let dst = row + (firstChannel + i) * channelStride + x
        if x + 8 <= columns {
            storeVector(r, dst)
        } else {
            storeVector(r, spill)
            for q in 0..<(columns - x) { dst[q] = spill[q] }
        }
    }
}

/// Vectors of 8 output columns per register block (a type, so each count gets its own loop).
protocol DirectVectorCount { static var count: Int { get } }
enum Vectors1: DirectVectorCount { static let count = 1 }
enum Vectors2: DirectVectorCount { static let count = 2 }

/// 4 channels x `N` (1 or 2) vectors of output columns starting at `x0`, summed over every tap:
/// `rows[r]` is the padded input row of (channel, dz, dy) number `r`, `dxOffsets[dx]` the
/// float offset of tap dx in it, `weights` `[r][dx][4]`.
@inline(never)
func directBlock<N: DirectVectorCount>(_: N.Type, _ rows: UnsafePointer<UnsafePointer<Float>>, _ rowCount: Int,
                                       _ x0: Int, _ k: Int, _ dxOffsets: UnsafePointer<Int>,
                                       _ weights: UnsafePointer<Float>, _ out: OutputBlock) {
    let n = N.count
    let zero = SIMD8<Float>(repeating: 0)
    var a00 = zero, a01 = zero
    var a10 = zero, a11 = zero
    var a20 = zero, a21 = zero
    var a30 = zero, a31 = zero
    var w = weights
    var r = 0
    while r < rowCount {
        let row = rows[r] + x0
        var dx = 0
        while dx < k {
            let p = row + dxOffsets[dx]
            let x0v = loadVector(p)
            let x1v = n >= 2 ? loadVector(p + 8) : zero
            let b0 = SIMD8<Float>(repeating: w[0]), b1 = SIMD8<Float>(repeating: w[1])
            let b2 = SIMD8<Float>(repeating: w[2]), b3 = SIMD8<Float>(repeating: w[3])
            a00 = fusedMultiplyAdd(a00, b0, x0v); a10 = fusedMultiplyAdd(a10, b1, x0v)
            a20 = fusedMultiplyAdd(a20, b2, x0v); a30 = fusedMultiplyAdd(a30, b3, x0v)
            if n >= 2 {
                a01 = fusedMultiplyAdd(a01, b0, x1v); a11 = fusedMultiplyAdd(a11, b1, x1v)
                a21 = fusedMultiplyAdd(a21, b2, x1v); a31 = fusedMultiplyAdd(a31, b3, x1v)
            }
            w += 4
            dx &+= 1
        }
        r &+= 1
    }
    out.store(a00, channel: 0, x0: x0, vector: 0); out.store(a10, channel: 1, x0: x0, vector: 0)
    out.store(a20, channel: 2, x0: x0, vector: 0); out.store(a30, channel: 3, x0: x0, vector: 0)
    if n >= 2 {
        out.store(a01, channel: 0, x0: x0, vector: 1); out.store(a11, channel: 1, x0: x0, vector: 1)
        out.store(a21, channel: 2, x0: x0, vector: 1); out.store(a31, channel: 3, x0: x0, vector: 1)
    }
}
