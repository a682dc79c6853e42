import Foundation

/// A cardiac pacemaker (`PhantomOptions.metalFraction`): a titanium generator in the
/// subcutaneous fat under the clavicle (left in most patients) and one or two leads that run
/// medially into the subclavian and brachiocephalic veins, down the superior vena cava into
/// the right atrium and, for the second, on to the apex of the right ventricle. Chest CT of
/// the elderly screening population often shows one.
///
/// The metal is far denser than anything a CT number can hold (rendered at 3000 HU, about
/// where 12-bit scanners clip) and it starves the projections that cross it: filtered back
/// projection turns that into dark and bright streaks radiating from the metal across the
/// slice (Barrett & Keat, "Artifacts in CT: recognition and avoidance", RadioGraphics
/// 2004;24:1679-1691; Boas & Fleischmann, "CT artifacts: causes and reduction techniques",
/// Imaging Med 2012;4:229-240). The streaks cross the upper lungs and break vessels into
/// bright and dark pieces: the detector must not call those nodules.
///
/// A third of the patients with a device have also had cardiac surgery through a median
/// sternotomy: 5-7 stainless-steel wire loops round the sternum, 20-26 mm apart, each a
/// 1.2 mm wire with its twisted end in front, and streaks of its own.
public struct CardiacDevice: Sendable, Equatable {
    /// 0 right, 1 left (the generator's side).
    public let side: Int
    /// Generator: centre, half extents (mm: lateral, anterior-posterior, cranio-caudal) and
    /// the rounding of its edges (mm).
    public let generatorCenter: SIMD3<Double>
    public let generatorHalfExtents: SIMD3<Double>
    public let generatorRounding: Double
    /// The leads as chains of capsules (one chain per lead), generator to tip.
    public let leads: [[TubeSegment]]
    /// Streak amplitude near the generator (HU); the leads' are a quarter of it, each sternal
    /// wire's 30 %.
    public let streakHU: Double
    /// Heights (mm) of the sternal wire loops (empty: no sternotomy), the sternum's centre
    /// (y, mm) and the loops' half-width and half-depth round it (mm).
    public let sternalWireZ: [Double]
    public let sternumY: Double
    public let wireLoopSemiAxes: SIMD2<Double>

    /// HU painted inside the metal (before the point spread blurs it).
    static let metalHU = 3000.0
    /// Lead radius (mm): a pacing lead is 1.7-2.3 mm across.
    static let leadRadiusMM = 1.0
    /// Sternal wire radius (mm): a 1.2 mm (size 5) stainless-steel wire.
    static let wireRadiusMM = 0.6

    static func draw(anatomy a: ChestAnatomy, random r: inout PhantomRandom) -> CardiacDevice {
        let s = a.scale
        let side = r.chance(0.85) ? 1 : 0
        let sign: Double = side == 1 ? 1 : -1
        let z = a.lungHeightMM * r.uniform(0.86, 0.96)
        let section = a.bodySection(z: z)
        // Under the skin in front of the pectoral muscle, a third of the way out.
        let x = sign * section.halfWidth * r.uniform(0.35, 0.5)
        let half = SIMD3(r.uniform(20, 25), 4, r.uniform(21, 26)) * s
        let y = -section.anterior * (1 - pow(abs(x) / section.halfWidth, 2)).squareRoot() + half.y + 2 * s
        let generator = SIMD3(x, y, z)
        // Vein route: the subclavian vein behind the clavicle, the brachiocephalic vein across
        // to the superior vena cava (tube 11), down it to the right atrium.
        let svc = a.mediastinalTubes[11].segment
        let subclavian = SIMD3(sign * 45 * s, -30 * s, z + 12 * s)
        let svcTop = svc.start + (svc.end - svc.start) * 0.35
        let atrium = svc.end + SIMD3(2, -4, -14) * s
        // Towards the apex along the heart's long axis, well inside it.
        let rvApex = SIMD3(a.heartCenter.x + 0.45 * a.heartSemiAxes.x * a.heartCos,
                           a.heartCenter.y - 0.45 * a.heartSemiAxes.x * a.heartSin,
                           a.heartCenter.z - 0.25 * a.heartSemiAxes.z)
        let medialEdge = generator - SIMD3(sign * half.x * 0.8, 0, 0)
        let common = [medialEdge, subclavian, svcTop, svc.end]
        var leads: [[SIMD3<Double>]] = [common + [atrium]]
        if r.chance(0.6) { leads.append(common + [atrium + SIMD3(3, -3, -10) * s, rvApex]) }
        let radius = leadRadiusMM * s
        let chains = leads.map { points in
            zip(points.dropLast(), points.dropFirst()).map { TubeSegment($0, $1, radius, radius) }
        }
        let streakHU = r.uniform(150, 400)
        // Sternotomy wires along the sternum's body (as the renderer places the sternum).
        var wires: [Double] = []
        if r.chance(1.0 / 3) {
            let count = r.int(5...7)
            let gap = r.uniform(20, 26) * s
            let top = a.lungHeightMM * r.uniform(0.68, 0.74)
            wires = (0..<count).map { top - Double($0) * gap }.filter { $0 > 0.08 * a.lungHeightMM }
        }
        return CardiacDevice(side: side, generatorCenter: generator, generatorHalfExtents: half,
                             generatorRounding: 3 * s, leads: chains, streakHU: streakHU, sternalWireZ: wires,
                             sternumY: a.sternumCenterY, wireLoopSemiAxes: SIMD2(18, 8) * s)
    }

    /// Signed distance (mm) to the generator: a box with rounded edges.
    @inline(__always)
    func generatorDistance(_ p: SIMD3<Double>) -> Double {
        let d = p - generatorCenter
        let q = SIMD3(Swift.abs(d.x), Swift.abs(d.y), Swift.abs(d.z)) - (generatorHalfExtents - SIMD3(repeating: generatorRounding))
        let outside = pointwiseMax(q, SIMD3(repeating: 0))
        return (outside * outside).sum().squareRoot() + Swift.min(q.max(), 0) - generatorRounding
    }

    /// Signed distance (mm) to the nearest metal (generator, lead or sternal wire).
    @inline(__always)
    func distance(_ p: SIMD3<Double>) -> Double {
        var d = generatorDistance(p)
        for chain in leads { for t in chain { d = Swift.min(d, t.signedDistance(p)) } }
        for z in sternalWireZ where abs(p.z - z) < 4 { d = Swift.min(d, wireDistance(p, loopZ: z)) }
        return d
    }

    /// Signed distance (mm) to the sternal wire loop at height `loopZ`: an ellipse round the
    /// sternum in the axial plane (radial approximation), and its twisted end, a 3 mm knot
    /// in front of the sternum.
    @inline(__always)
    func wireDistance(_ p: SIMD3<Double>, loopZ: Double) -> Double {
        let dx = p.x, dy = p.y - sternumY, dz = p.z - loopZ
        let a = wireLoopSemiAxes.x, b = wireLoopSemiAxes.y
        let f = ((dx / a) * (dx / a) + (dy / b) * (dy / b)).squareRoot()
        let rr = (dx * dx + dy * dy).squareRoot()
        let inPlane = f > 1e-9 ? rr * (f - 1) / f : -b
        let loop = (inPlane * inPlane + dz * dz).squareRoot() - Self.wireRadiusMM
        let kx = dx, ky = dy + b + 1.5, knot = (kx * kx + ky * ky + dz * dz).squareRoot() - 1.5
        return Swift.min(loop, knot)
    }

    /// Anatomy-frame z range of the metal.
    var zRange: ClosedRange<Double> {
        var lo = generatorCenter.z - generatorHalfExtents.z, hi = generatorCenter.z + generatorHalfExtents.z
        for chain in leads { for t in chain { lo = Swift.min(lo, t.zRange.lowerBound); hi = Swift.max(hi, t.zRange.upperBound) } }
        for z in sternalWireZ { lo = Swift.min(lo, z - 2); hi = Swift.max(hi, z + 2) }
        return lo...hi
    }

    /// Where the metal crosses the plane at height z: (x, y, weight) per source of streaks,
    /// the generator (weight 1) and each lead segment crossing the plane (weight 1/4).
    func streakSources(z: Double) -> [(x: Double, y: Double, weight: Double)] {
        var out: [(Double, Double, Double)] = []
        if abs(z - generatorCenter.z) < generatorHalfExtents.z { out.append((generatorCenter.x, generatorCenter.y, 1)) }
        for chain in leads {
            for t in chain where (t.start.z - z) * (t.end.z - z) < 0 {
                let u = (z - t.start.z) / (t.end.z - t.start.z)
                let p = t.start + (t.end - t.start) * u
                out.append((p.x, p.y, 0.25))
            }
        }
        for w in sternalWireZ where abs(z - w) < 1.2 { out.append((0, sternumY, 0.3)) }
        return out
    }

    /// Metal streaks of the slice at anatomy height `z` (generation slice `slice`) added to
    /// `image` (`columns` x `rows`, row-major; pixel (c, r) at anatomy (originX + c px,
    /// originY + r px)): from each source, 8-14 lines at random angles, alternately dark and
    /// bright, about a pixel and a half wide, fading as 1 / (1 + distance / 80 mm).
    func apply(to image: UnsafeMutableBufferPointer<Float>, columns: Int, rows: Int, originX: Double, originY: Double,
               pixelMM px: Double, z: Double, slice: Int, seed: UInt64, caseIndex: Int) {
        let sources = streakSources(z: z)
        guard !sources.isEmpty else { return }
        var r = PhantomRandom(seed: seed, stream: UInt64(caseIndex) << 20 | UInt64(slice) | 1 << 60)
        for source in sources {
            let count = r.int(8...14)
            let cx = (source.x - originX) / px, cy = (source.y - originY) / px
            var lines: [(c: Double, s: Double, amplitude: Double)] = []
            for k in 0..<count {
                let angle = r.uniform(0, Double.pi)
                let amplitude = source.weight * streakHU * r.uniform(0.4, 1) * (k % 2 == 0 ? -1 : 1)
                lines.append((cos(angle), sin(angle), amplitude))
            }
            for row in 0..<rows {
                let dy = Double(row) - cy
                for col in 0..<columns {
                    let dx = Double(col) - cx
                    let distanceMM = (dx * dx + dy * dy).squareRoot() * px
                    let fall = 1 / (1 + distanceMM / 80)
                    var add = 0.0
                    for line in lines {
                        // Pixel distance from the line through the source.
                        let d = dx * line.s - dy * line.c
                        if abs(d) < 3 { add += line.amplitude * exp(-d * d / 1.1) }
                    }
                    if add != 0 { image[row * columns + col] += Float(add * fall) }
                }
            }
        }
    }
}
