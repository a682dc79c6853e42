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

/// Combine `2r+1` lines (pointers indexed -r...r around `lines`) into up to three outputs at once:
/// slot 0 and slot 2 use even (symmetric) weights, slot 1 odd (antisymmetric) weights, which
/// is how Gaussian orders 0, 2 and 1 are shaped. Each pair of loads `(+j, -j)` is shared by all
/// outputs as a sum (even) and a difference (odd).
@inline(never)
func combineLines<S: OrderSlots>(_ slots: S.Type, _ lines: UnsafePointer<UnsafePointer<Float>>, radius r: Int, count n: Int,
                                 _ weights: AxisWeights, _ out0: UnsafeMutablePointer<Float>,
                                 _ out1: UnsafeMutablePointer<Float>, _ out2: UnsafeMutablePointer<Float>) {
    let w0 = UnsafePointer(weights.w0), w1 = UnsafePointer(weights.w1), w2 = UnsafePointer(weights.w2)
    // Pre-broadcast weights: one vector load per tap instead of a scalar load + shuffle.
    let v0 = UnsafePointer(weights.v0), v1 = UnsafePointer(weights.v1), v2 = UnsafePointer(weights.v2)
    let has0 = S.has0, has1 = S.has1, has2 = S.has2
    let outputs = (has0 ? 1 : 0) + (has1 ? 1 : 0) + (has2 ? 1 : 0)
    var v = 0
    let center = lines[0]
    // Two vectors per iteration for one output (more independent adds); one vector otherwise
    // so the accumulators stay in registers.
    if outputs == 1 {
        let wv = has0 ? v0 : (has1 ? v1 : v2)
        let out = has0 ? out0 : (has1 ? out1 : out2)
        while v + 16 <= n {
            var a: SIMD8<Float>, b: SIMD8<Float>
            if has1 {
                a = SIMD8<Float>(repeating: 0); b = a
            } else {
                let t = wv[0]
                a = t * loadVector(center + v); b = t * loadVector(center + v + 8)
            }
            var j = 1
            while j <= r {
                let p = lines[j] + v, m = lines[-j] + v
                let t = wv[j]
                if has1 {
                    a += t * (loadVector(p) - loadVector(m)); b += t * (loadVector(p + 8) - loadVector(m + 8))
                } else {
                    a += t * (loadVector(p) + loadVector(m)); b += t * (loadVector(p + 8) + loadVector(m + 8))
                }
                j += 1
            }
            storeVector(a, out + v); storeVector(b, out + v + 8)
            v += 16
        }
    }
    while v + 8 <= n {
        let c0 = loadVector(center + v)
        var a0 = v0[0] * c0
        var a1 = SIMD8<Float>(repeating: 0)
        var a2 = v2[0] * c0
        var j = 1
        while j <= r {
            let p0 = loadVector(lines[j] + v), m0 = loadVector(lines[-j] + v)
            if has0 || has2 {
                let s0 = p0 + m0
                if has0 { a0 += v0[j] * s0 }
                if has2 { a2 += v2[j] * s0 }
            }
            if has1 { a1 += v1[j] * (p0 - m0) }
            j += 1
        }
        if has0 { storeVector(a0, out0 + v) }
        if has1 { storeVector(a1, out1 + v) }
        if has2 { storeVector(a2, out2 + v) }
        v += 8
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

// MARK: - The slab engine

/// Which derivative triples (order along z, y, x) a separable pass produces per voxel.
struct DerivativeTriple: Hashable {
    var z: Int, y: Int, x: Int
}

/// Runs separable Gaussian-derivative filtering in z-slabs so only a bounded amount of
/// intermediate data exists at once:
///
/// - Stage A (parallel over row bands; each band walks the slab's slices so the `2rz+1` input
///   rows it needs stay in L2): z-pass of the input rows for every needed z order, immediately
///   followed by the x-pass of that row while it is in L1, into slab buffers (one per
///   (z order, x order) pair, `slabSlices` slices each).
/// - Stage B (parallel over the slab's slices): y-pass of each row for every requested triple
///   into per-worker row buffers, then `finish(slice, row, rows)` turns those rows into outputs.
///
/// Memory: the slab buffers (`pairs x slabSlices x rows x columns` floats, about 128 MB at most)
/// plus per-worker rows; never a full-size intermediate volume.
struct SeparableEngine {
    let triples: [DerivativeTriple]
    let zWeights: AxisWeights, yWeights: AxisWeights, xWeights: AxisWeights
    let context: KernelContext
    let spanName: String
    /// Byte budget for the slab buffers.
    var slabBudgetBytes = 128 << 20

    init(triples: [DerivativeTriple], sigmaVoxels: (x: Double, y: Double, z: Double),
         truncate: Double = GaussianKernel1D.defaultTruncate, context: KernelContext, spanName: String) {
        self.triples = triples
        self.xWeights = AxisWeights(sigmaVoxels: sigmaVoxels.x, truncate: truncate)
        self.yWeights = AxisWeights(sigmaVoxels: sigmaVoxels.y, truncate: truncate)
        self.zWeights = AxisWeights(sigmaVoxels: sigmaVoxels.z, truncate: truncate)
        self.context = context
        self.spanName = spanName
    }

    /// `finish(worker, slice, row, derivativeRows)` receives one row (`columns` floats) per
    /// requested triple, in `triples` order. Called concurrently for different rows.
    func run(_ source: VoxelSource,
             finish: (_ worker: Int, _ slice: Int, _ row: Int, _ rows: UnsafePointer<UnsafeMutablePointer<Float>>) -> Void) {
        let nx = source.columns, ny = source.rows, nz = source.slices
        if nx == 0 || ny == 0 || nz == 0 { return }
        let plane = nx * ny
        let rz = zWeights.radius, ry = yWeights.radius, rx = xWeights.radius

        // (z order, x order) pairs -> slab buffer index; z orders needed.
        var pairs: [DerivativeTriple] = []   // y unused (0)
        for t in triples {
            let p = DerivativeTriple(z: t.z, y: 0, x: t.x)
            if !pairs.contains(p) { pairs.append(p) }
        }
        let zOrders = Array(Set(pairs.map(\.z))).sorted()
        let slabSlices = Swift.max(1, Swift.min(nz, slabBudgetBytes / Swift.max(1, pairs.count * plane * 4)))
        let slab = UnsafeMutablePointer<Float>.allocate(capacity: pairs.count * slabSlices * plane)
        defer { slab.deallocate() }
        let slabStride = slabSlices * plane
        func pairIndex(z: Int, x: Int) -> Int? { pairs.firstIndex(of: DerivativeTriple(z: z, y: 0, x: x)) }

        let workers = context.workers
        // Per-worker scratch: padded z rows (3 slots), line pointer arrays, derivative rows.
        let paddedLength = nx + 2 * rx
        let zRowScratch = UnsafeMutablePointer<Float>.allocate(capacity: workers * 3 * paddedLength)
        defer { zRowScratch.deallocate() }
        let maxR = Swift.max(rz, ry, rx)
        let linePointers = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: workers * (2 * maxR + 1))
        defer { linePointers.deallocate() }
        let dRows = UnsafeMutablePointer<Float>.allocate(capacity: workers * triples.count * nx)
        defer { dRows.deallocate() }
        let dRowPointers = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: workers * triples.count)
        defer { dRowPointers.deallocate() }
        for w in 0..<workers {
            for t in 0..<triples.count { dRowPointers[w * triples.count + t] = dRows + (w * triples.count + t) * nx }
        }

        // Stage A row band: keep (2rz+1) input rows x band in about 256 KB.
        let band = Swift.max(1, (256 << 10) / ((2 * rz + 1) * nx * 4))
        let zw = zWeights, xw = xWeights, yw = yWeights
        let triplesLocal = triples

        var z0 = 0
        while z0 < nz {
            let zCount = Swift.min(slabSlices, nz - z0)
            // Stage A.
            let aBytes = (zCount + 2 * rz) * plane * 4 + pairs.count * zCount * plane * 4
            let aFlops = zCount * plane * 2 * (zOrders.count * (rz + 1) + pairs.count * (rx + 1))
            Profiler.span(spanName + ".zx", voxels: zCount * plane, bytesMoved: aBytes, flops: aFlops) {
                context.parallelRanges(ny) { worker, rowRange in
                    let lines = linePointers + worker * (2 * maxR + 1) + maxR
                    let zRows = zRowScratch + worker * 3 * paddedLength
                    let xLines = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: 3 * (2 * rx + 1))
                    defer { xLines.deallocate() }
                    for s in 0..<3 {
                        for j in -rx...rx { xLines[s * (2 * rx + 1) + rx + j] = UnsafePointer(zRows + s * paddedLength + rx + j) }
                    }
                    var bandStart = rowRange.lowerBound
                    while bandStart < rowRange.upperBound {
                        let bandEnd = Swift.min(rowRange.upperBound, bandStart + band)
                        for zl in 0..<zCount {
                            let z = z0 + zl
                            for y in bandStart..<bandEnd {
                                for j in -rz...rz {
                                    lines[j] = source.base + reflectIndex(z + j, nz) * source.sliceStride + y * source.rowStride
                                }
                                // z-pass into the padded row slots (slot = z order).
                                let has = (zOrders.contains(0), zOrders.contains(1), zOrders.contains(2))
                                combineLines(UnsafePointer(lines), radius: rz, count: nx, weights: zw,
                                             outputs: (has.0 ? zRows + rx : nil,
                                                       has.1 ? zRows + paddedLength + rx : nil,
                                                       has.2 ? zRows + 2 * paddedLength + rx : nil))
                                for oz in zOrders {
                                    let row = zRows + oz * paddedLength + rx
                                    // Reflect padding for the x-pass.
                                    var k = 1
                                    while k <= rx {
                                        row[-k] = row[reflectIndex(-k, nx)]
                                        row[nx - 1 + k] = row[reflectIndex(nx - 1 + k, nx)]
                                        k += 1
                                    }
                                    let outBase = (zl * ny + y) * nx
                                    let p0 = pairIndex(z: oz, x: 0), p1 = pairIndex(z: oz, x: 1), p2 = pairIndex(z: oz, x: 2)
                                    combineLines(UnsafePointer(xLines + oz * (2 * rx + 1) + rx), radius: rx, count: nx, weights: xw,
                                                 outputs: (p0.map { slab + $0 * slabStride + outBase },
                                                           p1.map { slab + $0 * slabStride + outBase },
                                                           p2.map { slab + $0 * slabStride + outBase }))
                                }
                            }
                        }
                        bandStart = bandEnd
                    }
                }
            }
            // Stage B.
            let bBytes = pairs.count * zCount * plane * 4 + triplesLocal.count * zCount * plane * 4
            let bFlops = zCount * plane * 2 * triplesLocal.count * (ry + 1)
            Profiler.span(spanName + ".y", voxels: zCount * plane, bytesMoved: bBytes, flops: bFlops) {
                context.parallelRanges(zCount) { worker, sliceRange in
                    let lines = linePointers + worker * (2 * maxR + 1)
                    let rowPtrs = dRowPointers + worker * triplesLocal.count
                    let center = lines + ry
                    for zl in sliceRange {
                        for y in 0..<ny {
                            for (pi, pair) in pairs.enumerated() {
                                let base = slab + pi * slabStride + zl * plane
                                for j in -ry...ry { center[j] = UnsafePointer(base + reflectIndex(y + j, ny) * nx) }
                                var outs: (UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) = (nil, nil, nil)
                                for (ti, t) in triplesLocal.enumerated() where t.z == pair.z && t.x == pair.x {
                                    switch t.y {
                                    case 0: outs.0 = rowPtrs[ti]
                                    case 1: outs.1 = rowPtrs[ti]
                                    default: outs.2 = rowPtrs[ti]
                                    }
                                }
                                combineLines(UnsafePointer(center), radius: ry, count: nx, weights: yw, outputs: outs)
                            }
                            finish(worker, z0 + zl, y, UnsafePointer(rowPtrs))
                        }
                    }
                }
            }
            z0 += zCount
        }
    }
}
