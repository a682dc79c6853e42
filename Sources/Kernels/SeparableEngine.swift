import Foundation
import Profiling

/// A strided, read-only voxel source (a whole `Volume` or a `VolumeView`).
struct VoxelSource {
    var base: UnsafePointer<Float>
    var columns: Int
    var rows: Int
    var slices: Int
    var rowStride: Int
    var sliceStride: Int
}

// MARK: - Line combination (the inner loops)

@inline(__always)
func loadVector(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func storeVector(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Which of the three order slots a `combineLines` call fills, as a type so each combination
/// gets its own specialised loop (generic specialisation is reliable where flag arguments to an
/// inlined function are not).
protocol OrderSlots {
    static var has0: Bool { get }
    static var has1: Bool { get }
    static var has2: Bool { get }
}
enum Slots0: OrderSlots { static let has0 = true, has1 = false, has2 = false }
enum Slots1: OrderSlots { static let has0 = false, has1 = true, has2 = false }
enum Slots2: OrderSlots { static let has0 = false, has1 = false, has2 = true }
enum Slots01: OrderSlots { static let has0 = true, has1 = true, has2 = false }
enum Slots02: OrderSlots { static let has0 = true, has1 = false, has2 = true }
enum Slots12: OrderSlots { static let has0 = false, has1 = true, has2 = true }
enum Slots012: OrderSlots { static let has0 = true, has1 = true, has2 = true }

/// `acc + w * x`, one fused multiply-add per lane. Kernels is built for AVX2 + FMA on x86-64
/// (Package.swift `kernelsCPU`), where this is one `vfmadd` per 8 floats; ARM64 has FMA too.
@inline(__always)
func fusedMultiplyAdd(_ acc: SIMD8<Float>, _ w: SIMD8<Float>, _ x: SIMD8<Float>) -> SIMD8<Float> {
    acc.addingProduct(w, x)
}

/// Combine `2r+1` lines (pointers indexed -r...r around `lines`) into up to three outputs at once:
/// slot 0 and slot 2 use even (symmetric) weights, slot 1 odd (antisymmetric) weights, which
/// is how Gaussian orders 0, 2 and 1 are shaped. Each pair of loads `(+j, -j)` is shared by all
/// outputs as a sum (even) and a difference (odd).
///
/// The loops are shaped by FMA latency (about 5 cycles) rather than by arithmetic: one
/// accumulator chain per 8 floats would stall on every tap, so the one-output loop keeps eight
/// independent chains (32 floats x even/odd taps) and the multi-output loop two per output
/// (16 floats); what is left is bound by the two loads per cycle.
@inline(never)
func combineLines<S: OrderSlots>(_ slots: S.Type, _ lines: UnsafePointer<UnsafePointer<Float>>, radius r: Int, count n: Int,
                                 _ weights: AxisWeights, _ out0: UnsafeMutablePointer<Float>,
                                 _ out1: UnsafeMutablePointer<Float>, _ out2: UnsafeMutablePointer<Float>) {
    let w0 = UnsafePointer(weights.w0), w1 = UnsafePointer(weights.w1), w2 = UnsafePointer(weights.w2)
    // Pre-broadcast weights: one vector load per tap instead of a scalar load + shuffle.
    let v0 = UnsafePointer(weights.v0), v1 = UnsafePointer(weights.v1), v2 = UnsafePointer(weights.v2)
    let has0 = S.has0, has1 = S.has1, has2 = S.has2
    let outputs = (has0 ? 1 : 0) + (has1 ? 1 : 0) + (has2 ? 1 : 0)
    let zero = SIMD8<Float>(repeating: 0)
    var v = 0
    let center = lines[0]
    if outputs == 1 {
        let wv = has0 ? v0 : (has1 ? v1 : v2)
        let out = has0 ? out0 : (has1 ? out1 : out2)
        /// The pair of taps `(+j, -j)` at float offset `o`: sum (even weights) or difference (odd).
        @inline(__always) func pair(_ p: UnsafePointer<Float>, _ m: UnsafePointer<Float>, _ o: Int) -> SIMD8<Float> {
            has1 ? loadVector(p + o) - loadVector(m + o) : loadVector(p + o) + loadVector(m + o)
        }
        while v &+ 32 <= n {
            // a*: centre and odd-numbered taps; b*: even-numbered taps (independent chains).
            var a0 = zero, a1 = zero, a2 = zero, a3 = zero
            var b0 = zero, b1 = zero, b2 = zero, b3 = zero
            if !has1 {
                let t = wv[0], c = center + v
                a0 = t * loadVector(c); a1 = t * loadVector(c + 8); a2 = t * loadVector(c + 16); a3 = t * loadVector(c + 24)
            }
            var j = 1
            while j &+ 1 <= r {
                let p = lines[j] + v, m = lines[-j] + v, t = wv[j]
                a0 = fusedMultiplyAdd(a0, t, pair(p, m, 0)); a1 = fusedMultiplyAdd(a1, t, pair(p, m, 8))
                a2 = fusedMultiplyAdd(a2, t, pair(p, m, 16)); a3 = fusedMultiplyAdd(a3, t, pair(p, m, 24))
                let q = lines[j &+ 1] + v, k = lines[-(j &+ 1)] + v, u = wv[j &+ 1]
                b0 = fusedMultiplyAdd(b0, u, pair(q, k, 0)); b1 = fusedMultiplyAdd(b1, u, pair(q, k, 8))
                b2 = fusedMultiplyAdd(b2, u, pair(q, k, 16)); b3 = fusedMultiplyAdd(b3, u, pair(q, k, 24))
                j &+= 2
            }
            if j <= r {
                let p = lines[j] + v, m = lines[-j] + v, t = wv[j]
                a0 = fusedMultiplyAdd(a0, t, pair(p, m, 0)); a1 = fusedMultiplyAdd(a1, t, pair(p, m, 8))
                a2 = fusedMultiplyAdd(a2, t, pair(p, m, 16)); a3 = fusedMultiplyAdd(a3, t, pair(p, m, 24))
            }
            storeVector(a0 + b0, out + v); storeVector(a1 + b1, out + v + 8)
            storeVector(a2 + b2, out + v + 16); storeVector(a3 + b3, out + v + 24)
            v &+= 32
        }
    } else {
        // Two vectors per output: 4 or 6 independent chains sharing each pair's loads.
        while v &+ 16 <= n {
            let c0 = loadVector(center + v), c1 = loadVector(center + v + 8)
            var a00 = v0[0] * c0, a01 = v0[0] * c1
            var a10 = zero, a11 = zero
            var a20 = v2[0] * c0, a21 = v2[0] * c1
            var j = 1
            while j <= r {
                let p = lines[j] + v, m = lines[-j] + v
                let p0 = loadVector(p), p1 = loadVector(p + 8), m0 = loadVector(m), m1 = loadVector(m + 8)
                if has0 || has2 {
                    let s0 = p0 + m0, s1 = p1 + m1
                    if has0 { let t = v0[j]; a00 = fusedMultiplyAdd(a00, t, s0); a01 = fusedMultiplyAdd(a01, t, s1) }
                    if has2 { let t = v2[j]; a20 = fusedMultiplyAdd(a20, t, s0); a21 = fusedMultiplyAdd(a21, t, s1) }
                }
                if has1 { let t = v1[j]; a10 = fusedMultiplyAdd(a10, t, p0 - m0); a11 = fusedMultiplyAdd(a11, t, p1 - m1) }
                j &+= 1
            }
            if has0 { storeVector(a00, out0 + v); storeVector(a01, out0 + v + 8) }
            if has1 { storeVector(a10, out1 + v); storeVector(a11, out1 + v + 8) }
            if has2 { storeVector(a20, out2 + v); storeVector(a21, out2 + v + 8) }
            v &+= 16
        }
    }
    while v &+ 8 <= n {
        let c0 = loadVector(center + v)
        var a0 = v0[0] * c0
        var a1 = zero
        var a2 = v2[0] * c0
        var j = 1
        while j <= r {
            let p0 = loadVector(lines[j] + v), m0 = loadVector(lines[-j] + v)
            if has0 || has2 {
                let s0 = p0 + m0
                if has0 { a0 = fusedMultiplyAdd(a0, v0[j], s0) }
                if has2 { a2 = fusedMultiplyAdd(a2, v2[j], s0) }
            }
            if has1 { a1 = fusedMultiplyAdd(a1, v1[j], p0 - m0) }
            j &+= 1
        }
        if has0 { storeVector(a0, out0 + v) }
        if has1 { storeVector(a1, out1 + v) }
        if has2 { storeVector(a2, out2 + v) }
        v &+= 8
    }
    while v < n {
        let c = center[v]
        var a0 = w0[0] * c, a1: Float = 0, a2 = w2[0] * c
        var j = 1
        while j <= r {
            let p = lines[j][v], m = lines[-j][v]
            a0 += w0[j] * (p + m); a2 += w2[j] * (p + m); a1 += w1[j] * (p - m)
            j += 1
        }
        if has0 { out0[v] = a0 }
        if has1 { out1[v] = a1 }
        if has2 { out2[v] = a2 }
        v += 1
    }
}

/// One output order on two neighbouring output lines that share `2r` of their input lines:
/// `outA` from `lines[0...2r]` (centre `lines[r]`), `outB` from `lines[1...2r+1]` (centre
/// `lines[r+1]`). Each input vector is loaded once for both outputs, carried in registers from
/// one tap to the next: the vertical (z, y) passes were bound by loads, two per tap and vector.
/// Same sums as `combineLines` (pair sums for even orders, differences for order 1).
@inline(never)
func combineLinePairs<S: OrderSlots>(_ slots: S.Type, _ lines: UnsafePointer<UnsafePointer<Float>>, radius r: Int,
                                     count n: Int, _ weights: AxisWeights,
                                     _ outA: UnsafeMutablePointer<Float>, _ outB: UnsafeMutablePointer<Float>) {
    let odd = S.has1
    let wv = UnsafePointer(S.has0 ? weights.v0 : (S.has1 ? weights.v1 : weights.v2))
    let ws = UnsafePointer(S.has0 ? weights.w0 : (S.has1 ? weights.w1 : weights.w2))
    let zero = SIMD8<Float>(repeating: 0)
    @inline(__always) func pair(_ p: SIMD8<Float>, _ m: SIMD8<Float>) -> SIMD8<Float> { odd ? p - m : p + m }
    var v = 0
    while v &+ 16 <= n {
        let cA0 = loadVector(lines[r] + v), cA1 = loadVector(lines[r] + v + 8)
        let cB0 = loadVector(lines[r &+ 1] + v), cB1 = loadVector(lines[r &+ 1] + v + 8)
        var a0 = zero, a1 = zero, b0 = zero, b1 = zero
        if !odd { let t = wv[0]; a0 = t * cA0; a1 = t * cA1; b0 = t * cB0; b1 = t * cB1 }
        // Tap j: A uses lines r+j, r-j; B uses r+1+j, r+1-j. New loads: r+1+j (B now, A next
        // tap) and r-j (A now, B next tap).
        var hi0 = cB0, hi1 = cB1, lo0 = cA0, lo1 = cA1
        var j = 1
        while j <= r {
            let up = lines[r &+ 1 &+ j] + v, down = lines[r &- j] + v
            let nh0 = loadVector(up), nh1 = loadVector(up + 8)
            let nl0 = loadVector(down), nl1 = loadVector(down + 8)
            let t = wv[j]
            a0 = fusedMultiplyAdd(a0, t, pair(hi0, nl0)); a1 = fusedMultiplyAdd(a1, t, pair(hi1, nl1))
            b0 = fusedMultiplyAdd(b0, t, pair(nh0, lo0)); b1 = fusedMultiplyAdd(b1, t, pair(nh1, lo1))
            hi0 = nh0; hi1 = nh1; lo0 = nl0; lo1 = nl1
            j &+= 1
        }
        storeVector(a0, outA + v); storeVector(a1, outA + v + 8)
        storeVector(b0, outB + v); storeVector(b1, outB + v + 8)
        v &+= 16
    }
    while v < n {
        var a: Float = odd ? 0 : ws[0] * lines[r][v]
        var b: Float = odd ? 0 : ws[0] * lines[r &+ 1][v]
        var j = 1
        while j <= r {
            let t = ws[j]
            a += t * (odd ? lines[r + j][v] - lines[r - j][v] : lines[r + j][v] + lines[r - j][v])
            b += t * (odd ? lines[r + 1 + j][v] - lines[r + 1 - j][v] : lines[r + 1 + j][v] + lines[r + 1 - j][v])
            j += 1
        }
        outA[v] = a; outB[v] = b
        v += 1
    }
}

/// One output order on four neighbouring output lines: `out[o]` from `lines[o ... o + 2r]`
/// (centre `lines[r + o]`), o = 0..<4. As in `combineLinePairs` each input vector is loaded once
/// and carried in registers from tap to tap: tap j needs rows `r + o + j` ("up") and `r + o - j`
/// ("down") for the four outputs, three of each were loaded at tap j - 1, so a tap costs two
/// loads for four outputs (`combineLinePairs`: two for two). The z-pass reads its input rows from
/// L3 (a 17-row window of a 512-column tile is about 2 MB), where half the loads is what counts.
/// One vector wide: 4 accumulators + 8 carried rows fit the 16 AVX registers.
@inline(never)
func combineLineQuads<S: OrderSlots>(_ slots: S.Type, _ lines: UnsafePointer<UnsafePointer<Float>>, radius r: Int,
                                     count n: Int, _ weights: AxisWeights,
                                     _ out: UnsafePointer<UnsafeMutablePointer<Float>>) {
    let odd = S.has1
    let wv = UnsafePointer(S.has0 ? weights.v0 : (S.has1 ? weights.v1 : weights.v2))
    let ws = UnsafePointer(S.has0 ? weights.w0 : (S.has1 ? weights.w1 : weights.w2))
    let zero = SIMD8<Float>(repeating: 0)
    @inline(__always) func pair(_ p: SIMD8<Float>, _ m: SIMD8<Float>) -> SIMD8<Float> { odd ? p - m : p + m }
    let o0 = out[0], o1 = out[1], o2 = out[2], o3 = out[3]
    var v = 0
    while v &+ 8 <= n {
        let c0 = loadVector(lines[r] + v), c1 = loadVector(lines[r &+ 1] + v)
        let c2 = loadVector(lines[r &+ 2] + v), c3 = loadVector(lines[r &+ 3] + v)
        var a0 = zero, a1 = zero, a2 = zero, a3 = zero
        if !odd { let t = wv[0]; a0 = t * c0; a1 = t * c1; a2 = t * c2; a3 = t * c3 }
        var u0 = c0, u1 = c1, u2 = c2, u3 = c3   // rows r + o + j
        var d0 = c0, d1 = c1, d2 = c2, d3 = c3   // rows r + o - j
        var j = 1
        while j <= r {
            u0 = u1; u1 = u2; u2 = u3; u3 = loadVector(lines[r &+ 3 &+ j] + v)
            d3 = d2; d2 = d1; d1 = d0; d0 = loadVector(lines[r &- j] + v)
            let t = wv[j]
            a0 = fusedMultiplyAdd(a0, t, pair(u0, d0)); a1 = fusedMultiplyAdd(a1, t, pair(u1, d1))
            a2 = fusedMultiplyAdd(a2, t, pair(u2, d2)); a3 = fusedMultiplyAdd(a3, t, pair(u3, d3))
            j &+= 1
        }
        storeVector(a0, o0 + v); storeVector(a1, o1 + v); storeVector(a2, o2 + v); storeVector(a3, o3 + v)
        v &+= 8
    }
    while v < n {
        for o in 0..<4 {
            var a: Float = odd ? 0 : ws[0] * lines[r + o][v]
            var j = 1
            while j <= r {
                let p = lines[r + o + j][v], m = lines[r + o - j][v]
                a += ws[j] * (odd ? p - m : p + m)
                j += 1
            }
            out[o][v] = a
        }
        v += 1
    }
}

/// `combineLineQuads` for the one order slot that is given.
@inline(__always)
func combineLineQuads(_ lines: UnsafePointer<UnsafePointer<Float>>, radius r: Int, count n: Int,
                      weights w: AxisWeights, order: Int, _ out: UnsafePointer<UnsafeMutablePointer<Float>>) {
    switch order {
    case 0: combineLineQuads(Slots0.self, lines, radius: r, count: n, w, out)
    case 1: combineLineQuads(Slots1.self, lines, radius: r, count: n, w, out)
    default: combineLineQuads(Slots2.self, lines, radius: r, count: n, w, out)
    }
}

/// `combineLinePairs` for the one order slot that is given.
@inline(__always)
func combineLinePairs(_ lines: UnsafePointer<UnsafePointer<Float>>, radius r: Int, count n: Int,
                      weights w: AxisWeights, order: Int,
                      _ outA: UnsafeMutablePointer<Float>, _ outB: UnsafeMutablePointer<Float>) {
    switch order {
    case 0: combineLinePairs(Slots0.self, lines, radius: r, count: n, w, outA, outB)
    case 1: combineLinePairs(Slots1.self, lines, radius: r, count: n, w, outA, outB)
    default: combineLinePairs(Slots2.self, lines, radius: r, count: n, w, outA, outB)
    }
}

/// Dispatch on which of the three order slots are wanted.
@inline(__always)
func combineLines(_ lines: UnsafePointer<UnsafePointer<Float>>, radius r: Int, count n: Int,
                  weights w: AxisWeights, outputs o: (UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?)) {
    let d = w.dummy
    let o0 = o.0 ?? d, o1 = o.1 ?? d, o2 = o.2 ?? d
    switch (o.0 != nil, o.1 != nil, o.2 != nil) {
    case (true, false, false): combineLines(Slots0.self, lines, radius: r, count: n, w, o0, o1, o2)
    case (false, true, false): combineLines(Slots1.self, lines, radius: r, count: n, w, o0, o1, o2)
    case (false, false, true): combineLines(Slots2.self, lines, radius: r, count: n, w, o0, o1, o2)
    case (true, true, false): combineLines(Slots01.self, lines, radius: r, count: n, w, o0, o1, o2)
    case (true, false, true): combineLines(Slots02.self, lines, radius: r, count: n, w, o0, o1, o2)
    case (false, true, true): combineLines(Slots12.self, lines, radius: r, count: n, w, o0, o1, o2)
    case (true, true, true): combineLines(Slots012.self, lines, radius: r, count: n, w, o0, o1, o2)
    case (false, false, false): break
    }
}

/// The three Gaussian orders' half weights along one axis, in stable storage.
final class AxisWeights {
    let radius: Int
    let sigmaVoxels: Double
    let w0: UnsafeMutablePointer<Float>
    let w1: UnsafeMutablePointer<Float>
    let w2: UnsafeMutablePointer<Float>
    /// The same weights broadcast to vectors.
    let v0: UnsafeMutablePointer<SIMD8<Float>>
    let v1: UnsafeMutablePointer<SIMD8<Float>>
    let v2: UnsafeMutablePointer<SIMD8<Float>>
    /// Never read; a sink for unused outputs (never written either: unused slots are skipped).
    let dummy: UnsafeMutablePointer<Float>

    init(sigmaVoxels: Double, truncate: Double) {
        self.sigmaVoxels = sigmaVoxels
        let k = (0...2).map { GaussianKernel1D(sigmaVoxels: sigmaVoxels, order: $0, truncate: truncate) }
        radius = k[0].radius
        func copy(_ a: [Float]) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: a.count)
            p.initialize(from: a, count: a.count)
            return p
        }
        w0 = copy(k[0].halfWeights); w1 = copy(k[1].halfWeights); w2 = copy(k[2].halfWeights)
        func broadcast(_ a: [Float]) -> UnsafeMutablePointer<SIMD8<Float>> {
            let p = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: a.count)
            p.initialize(from: a.map { SIMD8<Float>(repeating: $0) }, count: a.count)
            return p
        }
        v0 = broadcast(k[0].halfWeights); v1 = broadcast(k[1].halfWeights); v2 = broadcast(k[2].halfWeights)
        dummy = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    }

    deinit {
        w0.deallocate(); w1.deallocate(); w2.deallocate()
        v0.deallocate(); v1.deallocate(); v2.deallocate(); dummy.deallocate()
    }
}

// MARK: - The tiled engine

/// Which derivative triples (order along z, y, x) a separable pass produces per voxel.
struct DerivativeTriple: Hashable {
    var z: Int, y: Int, x: Int
}

/// Hands coarse work units to the Dispatch workers one at a time (first come, first served),
/// so a worker slowed by the rest of the machine does not hold up the pass. Units are few
/// (tens), so one lock per unit costs nothing measurable.
final class WorkUnitQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private let count: Int
    init(count: Int) { self.count = count }
    func take() -> Int? {
        lock.lock(); defer { lock.unlock() }
        if next >= count { return nil }
        next += 1
        return next - 1
    }
}

/// Runs separable Gaussian-derivative filtering in cache-sized tiles, one pass over memory:
/// every input voxel is read from DRAM about once (plus a tile halo) and every output voxel
/// written once; there is no full-size or slab-size intermediate.
///
/// Work unit: a chunk of slices `[z0, z1)` x a tile of output rows `[y0, y1)`. A worker walks
/// the chunk's slices in order; for each slice:
///
/// 1. z-pass of the tile's rows plus a halo of `ry` rows each side (rows reflected at the
///    volume edge), for every needed z order, into a small per-worker tile buffer. The
///    `2 rz + 1` input rows of each tile row were mostly read for the previous slice, so they
///    come from cache (tile rows x (2 rz + 1) input rows are sized to stay in L2/L3).
/// 2. Per output row: the y-pass of the tile buffer (all needed y orders of one z order from
///    the same loads) into padded row buffers, reflect padding, then the x-pass (all needed
///    x orders from the same loads) into the derivative rows, which `finish` receives while
///    they are in L1 (or, for one plain output, straight into the destination).
///
/// Compared with z, x, y over a slab buffer this removes two full-volume memory passes and the
/// slab's page faults; the price is recomputing the z-pass on `2 ry` halo rows per tile.
struct SeparableEngine {
    let triples: [DerivativeTriple]
    let zWeights: AxisWeights, yWeights: AxisWeights, xWeights: AxisWeights
    let context: KernelContext
    let spanName: String
    /// Output rows per tile; nil: from `tileCacheBytes`.
    var tileRows: Int?
    /// Slices per work unit; nil: the volume split into about two units per worker (per
    /// tile). A chunk's slices are complete only when all its tiles are done; callers that
    /// stream per slice set this and use `run(..., chunkDone:)`.
    var zChunk: Int?
    /// Cache budget (bytes) for one tile's working set: the z-pass's input rows
    /// (`(2 rz + 1) x (tile + 2 ry)` rows) - L3 share per worker.
    var tileCacheBytes = 2 << 20

    init(triples: [DerivativeTriple], sigmaVoxels: (x: Double, y: Double, z: Double),
         truncate: Double = GaussianKernel1D.defaultTruncate, context: KernelContext, spanName: String) {
        self.triples = triples
        self.xWeights = AxisWeights(sigmaVoxels: sigmaVoxels.x, truncate: truncate)
        self.yWeights = AxisWeights(sigmaVoxels: sigmaVoxels.y, truncate: truncate)
        self.zWeights = AxisWeights(sigmaVoxels: sigmaVoxels.z, truncate: truncate)
        self.context = context
        self.spanName = spanName
    }

    /// Rows per tile for a volume of `rows` x `columns` (balanced: tiles of equal height).
    func tileHeight(rows ny: Int, columns nx: Int) -> Int {
        let rz = zWeights.radius, ry = yWeights.radius
        var b: Int
        if let t = tileRows {
            b = t
        } else {
            let rowBytes = Swift.max(1, nx * 4)
            b = tileCacheBytes / ((2 * rz + 1) * rowBytes) - 2 * ry
            b = Swift.max(b, 2 * ry, 16)
        }
        b = Swift.max(1, Swift.min(b, ny))
        let tiles = (ny + b - 1) / b
        return (ny + tiles - 1) / tiles
    }

    /// Slices per work unit.
    func chunkSlices(slices nz: Int, tiles: Int) -> Int {
        if let c = zChunk { return Swift.max(1, Swift.min(c, nz)) }
        // Enough units for balance (about 3 per worker), chunks as long as possible (the
        // z-window warm-up re-reads 2 rz slices per chunk and tile).
        let wantedUnits = 3 * context.workers
        let chunks = Swift.max(1, Swift.min(nz, (wantedUnits + tiles - 1) / tiles))
        return (nz + chunks - 1) / chunks
    }

    /// `finish(worker, slice, row, derivativeRows)` receives one row (`columns` floats) per
    /// requested triple, in `triples` order; called concurrently for different rows, and for
    /// one (chunk, tile) unit in slice-then-row order. `chunkDone(worker, slices)` (if given)
    /// is called once every row of those slices has been finished, by the worker that
    /// finished the chunk (units are then whole chunks, all tiles).
    /// With `directOutput` (one triple only), rows go straight to
    /// `directOutput + (slice * rows + row) * columns` and `finish` is not called.
    func run(_ source: VoxelSource, directOutput: UnsafeMutablePointer<Float>? = nil,
             chunkDone: ((_ worker: Int, _ slices: Range<Int>) -> Void)? = nil,
             finish: (_ worker: Int, _ slice: Int, _ row: Int, _ rows: UnsafePointer<UnsafeMutablePointer<Float>>) -> Void) {
        let nx = source.columns, ny = source.rows, nz = source.slices
        if nx == 0 || ny == 0 || nz == 0 { return }
        precondition(directOutput == nil || triples.count == 1, "direct output needs exactly one triple")
        let rz = zWeights.radius, ry = yWeights.radius, rx = xWeights.radius

        // The plan: z orders (tile buffer slots), (z, y) order pairs (padded rows), and per
        // pair the triples its x-pass produces.
        let zOrders = Array(Set(triples.map(\.z))).sorted()
        var zyPairs: [(z: Int, y: Int)] = []
        for t in triples where !zyPairs.contains(where: { $0.z == t.z && $0.y == t.y }) { zyPairs.append((t.z, t.y)) }
        // z-pass outputs: tile-buffer slot per z order (order 0, 1, 2 -> slot or nil).
        let zSlot: [Int?] = (0...2).map { zOrders.firstIndex(of: $0) }
        // y-pass calls: per z order, the pair index receiving y orders 0, 1, 2.
        let yCalls: [(slot: Int, outs: [Int?])] = zOrders.enumerated().map { slot, oz in
            (slot, (0...2).map { oy in zyPairs.firstIndex(where: { $0.z == oz && $0.y == oy }) })
        }
        // x-pass calls: per pair, the triple index receiving x orders 0, 1, 2.
        let xCalls: [[Int?]] = zyPairs.map { p in
            (0...2).map { ox in triples.firstIndex(of: DerivativeTriple(z: p.z, y: p.y, x: ox)) }
        }

        let tile = tileHeight(rows: ny, columns: nx)
        let tileCount = (ny + tile - 1) / tile
        let chunk = chunkSlices(slices: nz, tiles: tileCount)
        let chunkCount = (nz + chunk - 1) / chunk
        let haloRows = tile + 2 * ry
        let paddedLength = nx + 2 * rx
        let workers = Swift.min(context.workers, chunkDone == nil ? chunkCount * tileCount : chunkCount)

        // Per-worker scratch, allocated once per call.
        let zBufferFloats = zOrders.count * haloRows * nx
        // Four sets when there is one z order (slices z ..< z + 4 in the z-pass's slice quads).
        let zSets = zOrders.count == 1 ? 4 : 1
        let zBuffers = UnsafeMutablePointer<Float>.allocate(capacity: workers * zSets * zBufferFloats)
        defer { zBuffers.deallocate() }
        let padFloats = zyPairs.count * paddedLength
        let padRows = UnsafeMutablePointer<Float>.allocate(capacity: workers * 2 * padFloats)
        defer { padRows.deallocate() }
        let dRows = UnsafeMutablePointer<Float>.allocate(capacity: workers * triples.count * nx)
        defer { dRows.deallocate() }
        let dRowPointers = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: workers * triples.count)
        defer { dRowPointers.deallocate() }
        for w in 0..<workers {
            for t in 0..<triples.count { dRowPointers[w * triples.count + t] = dRows + (w * triples.count + t) * nx }
        }
        let maxR = Swift.max(rz, ry)
        let linePointers = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: workers * (2 * maxR + 4))
        defer { linePointers.deallocate() }
        let slicePointers = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: workers * (2 * rz + 4))
        defer { slicePointers.deallocate() }
        let quadOutputs = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: workers * 4)
        defer { quadOutputs.deallocate() }
        // x-pass line pointers: for pair p, tap j -> its padded row + rx + j.
        let xLineCount = 2 * rx + 1
        let xLines = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: workers * 2 * zyPairs.count * xLineCount)
        defer { xLines.deallocate() }
        for w in 0..<(2 * workers) {
            for p in 0..<zyPairs.count {
                let row = padRows + w * padFloats + p * paddedLength + rx
                for j in -rx...rx { xLines[(w * zyPairs.count + p) * xLineCount + rx + j] = UnsafePointer(row + j) }
            }
        }

        let zw = zWeights, yw = yWeights, xw = xWeights
        let tripleCount = triples.count

        /// One tile of rows over the slices of one chunk.
        func process(worker: Int, slices: Range<Int>, tileIndex: Int) {
            let y0 = tileIndex * tile, y1 = Swift.min(ny, y0 + tile)
            let h0 = y0 - ry, h1 = y1 + ry
            let zBufPair = zBuffers + worker * zSets * zBufferFloats
            let lines = linePointers + worker * (2 * maxR + 4)
            let slicePtr = slicePointers + worker * (2 * rz + 4)
            let quadOut = quadOutputs + worker * 4
            let rowPtrs = dRowPointers + worker * tripleCount

            /// y-pass, reflect padding, x-pass and finish of rows y0..<y1 of slice z from its
            /// z-pass buffer. Rows go in pairs through `combineLinePairs` where a y-call has one output.
            func rowsOfSlice(_ z: Int, _ zBuf: UnsafeMutablePointer<Float>) {
                var y = y0
                while y < y1 {
                    let two = y + 1 < y1
                    for call in yCalls {
                        let base = zBuf + call.slot * haloRows * nx + (y - h0 - ry) * nx
                        let single = call.outs.compactMap { $0 }.count == 1
                        if two && single {
                            for k in 0...(2 * ry + 1) { lines[k] = UnsafePointer(base + k * nx) }
                            let order = call.outs.firstIndex { $0 != nil }!
                            let p = call.outs[order]!
                            combineLinePairs(UnsafePointer(lines), radius: ry, count: nx, weights: yw, order: order,
                                             padRows + (2 * worker) * padFloats + p * paddedLength + rx,
                                             padRows + (2 * worker + 1) * padFloats + p * paddedLength + rx)
                        } else {
                            for half in 0..<(two ? 2 : 1) {
                                let pads = padRows + (2 * worker + half) * padFloats
                                for k in 0...(2 * ry) { lines[k] = UnsafePointer(base + (k + half) * nx) }
                                combineLines(UnsafePointer(lines + ry), radius: ry, count: nx, weights: yw,
                                             outputs: (call.outs[0].map { pads + $0 * paddedLength + rx },
                                                       call.outs[1].map { pads + $0 * paddedLength + rx },
                                                       call.outs[2].map { pads + $0 * paddedLength + rx }))
                            }
                        }
                    }
                    for half in 0..<(two ? 2 : 1) {
                        let row = y + half
                        let pads = padRows + (2 * worker + half) * padFloats
                        let xl = xLines + (2 * worker + half) * zyPairs.count * xLineCount + rx
                        if let directOutput { rowPtrs[0] = directOutput + (z * ny + row) * nx }
                        for (p, outs) in xCalls.enumerated() {
                            let padded = pads + p * paddedLength + rx
                            // Reflect padding for the x-pass.
                            var k = 1
                            while k <= rx {
                                padded[-k] = padded[reflectIndex(-k, nx)]
                                padded[nx - 1 + k] = padded[reflectIndex(nx - 1 + k, nx)]
                                k += 1
                            }
                            combineLines(UnsafePointer(xl + p * xLineCount), radius: rx, count: nx, weights: xw,
                                         outputs: (outs[0].map { rowPtrs[$0] }, outs[1].map { rowPtrs[$0] },
                                                   outs[2].map { rowPtrs[$0] }))
                        }
                        if directOutput == nil { finish(worker, z, row, UnsafePointer(rowPtrs)) }
                    }
                    y += two ? 2 : 1
                }
            }

            var z = slices.lowerBound
            while z < slices.upperBound {
                // One z order: slices z ..< z + 4 (or z, z + 1) together (shared input rows loaded once).
                let four = zOrders.count == 1 && z + 3 < slices.upperBound
                let two = !four && zOrders.count == 1 && z + 1 < slices.upperBound
                let extra = four ? 3 : (two ? 1 : 0)
                for k in 0...(2 * rz + extra) { slicePtr[k] = source.base + reflectIndex(z - rz + k, nz) * source.sliceStride }
                // 1. z-pass of the tile rows and their halo.
                for yy in h0..<h1 {
                    let rowOffset = reflectIndex(yy, ny) * source.rowStride
                    for k in 0...(2 * rz + extra) { lines[k] = slicePtr[k] + rowOffset }
                    let o = (yy - h0) * nx
                    if four {
                        for q in 0..<4 { quadOut[q] = zBufPair + q * zBufferFloats + o }
                        combineLineQuads(UnsafePointer(lines), radius: rz, count: nx, weights: zw, order: zOrders[0],
                                         UnsafePointer(quadOut))
                    } else if two {
                        combineLinePairs(UnsafePointer(lines), radius: rz, count: nx, weights: zw, order: zOrders[0],
                                         zBufPair + o, zBufPair + zBufferFloats + o)
                    } else {
                        combineLines(UnsafePointer(lines + rz), radius: rz, count: nx, weights: zw,
                                     outputs: (zSlot[0].map { zBufPair + $0 * haloRows * nx + o },
                                               zSlot[1].map { zBufPair + $0 * haloRows * nx + o },
                                               zSlot[2].map { zBufPair + $0 * haloRows * nx + o }))
                    }
                }
                // 2. y-pass, padding, x-pass, per output row.
                for q in 0...extra { rowsOfSlice(z + q, zBufPair + q * zBufferFloats) }
                z += extra + 1
            }
        }

        let voxels = nx * ny * nz
        let bytes = (voxels * (haloRows * tileCount) / ny + voxels * triples.count) * 4
        let flops = voxels * 2 * (zOrders.count * (rz + 1) * haloRows * tileCount / ny
                                  + zyPairs.count * (ry + 1) + triples.count * (rx + 1))
        Profiler.span(spanName + ".separable", voxels: voxels, bytesMoved: bytes, flops: flops) {
            let units = WorkUnitQueue(count: chunkDone == nil ? chunkCount * tileCount : chunkCount)
            context.parallelRanges(workers) { worker, _ in
                while let u = units.take() {
                    if let chunkDone {
                        let slices = (u * chunk)..<Swift.min(nz, (u + 1) * chunk)
                        for t in 0..<tileCount { process(worker: worker, slices: slices, tileIndex: t) }
                        chunkDone(worker, slices)
                    } else {
                        let c = u / tileCount, t = u % tileCount
                        process(worker: worker, slices: (c * chunk)..<Swift.min(nz, (c + 1) * chunk), tileIndex: t)
                    }
                }
            }
        }
    }
}
