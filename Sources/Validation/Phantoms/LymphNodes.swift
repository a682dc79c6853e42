import Foundation

/// A mediastinal or hilar lymph node: a small soft-tissue ovoid in the mediastinal fat
/// (anatomy frame, mm). Real CT shows several per patient (short axis mostly 4-10 mm); they
/// are realistic look-alikes for a nodule detector, so they are drawn but never recorded as
/// nodules in truth.json.
public struct LymphNode: Sendable, Equatable {
    public enum Station: String, Sendable, CaseIterable {
        /// Right and left paratracheal (IASLC 2R/4R, 2L/4L).
        case rightParatracheal, leftParatracheal
        /// Prevascular / aortopulmonary window (3A, 5, 6).
        case aortopulmonary
        /// Subcarinal (7).
        case subcarinal
        /// Hilar (10R/10L, 11): at the lung roots beside the hilar vessels and bronchi.
        case rightHilar, leftHilar
    }

    public var station: Station
    public var center: SIMD3<Double>
    /// Semi-axes (mm): the short one is half the short-axis diameter.
    public var semiAxes: SIMD3<Double>
    /// Rows: the local axes (the first is the long axis).
    var rotation: [SIMD3<Double>]
    public var hu: Double

    /// Short-axis diameter (mm), the measure radiologists report.
    public var shortAxisMM: Double { 2 * semiAxes.min() }
    public var boundingRadiusMM: Double { semiAxes.max() }

    /// Signed distance (mm, negative inside; radial approximation).
    @inline(__always)
    func distance(_ p: SIMD3<Double>) -> Double {
        let d = p - center
        let r = (d * d).sum().squareRoot()
        let u = SIMD3((rotation[0] * d).sum(), (rotation[1] * d).sum(), (rotation[2] * d).sum())
        let q = u / semiAxes
        let f = (q * q).sum().squareRoot()
        return f > 1e-12 ? r * (f - 1) / f : -semiAxes.min()
    }

    /// Up to 10 nodes (3-8 in practice) in the paratracheal, aortopulmonary, subcarinal and
    /// hilar stations, from their own random stream. A node is kept only where it lies wholly outside both lungs'
    /// analytic surfaces (1 mm clear), with its centre outside the great vessels, airways,
    /// heart and spine and clear of the other nodes; candidates that fail are dropped.
    static func place(in a: ChestAnatomy, random r: inout PhantomRandom) -> [LymphNode] {
        let s = a.scale
        let trachea = a.mediastinalTubes[0].segment
        let tracheaR = trachea.startRadiusMM
        let ty = trachea.end.y
        let cz = a.carinaZ
        var nodes: [LymphNode] = []
        // (station, how many); candidates are drawn per station below (mm at scale 1).
        var plan: [(Station, Int)] = [
            (.rightParatracheal, r.int(1...2)), (.leftParatracheal, r.int(0...1)),
            (.aortopulmonary, r.int(0...1)), (.subcarinal, r.int(1...2)),
            (.rightHilar, r.int(1...2)), (.leftHilar, r.int(0...2)),
        ]
        plan = plan.filter { $0.1 > 0 }
        for (station, count) in plan {
            var placed = 0
            for _ in 0..<(count * 300) where placed < count {
                // Size: short axis 4-10 mm, mostly small (median 5.5 mm); long axis 1.2-2 times it.
                let u = r.unit()
                let shortR = (2 + 3 * u * u) * Swift.min(1, s + 0.15)
                let longR = shortR * r.uniform(1.2, 2.0)
                let midR = shortR * r.uniform(1.0, 1.3)
                var c: SIMD3<Double>
                // Long axis mostly cranio-caudal in the mediastinum, along the bronchi at the hila.
                var axis = SIMD3<Double>(r.uniform(-0.4, 0.4), r.uniform(-0.4, 0.4), 1)
                switch station {
                case .rightParatracheal, .leftParatracheal:
                    let sign: Double = station == .rightParatracheal ? -1 : 1
                    c = SIMD3(sign * (tracheaR + r.uniform(2, 14) * s), ty + r.uniform(-22, 8) * s,
                              cz + r.uniform(2, 45) * s)
                case .aortopulmonary:
                    c = SIMD3(r.uniform(0, 22) * s, ty + r.uniform(-45, -12) * s, cz + r.uniform(-4, 22) * s)
                case .subcarinal:
                    c = SIMD3(r.uniform(-8, 14) * s, ty + r.uniform(-2, 16) * s, cz - r.uniform(8, 32) * s)
                    axis = SIMD3(r.uniform(-0.5, 0.5), r.uniform(-0.3, 0.3), 1)
                case .rightHilar, .leftHilar:
                    // The lung root: medial to the hilar points, beside the main bronchus, the
                    // pulmonary artery and the veins (where the lung is carved around them).
                    let side = station == .rightHilar ? 0 : 1
                    let h = a.bronchusHilum[side], vein = a.veinHilum[side]
                    c = SIMD3(h.x * r.uniform(0.35, 1.0), h.y + r.uniform(-25, 25) * s,
                              r.uniform(vein.z - 8 * s, h.z + 12 * s))
                    axis = h - SIMD3(0, ty, cz) + SIMD3(r.uniform(-10, 10), r.uniform(-10, 10), r.uniform(-10, 10)) * s
                }
                let e0 = axis / (axis * axis).sum().squareRoot()
                var e1 = r.unitVector()
                e1 -= (e1 * e0).sum() * e0
                let n1 = (e1 * e1).sum().squareRoot()
                guard n1 > 1e-6 else { continue }
                e1 /= n1
                let e2 = SIMD3(e0.y * e1.z - e0.z * e1.y, e0.z * e1.x - e0.x * e1.z, e0.x * e1.y - e0.y * e1.x)
                let node = LymphNode(station: station, center: c, semiAxes: SIMD3(longR, midR, shortR),
                                     rotation: [e0, e1, e2], hu: r.uniform(20, 50))
                guard node.fits(in: a, others: nodes) else { continue }
                nodes.append(node)
                placed += 1
            }
        }
        return nodes
    }

    /// Whole node outside the lungs (the analytic surfaces, mediastinal carving included,
    /// checked at the centre and at 26 surface points), centre outside the tubes, heart and
    /// spine, no overlap with another node.
    func fits(in a: ChestAnatomy, others: [LymphNode]) -> Bool {
        let R = boundingRadiusMM
        guard a.lungDistance(center).distanceMM > R + 1 else { return false }
        for dx in -1...1 {
            for dy in -1...1 {
                for dz in -1...1 where dx != 0 || dy != 0 || dz != 0 {
                    let v = SIMD3(Double(dx), Double(dy), Double(dz))
                    let u = v / (v * v).sum().squareRoot()
                    // Surface point along u (in the node's frame the surface is at 1/|q|).
                    let local = SIMD3((rotation[0] * u).sum(), (rotation[1] * u).sum(), (rotation[2] * u).sum()) / semiAxes
                    let p = center + u / (local * local).sum().squareRoot()
                    if a.lungDistance(p).distanceMM < 1 { return false }
                }
            }
        }
        for t in a.mediastinalTubes where t.segment.signedDistance(center) < semiAxes.min() * 0.5 { return false }
        guard a.heartDistance(x: center.x, y: center.y, z: center.z) > semiAxes.min() else { return false }
        let sx = center.x, sy = center.y - a.spineY
        guard (sx * sx + sy * sy).squareRoot() > a.vertebralRadius + R else { return false }
        for o in others {
            let d = o.center - center
            if (d * d).sum().squareRoot() < o.boundingRadiusMM + R + 1 { return false }
        }
        return true
    }
}
