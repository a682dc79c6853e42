import Foundation

/// The anatomical model of one phantom chest, in the anatomy frame: millimetres, x towards
/// the patient's left, y posterior, z superior (the LPS axes), origin on the midline at the
/// top of the right hemidiaphragm dome. Every size is scaled by `scale` (1 = an average
/// adult: inner thorax about 280 mm wide, lungs about 230 mm tall).
///
/// Shapes are analytic (ellipses, ellipsoids, capsules) so the renderer can evaluate them
/// at sub-voxel positions and the truth (is this point in a lung?) uses the same functions.
public struct ChestAnatomy: Sendable {
    public let scale: Double
    /// Lung height from dome top to apex, mm.
    public let lungHeightMM: Double
    /// Subcutaneous fat thickness, mm.
    public let fatMM: Double
    /// Right dome higher than left by this much, mm.
    public let leftDomeDropMM: Double
    /// Contrast-enhanced blood (arterial phase) or not.
    public let contrast: Bool
    /// Mean HU of healthy parenchyma (ventral, non-dependent).
    public let parenchymaHU: Double
    /// Extra HU in the dependent (posterior) lung.
    public let dependentHU: Double

    // Lung cross-section at the base, per side (index 0 right, 1 left).
    let lungCenterX: [Double]
    let lungHalfWidth: [Double]
    let lungAnteriorHalf: Double
    let lungPosteriorHalf: Double
    let lungCenterY: Double

    /// Slow variation of each lung's outline with height (real lungs are not solids of revolution).
    let outlinePhase: [Double]
    /// Oblique fissure per lung: a point on it and its unit normal.
    let fissurePoint: [SIMD3<Double>]
    let fissureNormal: [SIMD3<Double>]

    // Heart: ellipsoid, rotated about z.
    let heartCenter: SIMD3<Double>
    let heartSemiAxes: SIMD3<Double>
    let heartAngle: Double
    let heartCos: Double
    let heartSin: Double

    // Spine.
    let spineY: Double
    let vertebralRadius: Double
    let vertebraPitch: Double

    /// Carina height (mm) and the great vessels / central airways of the mediastinum.
    public let carinaZ: Double
    public let mediastinalTubes: [MediastinalTube]
    /// Hilar points where each lung's artery, vein and bronchial trees start.
    public let arteryHilum: [SIMD3<Double>]
    public let veinHilum: [SIMD3<Double>]
    public let bronchusHilum: [SIMD3<Double>]

    /// The kind of a mediastinal tube, which decides how it is painted.
    public enum TubeKind: Sendable { case vessel, airway, esophagus, bone }

    public struct MediastinalTube: Sendable {
        public var segment: TubeSegment
        public var kind: TubeKind
        public var hu: Double
    }

    public init(scale s: Double, random r: inout PhantomRandom) {
        scale = s
        lungHeightMM = r.uniform(205, 245) * s
        fatMM = r.uniform(6, 26) * s
        leftDomeDropMM = r.uniform(8, 22) * s
        contrast = r.chance(0.5)
        parenchymaHU = r.uniform(-875, -835)
        dependentHU = r.uniform(30, 90)
        let halfWidth = r.uniform(66, 74) * s
        lungHalfWidth = [halfWidth * r.uniform(0.97, 1.03), halfWidth * r.uniform(0.95, 1.0)]
        lungCenterX = [-r.uniform(68, 74) * s, r.uniform(68, 74) * s]
        outlinePhase = [r.uniform(0, 6.28), r.uniform(0, 6.28)]
        // The oblique fissure runs from high posteriorly (about T4) down and forward to the
        // diaphragm: a plane tilted about 50 degrees from horizontal.
        fissurePoint = [SIMD3(-70 * s, 0, lungHeightMM * 0.42), SIMD3(70 * s, 0, lungHeightMM * 0.38)]
        let tilt = r.uniform(0.75, 0.95)
        fissureNormal = [SIMD3(0, -sin(tilt), cos(tilt)), SIMD3(0, -sin(tilt + 0.05), cos(tilt + 0.05))]
        lungAnteriorHalf = r.uniform(88, 98) * s
        lungPosteriorHalf = r.uniform(96, 106) * s
        lungCenterY = r.uniform(0, 8) * s
        heartCenter = SIMD3(r.uniform(18, 30) * s, -r.uniform(18, 30) * s, -leftDomeDropMM + r.uniform(40, 52) * s)
        heartSemiAxes = SIMD3(r.uniform(58, 68) * s, r.uniform(44, 52) * s, r.uniform(50, 58) * s)
        heartAngle = r.uniform(0.35, 0.6)
        heartCos = cos(heartAngle)
        heartSin = sin(heartAngle)
        spineY = lungCenterY + lungPosteriorHalf - 22 * s
        vertebralRadius = r.uniform(16, 19) * s
        vertebraPitch = r.uniform(23, 27) * s
        carinaZ = lungHeightMM * r.uniform(0.55, 0.62)

        // Mediastinum: trachea and main bronchi, oesophagus, aorta, SVC, pulmonary trunk.
        let top = lungHeightMM + 120 * s
        let trachea = SIMD3(0, spineY - vertebralRadius - 22 * s, carinaZ)
        let tracheaR = r.uniform(8, 10) * s
        var tubes: [MediastinalTube] = []
        tubes.append(.init(segment: TubeSegment(SIMD3(0, trachea.y - 8 * s, top), trachea, tracheaR, tracheaR), kind: .airway, hu: 0))
        let bronchusHilum = [SIMD3(-42 * s, trachea.y + 6 * s, carinaZ - 22 * s),
                             SIMD3(46 * s, trachea.y + 8 * s, carinaZ - 34 * s)]
        tubes.append(.init(segment: TubeSegment(trachea, bronchusHilum[0], tracheaR * 0.8, tracheaR * 0.6), kind: .airway, hu: 0))
        tubes.append(.init(segment: TubeSegment(trachea, bronchusHilum[1], tracheaR * 0.7, tracheaR * 0.55), kind: .airway, hu: 0))
        let eso = SIMD3(6 * s, spineY - vertebralRadius - 6 * s, 0.0)
        tubes.append(.init(segment: TubeSegment(SIMD3(eso.x - 4 * s, eso.y, top), SIMD3(eso.x + 10 * s, eso.y - 8 * s, -60 * s), 7 * s, 7 * s), kind: .esophagus, hu: 35))
        let blood = contrast ? r.uniform(180, 300) : r.uniform(35, 50)
        let venous = contrast ? r.uniform(120, 180) : blood
        let aortaR = r.uniform(12, 15) * s
        let archTop = carinaZ + r.uniform(28, 40) * s
        let ascending0 = SIMD3(heartCenter.x - 20 * s, heartCenter.y + 4 * s, heartCenter.z + heartSemiAxes.z * 0.6)
        let ascending1 = SIMD3(-4 * s, -38 * s, archTop - 10 * s)
        let archMid = SIMD3(4 * s, -10 * s, archTop)
        let descending0 = SIMD3(22 * s, spineY - vertebralRadius - 2 * s, archTop - 14 * s)
        let descending1 = SIMD3(14 * s, spineY - vertebralRadius - 4 * s, -120 * s)
        tubes.append(.init(segment: TubeSegment(ascending0, ascending1, aortaR * 1.05, aortaR), kind: .vessel, hu: blood))
        tubes.append(.init(segment: TubeSegment(ascending1, archMid, aortaR, aortaR), kind: .vessel, hu: blood))
        tubes.append(.init(segment: TubeSegment(archMid, descending0, aortaR, aortaR * 0.92), kind: .vessel, hu: blood))
        tubes.append(.init(segment: TubeSegment(descending0, descending1, aortaR * 0.92, aortaR * 0.85), kind: .vessel, hu: blood))
        // Supra-aortic branches up to the neck.
        for (dx, rr) in [(-12.0, 6.5), (2.0, 4.5), (14.0, 5.0)] {
            tubes.append(.init(segment: TubeSegment(archMid + SIMD3(dx * s * 0.5, 0, 0), SIMD3(dx * s * 1.8, -5 * s, top), rr * s, rr * s * 0.8), kind: .vessel, hu: blood))
        }
        let svc0 = SIMD3(-26 * s, -22 * s, top)
        let svc1 = SIMD3(-26 * s, -16 * s, heartCenter.z + heartSemiAxes.z * 0.4)
        tubes.append(.init(segment: TubeSegment(svc0, svc1, 9 * s, 10 * s), kind: .vessel, hu: venous))
        // Pulmonary trunk from the right ventricle up and back to the bifurcation, then to the hila.
        let pt0 = SIMD3(heartCenter.x + 6 * s, heartCenter.y - 18 * s, heartCenter.z + heartSemiAxes.z * 0.55)
        let bif = SIMD3(8 * s, trachea.y - 14 * s, carinaZ - 8 * s)
        let ptR = r.uniform(12, 14) * s
        tubes.append(.init(segment: TubeSegment(pt0, bif, ptR, ptR), kind: .vessel, hu: blood))
        let arteryHilum = [SIMD3(-48 * s, trachea.y + 2 * s, carinaZ - 18 * s),
                           SIMD3(50 * s, trachea.y + 2 * s, carinaZ - 10 * s)]
        tubes.append(.init(segment: TubeSegment(bif, arteryHilum[0], ptR * 0.75, ptR * 0.6), kind: .vessel, hu: blood))
        tubes.append(.init(segment: TubeSegment(bif, arteryHilum[1], ptR * 0.75, ptR * 0.6), kind: .vessel, hu: blood))
        // Pulmonary veins into the left atrium (posterior, upper heart).
        let atrium = SIMD3(heartCenter.x - 10 * s, heartCenter.y + heartSemiAxes.y * 0.7, heartCenter.z + heartSemiAxes.z * 0.3)
        let veinHilum = [SIMD3(-44 * s, trachea.y + 14 * s, carinaZ - 52 * s),
                         SIMD3(46 * s, trachea.y + 16 * s, carinaZ - 56 * s)]
        tubes.append(.init(segment: TubeSegment(atrium, veinHilum[0], 8 * s, 7 * s), kind: .vessel, hu: venous))
        tubes.append(.init(segment: TubeSegment(atrium, veinHilum[1], 8 * s, 7 * s), kind: .vessel, hu: venous))
        mediastinalTubes = tubes
        self.arteryHilum = arteryHilum
        self.veinHilum = veinHilum
        self.bronchusHilum = bronchusHilum
    }

    // MARK: Lungs

    /// The cross-section ellipse of lung `side` (0 right, 1 left) at height z: centre and
    /// half-axes (lateral, anterior, posterior), or nil above the apex. The sizes grow like
    /// the square root of the depth below the apex (a paraboloid dome) and reach their full
    /// value about half way down; the apex also sits more posterior and medial.
    @inline(__always)
    func lungSection(side: Int, z: Double) -> (cx: Double, cy: Double, a: Double, bA: Double, bP: Double)? {
        let u = (lungHeightMM - z) / lungHeightMM
        guard u > 0 else { return nil }
        let g = Swift.min(1, (u / 0.5).squareRoot())
        let wobble = 1 + 0.035 * sin(z / (29 * scale) + outlinePhase[side]) + 0.02 * sin(z / (11 * scale) + 2 * outlinePhase[side])
        let widen = (0.88 + 0.12 * Swift.min(1, u)) * wobble
        let a = lungHalfWidth[side] * g * widen
        let sign: Double = side == 0 ? -1 : 1
        let cx = lungCenterX[side] - sign * (1 - g) * 22 * scale
        let cy = lungCenterY + (1 - g) * 30 * scale
        return (cx, cy, a, lungAnteriorHalf * g * widen, lungPosteriorHalf * g)
    }

    /// Height of the hemidiaphragm under lung `side` at (x, y): a dome, lowest at the
    /// costophrenic recesses (laterally and posteriorly).
    @inline(__always)
    func domeZ(side: Int, x: Double, y: Double) -> Double {
        let qx = (x - lungCenterX[side]) / lungHalfWidth[side]
        let qy = (y - lungCenterY) / lungPosteriorHalf
        let q = qx * qx + qy * qy
        let drop = side == 1 ? leftDomeDropMM : 0
        return -drop - 55 * scale * q - 18 * scale * Swift.max(0, qy)
    }

    /// Half-width (mm) of the mediastinal band between the lungs at (y, z).
    @inline(__always)
    func mediastinumHalfWidth(y: Double, z: Double) -> Double {
        let upper = z > carinaZ - 20 * scale ? 1.0 : 0.0
        return (9 + 9 * upper) * scale + (y > spineY - vertebralRadius * 2 ? 10 * scale : 0)
    }

    /// Approximate signed distance (mm, negative inside) to the surface of lung `side` from
    /// its analytic parts: the section ellipse, the mediastinal band, the heart (with its
    /// pericardium) and the diaphragm. Mediastinal tubes are carved separately (painting).
    @inline(__always)
    func lungShapeDistance(side: Int, x: Double, y: Double, z: Double,
                           section: (cx: Double, cy: Double, a: Double, bA: Double, bP: Double)) -> Double {
        let dx = x - section.cx, dy = y - section.cy
        let b = dy < 0 ? section.bA : section.bP
        let nx = dx / section.a, ny = dy / b
        let f = (nx * nx + ny * ny).squareRoot()
        let rr = (dx * dx + dy * dy).squareRoot()
        var sd = f > 1e-9 ? rr * (f - 1) / f : -Swift.min(section.a, b)
        // Mediastinal band.
        let band = mediastinumHalfWidth(y: y, z: z) - abs(x)
        sd = Swift.max(sd, band)
        // Heart with 3 mm of pericardium and fat.
        sd = Swift.max(sd, -(heartDistance(x: x, y: y, z: z) - 3 * scale))
        // Spine body (vertical cylinder) with a margin.
        let sx = x, sy = y - spineY
        sd = Swift.max(sd, -((sx * sx + sy * sy).squareRoot() - vertebralRadius - 4 * scale))
        // Diaphragm (vertical distance, reduced for the dome's slope).
        sd = Swift.max(sd, (domeZ(side: side, x: x, y: y) - z) * 0.8)
        return sd
    }

    /// Signed distance to the heart ellipsoid (radial approximation), mm.
    @inline(__always)
    func heartDistance(x: Double, y: Double, z: Double) -> Double {
        let dx = x - heartCenter.x, dy = y - heartCenter.y, dz = z - heartCenter.z
        let c = heartCos, s = heartSin
        let u = c * dx - s * dy, v = s * dx + c * dy
        let nu = u / heartSemiAxes.x, nv = v / heartSemiAxes.y, nw = dz / heartSemiAxes.z
        let f = (nu * nu + nv * nv + nw * nw).squareRoot()
        let rr = (dx * dx + dy * dy + dz * dz).squareRoot()
        return f > 1e-9 ? rr * (f - 1) / f : -heartSemiAxes.min()
    }

    /// Signed distance (mm) from `p` to the nearest lung surface including the carving by
    /// mediastinal tubes, and which lung (nil when outside both). Not for hot loops.
    public func lungDistance(_ p: SIMD3<Double>) -> (distanceMM: Double, side: Int?) {
        var best = Double.infinity
        var bestSide: Int? = nil
        for side in 0..<2 {
            guard let sec = lungSection(side: side, z: p.z) else { continue }
            var sd = lungShapeDistance(side: side, x: p.x, y: p.y, z: p.z, section: sec)
            for t in mediastinalTubes {
                sd = Swift.max(sd, -(t.segment.signedDistance(p) - 2.5 * scale))
            }
            if sd < best { best = sd; bestSide = side }
        }
        return (best, best < 0 ? bestSide : nil)
    }

    /// Axis-aligned box (mm) that holds lung `side`.
    public func lungBounds(side: Int) -> (min: SIMD3<Double>, max: SIMD3<Double>) {
        let a = lungHalfWidth[side] * 1.02
        return (SIMD3(lungCenterX[side] - a, lungCenterY - lungAnteriorHalf * 1.02, -leftDomeDropMM - 80 * scale),
                SIMD3(lungCenterX[side] + a, lungCenterY + lungPosteriorHalf, lungHeightMM))
    }

    // MARK: Body

    /// Half-extents of the body outline (lateral, anterior, posterior), mm.
    var bodyHalfWidth: Double { Swift.max(lungCenterX[1] + lungHalfWidth[1], -lungCenterX[0] + lungHalfWidth[0]) + 22 * scale + fatMM }
    var bodyAnterior: Double { lungAnteriorHalf - lungCenterY + 24 * scale + fatMM }
    var bodyPosterior: Double { spineY + vertebralRadius + 62 * scale + fatMM }

    /// Signed distance to the body outline shrunk by `inset` mm (radial approximation of an
    /// ellipse with different anterior and posterior half-axes, flattened on the table side).
    @inline(__always)
    func bodyDistance(x: Double, y: Double, inset: Double) -> Double {
        let a = bodyHalfWidth - inset
        let b = (y < 0 ? bodyAnterior : bodyPosterior * 1.12) - inset
        let nx = x / a, ny = y / b
        let f = (nx * nx + ny * ny).squareRoot()
        let rr = (x * x + y * y).squareRoot()
        let sd = f > 1e-9 ? rr * (f - 1) / f : -a
        return Swift.max(sd, y - (bodyPosterior - inset))
    }

    /// Largest distance (mm) of the body outline from the axis, for sizing the field of view.
    public var bodyRadiusMM: Double {
        Swift.max(bodyHalfWidth, Swift.max(bodyAnterior, bodyPosterior)) * 1.04
    }

    /// Reference body half-width of the average adult (scale 1), used to size the FOV.
    public static let referenceBodyHalfWidthMM = 175.0
}
