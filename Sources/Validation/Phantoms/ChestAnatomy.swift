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
    /// Oblique fissure per lung (index 0 right, 1 left).
    let obliqueFissures: [ObliqueFissure]
    /// Right minor (horizontal) fissure: height, tilt (rise per mm towards the back) and dome.
    let minorFissureZ: Double
    let minorFissureTilt: Double
    let minorFissureDome: Double
    /// Visible fraction of the fissures (real fissures are often incomplete).
    public let fissureCompleteness: Double

    // Body details (drawn from a separate stream so the lungs of a seed do not change).
    /// Amplitudes and phases of the outline's 2nd-5th angular harmonics (fractions of the radius).
    let outlineHarmonics: [(amplitude: Double, phase: Double)]
    /// Breast bulge (mm, 0 for none) and its height centre.
    let breastMM: Double
    let breastZ: Double
    /// Arms resting at the sides of the chest (most chest CTs are taken with the arms raised).
    public let armsAtSides: Bool
    let armRadiusMM: Double
    let armGapMM: Double
    let armY: Double
    /// Scapulae: lowest point (inferior angle) height.
    let scapulaBottomZ: Double
    /// Trunk outline (generator 3): width / depth at mid-chest (the lateral soft tissue is
    /// sized to give it); lateral fat relative to `fatMM`; widening of the shoulder girdle at
    /// the top and narrowing towards the waist (fractions of the half-width); flattening of
    /// the upper anterior chest (fraction of the anterior depth).
    public let midChestWidthToDepth: Double
    let lateralFatFactor: Double
    let shoulderWiden: Double
    let waistNarrow: Double
    let upperFlatten: Double
    /// Mediastinal and hilar lymph nodes (not nodules: never in truth.json); placed by
    /// `PhantomCase` from their own random stream once the anatomy is fixed.
    public internal(set) var lymphNodes: [LymphNode] = []
    /// Pericardial fat pads at the cardiophrenic angles (`CardiophrenicFatPad`; none unless
    /// asked for); they carve the lung. Set by `PhantomCase` from their own random stream
    /// before the vessel territories are sampled.
    public internal(set) var cardiophrenicFat: [CardiophrenicFatPad] = []

    /// Anatomy revision (`PhantomOptions.anatomyRevision`): 3, or 4 for the heart resting on
    /// the diaphragm, the mediastinum shaped by the great vessels and a shallower chest.
    public let revision: Int

    // Heart: ellipsoid, rotated about z; in revision 4 also tilted in the coronal plane
    // (apex down) and cut by the diaphragm, on which its inferior surface rests.
    let heartCenter: SIMD3<Double>
    let heartSemiAxes: SIMD3<Double>
    let heartAngle: Double
    let heartCos: Double
    let heartSin: Double
    /// Cosine and sine of the long axis's tilt below the horizontal (0 in revision 3).
    let heartTiltCos: Double
    let heartTiltSin: Double

    /// Revision 4: fat (mm) around the great vessels, trachea and oesophagus, whose smooth
    /// union is the mediastinum the lungs meet (0 in revision 3: a straight-sided band).
    let mediastinalFatMM: Double
    /// Revision 4: the tubes that shape the mediastinum and each one's box (mm) beyond which
    /// it cannot shape it.
    let envelopeTubes: [(segment: TubeSegment, lo: SIMD3<Double>, hi: SIMD3<Double>)]

    // Spine.
    let spineY: Double
    let vertebralRadius: Double
    let vertebraPitch: Double

    /// Carina height (mm) and the great vessels / central airways of the mediastinum.
    public let carinaZ: Double
    public let mediastinalTubes: [MediastinalTube]
    /// Hilar points where each lung's artery, vein and bronchial trees start. With four
    /// pulmonary veins `veinHilum` is where each inferior vein leaves the hilum.
    public let arteryHilum: [SIMD3<Double>]
    public let veinHilum: [SIMD3<Double>]
    /// Where each superior pulmonary vein leaves the hilum (right, left), in front of and below
    /// the pulmonary artery; empty with one vein per lung (vessel tree revisions 1 and 2).
    public let superiorVeinHilum: [SIMD3<Double>]
    public let bronchusHilum: [SIMD3<Double>]

    /// The kind of a mediastinal tube, which decides how it is painted.
    public enum TubeKind: Sendable { case vessel, airway, esophagus, bone }

    public struct MediastinalTube: Sendable {
        public var segment: TubeSegment
        public var kind: TubeKind
        public var hu: Double
    }

    /// `random` draws the lungs, mediastinum and skeleton; `details` (a separate stream) the
    /// fissure shapes and the body details, so adding details never moves a seed's lungs.
    /// `fourPulmonaryVeins` (vessel tree revision 3) gives each lung a superior and an inferior
    /// pulmonary vein into the left atrium instead of one; it draws nothing.
    public init(scale s: Double, random r: inout PhantomRandom, details: PhantomRandom, revision: Int = 3,
                fourPulmonaryVeins: Bool = false) {
        var d = details
        scale = s
        self.revision = revision
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
        // The oblique fissure runs from high posteriorly (about T4, ~62% of the lung height)
        // down and forward to the front third of the diaphragm, about 40-50 degrees from
        // horizontal, slightly concave, bowed and twisted across the lung.
        let tilt = r.uniform(0.75, 0.95)
        let slope = [0.8 + (tilt - 0.75) * 2, 0.85 + (tilt - 0.75) * 2]
        let bend = [d.uniform(0.05, 0.25), d.uniform(0.05, 0.25)]
        let bow = [d.uniform(-14, 14) * s, d.uniform(-14, 14) * s]
        let twist = [d.uniform(-0.25, 0.25), d.uniform(-0.25, 0.25)]
        // Higher laterally, so the axial trace runs from posteromedial to anterolateral.
        let lateral = [d.uniform(12, 30) * s, d.uniform(12, 30) * s]
        let posteriorTop = [lungHeightMM * d.uniform(0.58, 0.66), lungHeightMM * d.uniform(0.6, 0.68)]
        fissureCompleteness = d.uniform(0.5, 0.9)
        // Revision 4 gives the chest an adult's proportions: revision 3's lungs reach 88-98 mm in
        // front of their centre, which makes the sternum-to-spine depth give a Haller index near
        // 1.8 instead of about 2.5 (Haller, Kramer and Lietman 1987); the heart then lies
        // against the anterior chest wall, as it does.
        lungAnteriorHalf = r.uniform(88, 98) * s * (revision >= 4 ? 0.78 : 1)
        lungPosteriorHalf = r.uniform(96, 106) * s
        lungCenterY = r.uniform(0, 8) * s
        var fissures: [ObliqueFissure] = []
        for i in 0..<2 {
            let base: Double = posteriorTop[i] - (slope[i] + bend[i]) * 100 * s
            let rise: Double = i == 0 ? -lateral[i] : lateral[i]
            fissures.append(ObliqueFissure(base: base, slope: slope[i], bend: bend[i], bow: bow[i], twist: twist[i],
                                           lateralRise: rise, centerX: lungCenterX[i], halfWidth: lungHalfWidth[i],
                                           centerY: lungCenterY, lengthMM: 100 * s))
        }
        obliqueFissures = fissures
        var heart = SIMD3(r.uniform(18, 30) * s, -r.uniform(18, 30) * s, -leftDomeDropMM + r.uniform(40, 52) * s)
        // Revision 4 sinks the heart into the diaphragm, which cuts its inferior part off
        // (`heartDistance`): a broad base on the dome, narrowing up to the great vessels, as
        // the cardiac silhouette of a coronal view or a radiograph; a little wider to keep its size.
        if revision >= 4 { heart.z -= 22 * s; heart.y += 6 * s }
        heartCenter = heart
        var heartAxes = SIMD3(r.uniform(58, 68) * s, r.uniform(44, 52) * s, r.uniform(50, 58) * s)
        if revision >= 4 { heartAxes *= SIMD3(1.1, 1.05, 1.0) }
        heartSemiAxes = heartAxes
        heartAngle = r.uniform(0.35, 0.6)
        heartCos = cos(heartAngle)
        heartSin = sin(heartAngle)
        // Revision 4: the vertebral body stands further into the chest, the lungs' posterior
        // parts reaching behind it into the paravertebral gutters.
        spineY = lungCenterY + lungPosteriorHalf - (revision >= 4 ? 30 : 22) * s
        vertebralRadius = r.uniform(16, 19) * s
        vertebraPitch = r.uniform(23, 27) * s
        carinaZ = lungHeightMM * r.uniform(0.55, 0.62)
        minorFissureZ = carinaZ - d.uniform(20, 40) * s
        minorFissureTilt = d.uniform(-0.08, 0.12)
        minorFissureDome = d.uniform(8, 20) * s
        outlineHarmonics = (0..<4).map { _ in (d.uniform(-0.025, 0.025), d.uniform(0, 2 * .pi)) }
        breastMM = d.chance(0.5) ? d.uniform(8, 40) * s : 0
        breastZ = carinaZ - d.uniform(40, 80) * s
        armsAtSides = d.chance(0.1)
        armRadiusMM = d.uniform(40, 52) * s
        armGapMM = d.uniform(0, 8) * s
        armY = d.uniform(10, 40) * s
        scapulaBottomZ = lungHeightMM * d.uniform(0.22, 0.34)
        // Generator 3 draws come after every generator-2 draw of this stream.
        midChestWidthToDepth = d.uniform(1.35, 1.55)
        lateralFatFactor = d.uniform(1.1, 1.4)
        shoulderWiden = d.uniform(0.02, 0.06)
        waistNarrow = d.uniform(0.04, 0.12)
        upperFlatten = d.uniform(0.08, 0.16)
        // Revision 4 draws come after every revision-3 draw of this (local) stream, so the
        // revision-3 body is unchanged. The heart's long axis points down to the apex about
        // 20-30 degrees below the horizontal.
        if revision >= 4 {
            let tilt = d.uniform(0.35, 0.52)
            heartTiltCos = cos(tilt)
            heartTiltSin = sin(tilt)
            mediastinalFatMM = d.uniform(5, 9) * s
        } else {
            heartTiltCos = 1
            heartTiltSin = 0
            mediastinalFatMM = 0
        }

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
        // One vein per lung drains all of it; of four, each drains about half (the upper, with
        // the middle lobe on the right; the lower), so each is narrower.
        let veinR = fourPulmonaryVeins ? 7.0 * s : 8 * s
        tubes.append(.init(segment: TubeSegment(atrium, veinHilum[0], veinR, veinR - s), kind: .vessel, hu: venous))
        tubes.append(.init(segment: TubeSegment(atrium, veinHilum[1], veinR, veinR - s), kind: .vessel, hu: venous))
        // The superior veins (appended last, so the indices above stay): they leave the hilum in
        // front of and below the pulmonary artery and run down and back to the atrium's upper
        // corners, the inferior ones nearly horizontally from the lower hilum.
        let superiorVeinHilum = fourPulmonaryVeins
            ? [SIMD3(-46 * s, trachea.y - 8 * s, carinaZ - 34 * s), SIMD3(48 * s, trachea.y - 8 * s, carinaZ - 30 * s)]
            : []
        for (side, hilum) in superiorVeinHilum.enumerated() {
            let ostium = atrium + SIMD3((side == 0 ? -12 : 12) * s, -4 * s, 8 * s)
            tubes.append(.init(segment: TubeSegment(ostium, hilum, veinR, veinR - s), kind: .vessel, hu: venous))
        }
        mediastinalTubes = tubes
        // Revision 4's mediastinum: trachea (tube 0), oesophagus (3), aorta (4-7) and its
        // branches (8-10), superior vena cava (11) and pulmonary trunk (12); not the main
        // bronchi or the hilar vessels (1-2, 13-16), which run into the lungs.
        if revision >= 4 {
            let reach = mediastinalFatMM + Self.envelopeBlendMM * s + 30 * s
            envelopeTubes = tubes.indices.filter { [0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].contains($0) }.map { i in
                let t = tubes[i].segment
                let pad = SIMD3(repeating: t.maxRadiusMM + reach)
                return (t, pointwiseMin(t.start, t.end) - pad, pointwiseMax(t.start, t.end) + pad)
            }
        } else {
            envelopeTubes = []
        }
        self.arteryHilum = arteryHilum
        self.veinHilum = veinHilum
        self.superiorVeinHilum = superiorVeinHilum
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

    /// Half-width (mm) of the mediastinal band between the lungs at (y, z). In revision 4 the
    /// band is only the junction lines' few millimetres (and the paravertebral tissue): the
    /// great vessels' fat (`mediastinalEnvelopeDistance`) gives the mediastinum its width.
    @inline(__always)
    func mediastinumHalfWidth(y: Double, z: Double) -> Double {
        let posterior = y > spineY - vertebralRadius * 2 ? 10 * scale : 0
        if revision >= 4 { return 4 * scale + posterior }
        let upper = z > carinaZ - 20 * scale ? 1.0 : 0.0
        return (9 + 9 * upper) * scale + posterior
    }

    /// How far (mm, at scale 1) the great vessels' fat envelopes blend into one another, so
    /// the fat fills the clefts between neighbouring vessels as it does in the mediastinum.
    static let envelopeBlendMM = 12.0

    /// Revision 4: signed distance (mm, negative inside) to the mediastinum's fat around the
    /// great vessels, a smooth union (polynomial smooth minimum; Quilez 2013) of the tubes
    /// dilated by `mediastinalFatMM`; +infinity where no tube is near.
    @inline(__always)
    func mediastinalEnvelopeDistance(_ p: SIMD3<Double>) -> Double {
        let k = Self.envelopeBlendMM * scale
        var d = Double.infinity
        for t in envelopeTubes {
            guard p.x >= t.lo.x, p.x <= t.hi.x, p.y >= t.lo.y, p.y <= t.hi.y, p.z >= t.lo.z, p.z <= t.hi.z else { continue }
            let e = t.segment.signedDistance(p) - mediastinalFatMM
            if d == .infinity { d = e; continue }
            let h = Swift.max(k - abs(d - e), 0) / k
            d = Swift.min(d, e) - h * h * k / 4
        }
        return d
    }

    /// The sternum's centre (y, mm): just in front of the lungs (the renderer draws it there).
    var sternumCenterY: Double { lungCenterY - lungAnteriorHalf - 4 * scale }

    /// Approximate signed distance (mm, negative inside) to the surface of lung `side` from
    /// its analytic parts: the section ellipse, the mediastinal band, the heart (with its
    /// pericardium) and the diaphragm. Mediastinal tubes are carved separately (painting).
    @inline(__always)
    func lungShapeDistance(side: Int, x: Double, y: Double, z: Double,
                           section: (cx: Double, cy: Double, a: Double, bA: Double, bP: Double)) -> Double {
        var sd = Self.sectionDistance(x: x, y: y, section: section)
        // Mediastinal band.
        let band = mediastinumHalfWidth(y: y, z: z) - abs(x)
        sd = Swift.max(sd, band)
        // Heart with 3 mm of pericardium and fat.
        sd = Swift.max(sd, -(heartDistance(x: x, y: y, z: z) - 3 * scale))
        // Revision 4: the mediastinum around the great vessels.
        if revision >= 4 && abs(x) < 90 * scale { sd = Swift.max(sd, -mediastinalEnvelopeDistance(SIMD3(x, y, z))) }
        sd = Swift.max(sd, spineBound(x: x, y: y))
        sd = Swift.max(sd, diaphragmBound(side: side, x: x, y: y, z: z))
        // Both lungs: a right pad's medial part can lie left of the midline, under the heart.
        for pad in cardiophrenicFat {
            sd = Swift.max(sd, -pad.distance(x: x, y: y, z: z, anatomy: self))
        }
        return sd
    }

    /// How far (mm) the spine's body (a vertical cylinder with a 4 mm margin) reaches past
    /// (x, y): positive inside it, where the lung ends.
    @inline(__always)
    func spineBound(x: Double, y: Double) -> Double {
        let sy = y - spineY
        return -((x * x + sy * sy).squareRoot() - vertebralRadius - 4 * scale)
    }

    /// How far (mm) below the dome of lung `side` the point lies (vertical distance reduced
    /// for the dome's slope): positive under the diaphragm, where the lung ends.
    @inline(__always)
    func diaphragmBound(side: Int, x: Double, y: Double, z: Double) -> Double {
        (domeZ(side: side, x: x, y: y) - z) * 0.8
    }

    /// Signed distance (mm, negative inside; radial approximation) to a lung section's
    /// outline: an ellipse with different anterior and posterior semi-axes.
    @inline(__always)
    static func sectionDistance(x: Double, y: Double,
                                section: (cx: Double, cy: Double, a: Double, bA: Double, bP: Double)) -> Double {
        let dx = x - section.cx, dy = y - section.cy
        let b = dy < 0 ? section.bA : section.bP
        let nx = dx / section.a, ny = dy / b
        let f = (nx * nx + ny * ny).squareRoot()
        let rr = (dx * dx + dy * dy).squareRoot()
        return f > 1e-9 ? rr * (f - 1) / f : -Swift.min(section.a, b)
    }

    /// (x, y, z) in the heart's own frame (mm from its centre): u along the long axis, + to
    /// the apex (left, anterior and, in revision 4, down), v across it in the tilted axial
    /// plane, + posterior-left (the left ventricle's side of the septum), w the third axis.
    @inline(__always)
    func heartFrame(x: Double, y: Double, z: Double) -> (u: Double, v: Double, w: Double) {
        let dx = x - heartCenter.x, dy = y - heartCenter.y, dz = z - heartCenter.z
        let c = heartCos, s = heartSin
        let u0 = c * dx - s * dy, v = s * dx + c * dy
        // Tilt (revision 4): the +u end (the apex, left and anterior) goes down.
        return (heartTiltCos * u0 - heartTiltSin * dz, v, heartTiltSin * u0 + heartTiltCos * dz)
    }

    /// The anatomy-frame point at heart-frame (u, v, w): the inverse of `heartFrame`.
    func anatomyPoint(u: Double, v: Double, w: Double) -> SIMD3<Double> {
        let u0 = heartTiltCos * u + heartTiltSin * w
        let dz = -heartTiltSin * u + heartTiltCos * w
        let c = heartCos, s = heartSin
        return heartCenter + SIMD3(c * u0 + s * v, -s * u0 + c * v, dz)
    }

    /// The atrioventricular plane's position along the heart's long axis (u, mm): the atria
    /// lie below it, the ventricles above (`chamberBloodDistance`).
    var atrioventricularU: Double { -0.2 * heartSemiAxes.x }

    /// The left ventricle's offset across the septum (v, mm; posterior-left).
    var leftVentricleOffsetV: Double { 0.22 * heartSemiAxes.y }

    /// Revision 4: the four chambers' blood in a contrast scan, as the signed distance (mm,
    /// negative inside) to the nearest chamber's blood pool and whether that is the right
    /// heart. The left ventricle is an ellipsoidal cavity in the heart's posterior-left,
    /// apical part, ringed by 10 mm of myocardium; the right ventricle the crescent of the
    /// heart (inside 4 mm of wall) in front of and to the right of that ring, as on an axial
    /// slice; the atria lie beyond the atrioventricular plane (a fifth of the long axis
    /// towards the base, 5 mm of fibrous ring), 3 mm walls, split by a 4 mm septum.
    /// `outlineMM` is `heartDistance` at the point, which the caller has already computed.
    func chamberBloodDistance(x: Double, y: Double, z: Double, outlineMM outline: Double) -> (distanceMM: Double, rightHeart: Bool) {
        let (u, v, w) = heartFrame(x: x, y: y, z: z)
        let valvesU = atrioventricularU
        if u < valvesU {
            let septumV = -0.1 * heartSemiAxes.y
            let atrium = Swift.max(outline + 3 * scale, Swift.max(2 * scale - abs(v - septumV), u - (valvesU - 2.5 * scale)))
            return (atrium, v < septumV)
        }
        // Left ventricular cavity: an ellipsoid (radial approximation) from the valves to
        // near the apex, offset posterior-left.
        let lvCentre = SIMD3(0.3 * heartSemiAxes.x, leftVentricleOffsetV, 0)
        let lvAxes = SIMD3(0.5 * heartSemiAxes.x, 0.36 * heartSemiAxes.y, 0.42 * heartSemiAxes.z)
        let d = SIMD3(u, v, w) - lvCentre
        let f = ((d / lvAxes) * (d / lvAxes)).sum().squareRoot()
        let r = (d * d).sum().squareRoot()
        let lv = f > 1e-9 ? r * (f - 1) / f : -lvAxes.min()
        let ventricleSide = valvesU + 2.5 * scale - u
        let lvBlood = Swift.max(lv, ventricleSide)
        let rvBlood = Swift.max(Swift.max(outline + 4 * scale, 10 * scale - lv), ventricleSide)
        return lvBlood < rvBlood ? (lvBlood, false) : (rvBlood, true)
    }

    /// Signed distance to the heart ellipsoid (radial approximation), mm.
    @inline(__always)
    func heartDistance(x: Double, y: Double, z: Double) -> Double {
        let (u, v, w) = heartFrame(x: x, y: y, z: z)
        let dx = x - heartCenter.x, dy = y - heartCenter.y, dz = z - heartCenter.z
        let nu = u / heartSemiAxes.x, nv = v / heartSemiAxes.y, nw = w / heartSemiAxes.z
        let f = (nu * nu + nv * nv + nw * nw).squareRoot()
        let rr = (dx * dx + dy * dy + dz * dz).squareRoot()
        let sd = f > 1e-9 ? rr * (f - 1) / f : -heartSemiAxes.min()
        guard revision >= 4 else { return sd }
        // The inferior (diaphragmatic) surface rests on the dome under it.
        return Swift.max(sd, (domeZ(side: x < 0 ? 0 : 1, x: x, y: y) - z) * 0.8)
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

    /// Whether `p`, a point just outside lung `side`, lies beyond its *mediastinal* surface:
    /// inside the lung's section ellipse, above the diaphragm and clear of the spine, so what
    /// bounds the lung there is the mediastinum (its band, the heart and pericardium, the
    /// great vessels' fat, a mediastinal tube), not the chest wall, the dome or the spine.
    func isBeyondMediastinalSurface(_ p: SIMD3<Double>, side: Int) -> Bool {
        guard let sec = lungSection(side: side, z: p.z) else { return false }
        let margin = 1 * scale
        let ellipse = Self.sectionDistance(x: p.x, y: p.y, section: sec)
        return ellipse < -margin && spineBound(x: p.x, y: p.y) < -margin
            && diaphragmBound(side: side, x: p.x, y: p.y, z: p.z) < -margin
    }

    /// Axis-aligned box (mm) that holds lung `side`.
    public func lungBounds(side: Int) -> (min: SIMD3<Double>, max: SIMD3<Double>) {
        let a = lungHalfWidth[side] * 1.02
        return (SIMD3(lungCenterX[side] - a, lungCenterY - lungAnteriorHalf * 1.02, -leftDomeDropMM - 80 * scale),
                SIMD3(lungCenterX[side] + a, lungCenterY + lungPosteriorHalf, lungHeightMM))
    }

    // MARK: Fissures and lobes

    /// Height of lung `side`'s oblique fissure above (x, y) and its slope (dz/dx, dz/dy).
    @inline(__always)
    func obliqueFissure(side: Int, x: Double, y: Double) -> (z: Double, dx: Double, dy: Double) {
        obliqueFissures[side].height(x: x, y: y)
    }

    /// Height of the right minor (horizontal) fissure above (x, y) and its slope; it exists
    /// only in front of the oblique fissure (between the upper and middle lobes).
    @inline(__always)
    func minorFissure(x: Double, y: Double) -> (z: Double, dx: Double, dy: Double) {
        let w = lungHalfWidth[0]
        let u = (x - lungCenterX[0]) / w, v = (y - lungCenterY) / lungAnteriorHalf
        let z = minorFissureZ + minorFissureTilt * (y - lungCenterY) - minorFissureDome * (u * u + v * v)
        return (z, -2 * minorFissureDome * u / w, minorFissureTilt - 2 * minorFissureDome * v / lungAnteriorHalf)
    }

    /// Signed distances (mm, positive above) from `p` to lung `side`'s fissures: the oblique
    /// one, and for the right lung the minor one (infinite where it does not exist).
    func fissureDistances(side: Int, _ p: SIMD3<Double>) -> (oblique: Double, minor: Double) {
        let o = obliqueFissure(side: side, x: p.x, y: p.y)
        let oblique = (p.z - o.z) / (1 + o.dx * o.dx + o.dy * o.dy).squareRoot()
        guard side == 0, oblique > 0 else { return (oblique, .infinity) }
        let m = minorFissure(x: p.x, y: p.y)
        return (oblique, (p.z - m.z) / (1 + m.dx * m.dx + m.dy * m.dy).squareRoot())
    }

    /// Lobe of a point of lung `side`: right 0 upper, 1 middle, 2 lower; left 0 upper
    /// (with the lingula), 1 lower.
    public func lobe(side: Int, _ p: SIMD3<Double>) -> Int {
        let f = fissureDistances(side: side, p)
        if f.oblique <= 0 { return side == 0 ? 2 : 1 }
        return side == 0 && f.minor <= 0 ? 1 : 0
    }

    // MARK: Body

    /// Lateral extent of the wider lung (mm from the midline) at its base.
    var lungLateralMM: Double { Swift.max(lungCenterX[1] + lungHalfWidth[1], -lungCenterX[0] + lungHalfWidth[0]) }

    /// Generator 2's body outline (half-width, anterior, posterior extents), kept for the
    /// inner thoracic cage (`cavityDistance`) and for sizing the anatomy scale exactly as
    /// generator 2 did, so a seed keeps its lungs.
    private var cageHalfWidth: Double { lungLateralMM + 22 * scale + fatMM }
    private var cageAnterior: Double { lungAnteriorHalf - lungCenterY + 24 * scale + fatMM }
    private var cagePosterior: Double { spineY + vertebralRadius + 62 * scale + fatMM }

    /// Signed distance to the inner thoracic cage (the pleural space and mediastinum, inside
    /// the chest-wall muscles, which are thicker over the back): generator 2's body ellipse
    /// shrunk by the fat and the wall.
    @inline(__always)
    func cavityDistance(x: Double, y: Double) -> Double {
        let back = Swift.min(1, y / cagePosterior)
        let wall = 14 * scale + (y > 0 ? 30 * scale * back * back : 0)
        let inset = fatMM + wall
        let a = cageHalfWidth - inset
        let b = (y < 0 ? cageAnterior : cagePosterior * 1.12) - inset
        let nx = x / a, ny = y / b
        let f = (nx * nx + ny * ny).squareRoot()
        let rr = (x * x + y * y).squareRoot()
        let sd = f > 1e-9 ? rr * (f - 1) / f : -a
        return Swift.max(sd, y - (cagePosterior - inset))
    }

    /// Generator 2's largest body radius, which decided the anatomy scale's retries; kept so
    /// the same seed gives the same lungs (the FOV is now fitted to `bodyExtentMM`).
    var legacyBodyRadiusMM: Double { Swift.max(cageHalfWidth, Swift.max(cageAnterior, cagePosterior)) * 1.04 }

    /// The trunk's axial outline at height z (generator 3). An adult chest is an ellipse about
    /// 1.4-1.7 times wider than deep: broad and gently curved in front, flat on the table at
    /// the back with full posterolateral corners; wider at the shoulder girdle, narrowing to
    /// the waist below the lungs and towards the neck above the apices.
    func bodySection(z: Double) -> BodySection {
        let s = scale
        let u = z / lungHeightMM
        @inline(__always) func smooth(_ t: Double) -> Double {
            let c = Swift.min(1, Swift.max(0, t))
            return c * c * (3 - 2 * c)
        }
        let fatLateral = fatMM * lateralFatFactor, fatAnterior = fatMM * 0.75, fatPosterior = fatMM * 0.6
        let width = 1 + shoulderWiden * smooth((u - 0.55) / 0.4) - waistNarrow * smooth((0.1 - u) / 0.5)
            - 0.25 * smooth((u - 1.08) / 0.35)
        let depth = 1 - upperFlatten * smooth((u - 0.55) / 0.45) - 0.12 * smooth((u - 1.08) / 0.35)
        // Front: 16 mm of tissue in front of the lungs (the sternum and pectoral muscles) and
        // the fat; back: flat on the table 50 mm behind the vertebral body (the spinous
        // process and the erector spinae) and the fat (compressed on the table).
        let anterior0 = lungAnteriorHalf - lungCenterY + 16 * s + fatAnterior
        let posterior = spineY + vertebralRadius + 50 * s + fatPosterior
        // Lateral soft tissue (serratus, latissimus; at least 18 mm) sized for the case's
        // width / depth at mid-chest.
        let halfWidth0 = Swift.max(midChestWidthToDepth * (anterior0 + posterior) / 2,
                                   lungLateralMM + 8 * s + 18 * s + fatLateral)
        let halfWidth = halfWidth0 * width
        let anterior = anterior0 * depth
        return BodySection(halfWidth: halfWidth, anterior: anterior, posterior: posterior,
                           fatLateral: fatLateral, fatAnterior: fatAnterior, fatPosterior: fatPosterior)
    }

    /// Signed distance to the skin at height z: the section's outline with its irregular
    /// angular harmonics and the breasts, never inside `muscleDistance` + 3 mm. Arms excluded.
    @inline(__always)
    func skinDistance(x: Double, y: Double, z: Double, section: BodySection, muscleDistance: Double) -> Double {
        let base = section.distance(x: x, y: y)
        // The harmonics move the outline by at most 7.3% of the half-width (slow variation
        // included) and the breasts by breastMM: beyond that, nothing changes.
        let reach = 0.075 * section.halfWidth + 2
        if base < -(reach + breastMM) || base > reach { return Swift.min(base, muscleDistance - 3) }
        let theta = atan2(y, x)
        let r = section.halfWidth
        var bump = 0.0
        let slow = 1 + 0.4 * sin(z / (70 * scale) + outlineHarmonics[0].phase)
        for (k, h) in outlineHarmonics.enumerated() {
            bump += h.amplitude / Double(k + 1) * cos(Double(k + 2) * theta + h.phase) * slow
        }
        // The back stays flat on the table.
        var sd = Swift.max(base - bump * r, y - section.posterior)
        if breastMM > 0 && y < 0 {
            // Two smooth bulges in front, centred about half way out, over the mid chest.
            let bx = abs(x) - 0.45 * r
            let fall = exp(-(bx * bx) / (2 * pow(38 * scale, 2)) - pow((z - breastZ) / (60 * scale), 2))
            sd -= breastMM * fall * Swift.min(1, -y / (40 * scale))
        }
        return Swift.min(sd, muscleDistance - 3)
    }

    /// Glandular-tissue fraction of the breast at (x, y, z) (0 outside), for the renderer.
    @inline(__always)
    func breastGland(x: Double, y: Double, z: Double, section: BodySection) -> Double {
        guard breastMM > 0, y < 0 else { return 0 }
        let cx = 0.45 * section.halfWidth * (x < 0 ? -1 : 1)
        let cy = -section.anterior + section.fatAnterior * 0.3 - breastMM * 0.35
        let dx = (x - cx) / (28 * scale + breastMM * 0.3), dy = (y - cy) / (breastMM * 0.45 + 4 * scale)
        let dz = (z - breastZ) / (40 * scale)
        let q = dx * dx + dy * dy + dz * dz
        return q < 1 ? (1 - q) : 0
    }

    /// Signed distance (mm) to the arm on the side of x (upper arm: a slightly flattened
    /// cylinder beside the chest), or +infinity when the arms are raised.
    @inline(__always)
    func armDistance(x: Double, y: Double, section: BodySection) -> (distanceMM: Double, centerX: Double) {
        guard armsAtSides else { return (.infinity, 0) }
        let cx = (x < 0 ? -1.0 : 1.0) * (section.halfWidth + armGapMM + armRadiusMM * 0.85)
        let dx = x - cx, dy = y - armY
        let nx = dx / (armRadiusMM * 0.85), ny = dy / armRadiusMM
        let f = (nx * nx + ny * ny).squareRoot()
        let rr = (dx * dx + dy * dy).squareRoot()
        return (f > 1e-9 ? rr * (f - 1) / f : -armRadiusMM * 0.85, cx)
    }

    /// Largest distance (mm) of the body (skin outline with harmonics and breasts, and the
    /// arms when they rest at the sides) from `center` in the axial plane, over the heights
    /// `zs`, found by bisection along 64 directions per height. For fitting the FOV.
    public func bodyExtentMM(from center: SIMD2<Double>, heights zs: [Double]) -> Double {
        var best = 0.0
        for z in zs {
            let sec = bodySection(z: z)
            func inside(_ x: Double, _ y: Double) -> Bool {
                let muscle = sec.fatInnerDistance(x: x, y: y)
                if skinDistance(x: x, y: y, z: z, section: sec, muscleDistance: muscle) < 0 { return true }
                return armDistance(x: x, y: y, section: sec).distanceMM < 0
            }
            let far = sec.halfWidth * 1.3 + (armsAtSides ? armGapMM + 2 * armRadiusMM : 0)
                + (center * center).sum().squareRoot()
            for i in 0..<64 {
                let t = Double(i) / 64 * 2 * .pi
                let dir = SIMD2(cos(t), sin(t))
                // Outermost crossing: march in from outside the body, then bisect.
                var hi = far, lo = far
                while lo > 0 {
                    hi = lo
                    lo -= 3 * scale
                    let p = center + dir * lo
                    if inside(p.x, p.y) { break }
                }
                guard lo > 0 else { continue }
                for _ in 0..<12 {
                    let mid = (lo + hi) / 2
                    let p = center + dir * mid
                    if inside(p.x, p.y) { lo = mid } else { hi = mid }
                }
                best = Swift.max(best, lo)
            }
        }
        return best
    }

    /// The scapula of side `side` (x sign) at height z as a polyline in the axial plane
    /// (lateral border, middle, medial border) and its half-thickness, or nil outside it.
    func scapula(side: Int, z: Double) -> (points: [SIMD2<Double>], halfThicknessMM: Double)? {
        let top = lungHeightMM + 12 * scale
        guard z < top, z > scapulaBottomZ else { return nil }
        // The scapula is a triangle: wide below the spine, narrowing to the inferior angle.
        let t = (top - z) / (top - scapulaBottomZ)          // 0 at the top, 1 at the inferior angle
        guard let sec = lungSection(side: side, z: Swift.min(z, lungHeightMM * 0.75)) else { return nil }
        let sign: Double = side == 0 ? -1 : 1
        func point(_ psi: Double, _ extra: Double) -> SIMD2<Double> {
            let c = cos(psi), sn = sin(psi)
            let rr = 1 / ((c / sec.a) * (c / sec.a) + (sn / sec.bP) * (sn / sec.bP)).squareRoot()
            return SIMD2(sec.cx + sign * c * (rr + extra), sec.cy + sn * (rr + extra))
        }
        let psiMedial = 1.3
        let psiLateral = 0.5 + 0.7 * t
        guard psiLateral < psiMedial - 0.05 else { return nil }
        let gap = 15 * scale
        let points = [point(psiLateral, gap + 4 * scale), point((psiLateral + psiMedial) / 2, gap + 2 * scale),
                      point(psiMedial, gap)]
        return (points, (1.6 + 1.4 * (1 - t)) * scale)
    }

    /// Reference body half-width of the average adult (scale 1), from which the anatomy scale
    /// is drawn (the FOV is then fitted to the body).
    public static let referenceBodyHalfWidthMM = 175.0
}

/// An oblique fissure: the curved surface z = f(x, y) rising towards the back (`slope` mm per
/// mm, concave by `bend`), bowed (`bow`, mm at the lung's sides), twisted (`twist`) and
/// rising laterally (`lateralRise`, mm at the lateral edge; signed per side), so its trace on
/// an axial slice is a curve from posteromedial to anterolateral, as on real CT.
struct ObliqueFissure: Sendable {
    var base, slope, bend, bow, twist, lateralRise: Double
    /// The lung's centre line and half-width, and the length unit (100 mm x scale).
    var centerX, halfWidth, centerY, lengthMM: Double

    /// Height (mm) above (x, y) and the slopes dz/dx, dz/dy.
    @inline(__always)
    func height(x: Double, y: Double) -> (z: Double, dx: Double, dy: Double) {
        let u = (x - centerX) / halfWidth
        let v = (y - centerY) / lengthMM
        let z = base + lengthMM * (slope * v + bend * v * v) + bow * u * u + twist * lengthMM * u * v * 0.3
            + lateralRise * u
        let dx = (2 * bow * u + twist * lengthMM * 0.3 * v + lateralRise) / halfWidth
        let dy = slope + 2 * bend * v + twist * 0.3 * u
        return (z, dx, dy)
    }
}

/// The trunk's axial outline at one height: a half ellipse in front and a superellipse half
/// (exponent 2.5, full posterolateral corners) behind, cut flat on the table at
/// `posterior` (the flat part spans about 60% of the width), and the subcutaneous fat
/// thickness per direction.
struct BodySection: Sendable {
    var halfWidth: Double
    /// Anterior extent (mm in front of the origin) and the flat back (mm behind it).
    var anterior: Double
    var posterior: Double
    var fatLateral: Double
    var fatAnterior: Double
    var fatPosterior: Double

    /// Signed distance (mm, first-order: exact on the outline, approximate away from it) to
    /// the skin outline, without harmonics or breasts.
    @inline(__always)
    func distance(x: Double, y: Double) -> Double {
        BodySection.outline(x: x, y: y, a: halfWidth, front: anterior, back: posterior)
    }

    /// Signed distance to the inner surface of the subcutaneous fat (the muscle layer).
    @inline(__always)
    func fatInnerDistance(x: Double, y: Double) -> Double {
        BodySection.outline(x: x, y: y, a: halfWidth - fatLateral, front: anterior - fatAnterior,
                            back: posterior - fatPosterior)
    }

    @inline(__always)
    static func outline(x: Double, y: Double, a: Double, front: Double, back: Double) -> Double {
        let ax = abs(x) / a
        let sd: Double
        if y < 0 {
            // An ellipse in front.
            let ay = -y / front
            let f = ax * ax + ay * ay
            let gx = 2 * ax / a, gy = 2 * ay / front
            let g = (gx * gx + gy * gy).squareRoot()
            sd = g > 1e-9 ? (f - 1) / g : -Swift.min(a, front)
        } else {
            // |x/a|^2.5 + |y/b|^2.5 = 1 behind, b 15% beyond the flat back.
            let b = back * 1.15
            let ay = y / b
            let rx = ax.squareRoot(), ry = ay.squareRoot()
            let f = ax * ax * rx + ay * ay * ry
            let gx = 2.5 * ax * rx / a, gy = 2.5 * ay * ry / b
            let g = (gx * gx + gy * gy).squareRoot()
            sd = g > 1e-9 ? (f - 1) / g : -Swift.min(a, back)
        }
        return Swift.max(sd, y - back)
    }
}
