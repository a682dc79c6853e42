import Foundation

/// Pericardial fat pads at the cardiophrenic angles (`PhantomOptions.cardiophrenicFatFraction`):
/// fat between the heart's lower border, the diaphragm and the anterior chest wall, which
/// fills the angle the lung would otherwise reach into. Common in adults and larger with
/// obesity, more often and larger on the right (Jaffe, "Fat pads of the heart", Radiology
/// 1962; on CT a triangular or rounded fat density against the heart, the diaphragm and the
/// chest wall). On a chest radiograph a large pad mimics a mass; on CT it is plainly fat, but
/// its border with the lung is a curved soft edge near the heart and diaphragm, where a
/// detector must not see a juxtapleural nodule.
///
/// Geometry: the fat fills the angle: the points within `heartReachMM` (12-24 mm at scale 1)
/// of the heart's outline and within `domeReachMM` (10-20 mm) above the diaphragm (both at
/// least 8 mm more than the heart stands above the dome there, as in anatomy revision 3),
/// inside an ellipsoid (25-42 by 22-36 by 25-40 mm) around the corner where the heart's lower
/// border meets the dome on that side, towards the front, and inside the thoracic cage: a wedge against the heart, the dome
/// and, when large, the anterior chest wall. The left pad (half the cases) is 0.5-0.8 of the
/// right's size. It carves the lung (`ChestAnatomy.lungShapeDistance`), so vessel
/// territories and nodules are never placed in it.
public struct CardiophrenicFatPad: Sendable, Equatable {
    /// 0 right, 1 left.
    public var side: Int
    /// Centre and semi-axes (x, y, z; mm) of the ellipsoid that bounds the pad to its corner.
    public var center: SIMD3<Double>
    public var semiAxesMM: SIMD3<Double>
    /// How far the fat reaches from the heart's outline and above the dome, mm.
    public var heartReachMM: Double
    public var domeReachMM: Double
    /// Mean fat HU (strands of +-12 HU are added when rendered).
    public var hu: Double

    /// Signed distance (mm, negative inside; approximate, as the anatomy's other distances)
    /// to the pad.
    @inline(__always)
    func distance(x: Double, y: Double, z: Double, anatomy a: ChestAnatomy) -> Double {
        let dx = x - center.x, dy = y - center.y, dz = z - center.z
        let nx = dx / semiAxesMM.x, ny = dy / semiAxesMM.y, nz = dz / semiAxesMM.z
        let f = (nx * nx + ny * ny + nz * nz).squareRoot()
        let rr = (dx * dx + dy * dy + dz * dz).squareRoot()
        var sd = f > 1e-9 ? rr * (f - 1) / f : -semiAxesMM.min()
        // Cheap rejection far outside (the other bounds only shrink it).
        if f > 1.6 { return sd }
        sd = Swift.max(sd, a.heartDistance(x: x, y: y, z: z) - heartReachMM)
        sd = Swift.max(sd, (z - a.domeZ(side: side, x: x, y: y)) * 0.8 - domeReachMM)
        sd = Swift.max(sd, a.diaphragmBound(side: side, x: x, y: y, z: z))
        sd = Swift.max(sd, a.cavityDistance(x: x, y: y))
        return sd
    }

    /// The fat the scan shows (the pad outside the heart and its 3 mm of epicardial fat),
    /// sampled on a grid of `stepMM`: its centroid (anatomy frame) and volume (mm3).
    func visibleFat(anatomy a: ChestAnatomy, stepMM: Double = 1.5) -> (centroid: SIMD3<Double>, volumeMM3: Double) {
        var sum = SIMD3<Double>.zero
        var count = 0
        let lo = center - semiAxesMM, hi = center + semiAxesMM
        for x in stride(from: lo.x, through: hi.x, by: stepMM) {
            for y in stride(from: lo.y, through: hi.y, by: stepMM) {
                for z in stride(from: lo.z, through: hi.z, by: stepMM)
                where distance(x: x, y: y, z: z, anatomy: a) < 0 && a.heartDistance(x: x, y: y, z: z) > 3 * a.scale {
                    sum += SIMD3(x, y, z)
                    count += 1
                }
            }
        }
        return (count > 0 ? sum / Double(count) : center, Double(count) * stepMM * stepMM * stepMM)
    }

    static func draw(anatomy a: ChestAnatomy, random r: inout PhantomRandom) -> [CardiophrenicFatPad] {
        let s = a.scale
        let bound = SIMD3(r.uniform(25, 42), r.uniform(22, 36), r.uniform(25, 40)) * s
        let heartReach = r.uniform(12, 24) * s
        let domeReach = r.uniform(10, 20) * s
        let hasLeft = r.chance(0.5)
        let leftFactor = r.uniform(0.5, 0.8)
        let hu = r.uniform(-115, -90)
        var pads: [CardiophrenicFatPad] = []
        for side in 0..<2 {
            if side == 1 && !hasLeft { continue }
            let k = side == 0 ? 1 : leftFactor
            let sign: Double = side == 0 ? -1 : 1
            let axes = a.heartSemiAxes
            // The heart's lowest point in the column a third of the way to its front and this
            // side, then a few millimetres up, out of the heart towards this side and the front.
            let column = SIMD2(a.heartCenter.x + sign * 0.3 * axes.x, a.heartCenter.y - 0.3 * axes.y)
            var bottom = a.heartCenter.z
            while bottom > a.heartCenter.z - 2 * axes.max()
                    && a.heartDistance(x: column.x, y: column.y, z: bottom - 1 * s) < 0 {
                bottom -= 1 * s
            }
            var corner = SIMD3(column.x, column.y, bottom + 5 * s)
            let outward = BranchingTree.normalized(SIMD3(sign * 0.8, -0.6, 0))
            var t = 0.0
            while t < 200 * s && a.heartDistance(x: corner.x, y: corner.y, z: corner.z) < 0 {
                t += 1 * s
                corner += outward * s
            }
            // Where the heart stands above the dome (revision 3), the fat reaches down to it.
            let dome = a.domeZ(side: side, x: corner.x, y: corner.y)
            let gap = Swift.max(0, corner.z - dome)
            var semi = bound * k
            semi.z = Swift.max(semi.z, 0.5 * gap + 15 * s)
            let center = SIMD3(corner.x + sign * 0.3 * semi.x, corner.y - 0.25 * semi.y, 0.5 * (corner.z + dome))
            pads.append(CardiophrenicFatPad(side: side, center: center, semiAxesMM: semi,
                                            heartReachMM: Swift.max(heartReach * k, gap + 8 * s),
                                            domeReachMM: Swift.max(domeReach * k, gap + 8 * s), hu: hu))
        }
        return pads
    }
}
