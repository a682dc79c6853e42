import Foundation

// Pathology besides nodules and emphysema/atelectasis that a detector meets on real chest CT
// and must not call a nodule: pleural effusion and lobar consolidation; and a breathing
// artefact (`RespiratoryMotion`). Each is drawn per
// case from its own random stream (so a seed's scans without them stay as they were); the
// renderer paints them in the lung pass (`Scene.effusion`, `Scene.consolidation`), and a
// nodule they would cover is not placed (it would be invisible, so it cannot be truth).

/// Approximate signed distance (mm, negative inside) from `p` to an ellipsoid: the distance
/// along the ray from its centre, exact for a sphere; what the outlines of consolidations and
/// ground-glass patches are drawn from before their noise.
@inline(__always)
func ellipsoidDistance(_ p: SIMD3<Double>, center: SIMD3<Double>, semiAxesMM: SIMD3<Double>) -> Double {
    let q = (p - center) / semiAxesMM
    let f = (q * q).sum().squareRoot()
    let r = ((p - center) * (p - center)).sum().squareRoot()
    return f > 1e-9 ? r * (f - 1) / f : -semiAxesMM.min()
}

/// Free pleural fluid in a supine patient (Fleischner Society glossary, Hansell et al.,
/// Radiology 2008;246:697-722; CT appearance as in Webb, Müller & Naidich, *High-Resolution
/// CT of the Lung*): a dependent crescent along the posterior chest wall, thickest at the
/// base and in the posterior costophrenic recess, thinning towards the front and upwards,
/// of water density (transudate 0-15 HU, exudate up to ~30), with a band of compressed,
/// airless lung (passive atelectasis) along its surface.
public struct PleuralEffusion: Sendable, Equatable {
    /// Which pleural spaces hold fluid (index 0 right, 1 left).
    public let sides: [Bool]
    /// Greatest fluid depth below the lung's surface (mm), at the posterior base.
    public let maximumThicknessMM: Double
    /// Anatomy-frame height (mm) above which there is no fluid.
    public let topZ: Double
    /// Mean HU of the fluid.
    public let fluidHU: Double

    static func draw(anatomy a: ChestAnatomy, random r: inout PhantomRandom) -> PleuralEffusion {
        let which = r.weighted([(0, 0.35), (1, 0.25), (2, 0.4)])
        return PleuralEffusion(sides: [which != 1, which != 0],
                               maximumThicknessMM: r.uniform(8, 40) * a.scale,
                               topZ: a.lungHeightMM * r.uniform(0.15, 0.45),
                               fluidHU: r.uniform(2, 25))
    }

    /// Fluid depth (mm below the lung's analytic surface) in lung `side` at height `z`, where
    /// `posterior` is 0 at the front of the lung's section and 1 at its back.
    @inline(__always)
    func thicknessMM(side: Int, z: Double, posterior: Double) -> Double {
        guard sides[side], z < topZ else { return 0 }
        let height = Scene.smooth((topZ - z) / Swift.max(20, 0.6 * topZ + 30))
        let back = Scene.smooth((posterior - 0.3) / 0.55)
        return maximumThicknessMM * height * back
    }

    /// Thickness (mm) of the compressed lung along the fluid's surface.
    @inline(__always)
    static func rimMM(thicknessMM t: Double) -> Double { 1.5 + 0.08 * t }

    /// Depth of `p` below the surface of each lung with fluid that holds it, with the fluid's
    /// thickness there (analytic; not for hot loops).
    private func depths(_ p: SIMD3<Double>, anatomy a: ChestAnatomy) -> [(depthMM: Double, thicknessMM: Double)] {
        (0..<2).compactMap { side in
            guard sides[side], let sec = a.lungSection(side: side, z: p.z) else { return nil }
            let sd = a.lungShapeDistance(side: side, x: p.x, y: p.y, z: p.z, section: sec)
            guard sd < 0 else { return nil }
            let posterior = Swift.min(1, Swift.max(0, (p.y - sec.cy + sec.bA) / (sec.bA + sec.bP)))
            let t = thicknessMM(side: side, z: p.z, posterior: posterior)
            return t > 0.2 ? (-sd, t) : nil
        }
    }

    /// Whether anatomy-frame point `p` lies in the fluid or its atelectatic rim, widened by
    /// `marginMM`.
    func covers(_ p: SIMD3<Double>, anatomy a: ChestAnatomy, marginMM: Double = 0) -> Bool {
        depths(p, anatomy: a).contains { $0.depthMM < $0.thicknessMM + PleuralEffusion.rimMM(thicknessMM: $0.thicknessMM) + marginMM }
    }

    /// How far (mm) `p` lies inside the fluid, measured to the fluid's surface against the
    /// lung; nil when `p` is not in the fluid.
    public func fluidDepthMM(_ p: SIMD3<Double>, anatomy a: ChestAnatomy) -> Double? {
        depths(p, anatomy: a).first { $0.depthMM < $0.thicknessMM }.map { $0.thicknessMM - $0.depthMM }
    }
}

/// Lobar (or segmental) consolidation, as in bacterial pneumonia (Fleischner Society
/// glossary: "a homogeneous increase in pulmonary parenchymal attenuation that obscures the
/// margins of vessels and airway walls"; air bronchograms may be present): an irregular
/// region of soft-tissue density inside one lobe, cut flat by the lobe's fissure, with a
/// ground-glass margin. The airways running through it stay dark (air bronchograms) and the
/// vessels vanish in it (without contrast) because the renderer draws both on top of it.
public struct Consolidation: Sendable, Equatable {
    /// Lung (0 right, 1 left) and lobe (`ChestAnatomy.lobe`) holding it.
    public let side: Int
    public let lobe: Int
    /// Centre (anatomy frame, mm) and semi-axes (mm) of the ellipsoid it is drawn from.
    public let center: SIMD3<Double>
    public let semiAxesMM: SIMD3<Double>
    /// Mean HU of the airless lung.
    public let hu: Double
    /// Width (mm) of the ground-glass margin.
    static let marginMM = 5.0

    static func draw(anatomy a: ChestAnatomy, random r: inout PhantomRandom) -> Consolidation? {
        let side = r.chance(0.55) ? 0 : 1
        let (lo, hi) = a.lungBounds(side: side)
        let axes = SIMD3(r.uniform(18, 40), r.uniform(18, 40), r.uniform(20, 50)) * a.scale
        // A centre well inside the lung, lower lobes more often (aspiration, most pneumonias).
        for _ in 0..<400 {
            let p = SIMD3(r.uniform(lo.x, hi.x), r.uniform(lo.y, hi.y), r.uniform(lo.z, hi.z))
            let (d, s) = a.lungDistance(p)
            guard s == side, d < -12 * a.scale else { continue }
            let lobe = a.lobe(side: side, p)
            let lower = (side == 0 && lobe == 2) || (side == 1 && lobe == 1)
            if !lower && r.chance(0.4) { continue }
            return Consolidation(side: side, lobe: lobe, center: p, semiAxesMM: axes,
                                 hu: a.contrast ? r.uniform(45, 70) : r.uniform(25, 45))
        }
        return nil
    }

    /// Largest extent from the centre (mm), for bounding boxes.
    var boundingRadiusMM: Double { semiAxesMM.max() * 1.3 + Consolidation.marginMM }

    /// Signed distance (mm, negative inside; approximate) to the consolidation's surface at
    /// `p`: the ellipsoid with a noisy outline, cut by the lobe's fissures. `seed` picks the
    /// outline's noise.
    @inline(__always)
    func signedDistance(_ p: SIMD3<Double>, anatomy a: ChestAnatomy, seed: UInt64) -> Double {
        var sd = ellipsoidDistance(p, center: center, semiAxesMM: semiAxesMM)
        // A ragged outline: lobular bumps of ~10 mm and acinar ones of ~3 mm.
        sd += 0.3 * semiAxesMM.min() * Scene.valueNoise(p.x / 11, p.y / 11, p.z / 11, seed: seed &+ 61)
            + 2.5 * Scene.valueNoise(p.x / 3, p.y / 3, p.z / 3, seed: seed &+ 63)
        // The lobe's own region: a signed distance to its fissure(s) (negative inside).
        let fissures = a.fissureDistances(side: side, p)
        let lobeDistance: Double
        if side == 0 {
            switch lobe {
            case 2: lobeDistance = fissures.oblique
            case 1: lobeDistance = Swift.max(-fissures.oblique, fissures.minor)
            default: lobeDistance = Swift.max(-fissures.oblique, -fissures.minor)
            }
        } else {
            lobeDistance = lobe == 1 ? fissures.oblique : -fissures.oblique
        }
        return Swift.max(sd, lobeDistance)
    }
}

/// A breath during the scan (Barrett & Keat, "Artifacts in CT: recognition and avoidance",
/// RadioGraphics 2004;24:1679-1691): the patient's chest moved while a band of slices was
/// acquired, so those slices show the anatomy displaced cranio-caudally. At the band's two
/// edges structures jump: vessels are cut off or repeated, the diaphragm shows a step in
/// reformats, and a vessel's cut end looks like a nodule in the neighbouring slices.
/// The band avoids the nodules (their truth stays exact).
public struct RespiratoryMotion: Sendable, Equatable {
    /// Generation slice indices (0 most inferior) of the band, inclusive.
    public let firstSlice: Int
    public let lastSlice: Int
    /// Displacement (mm) of the anatomy shown in the band: each of its slices shows the
    /// anatomy `shiftMM` above its own position (negative: below).
    public let shiftMM: Double

    /// A band of 4-12 % of the slices within the lungs, shifted 3-10 mm either way, clear of
    /// every nodule (with 3 mm to spare) both where it is and where it shows anatomy from;
    /// nil when 40 tries found no such band.
    static func draw(slices: Int, firstZ: Double, spacingMM: Double, lungZ: ClosedRange<Double>,
                     nodules: [PhantomNodule], random r: inout PhantomRandom) -> RespiratoryMotion? {
        let shift = r.uniform(3, 10) * (r.chance(0.5) ? 1 : -1)
        let length = Swift.max(2, Int((Double(slices) * r.uniform(0.04, 0.12)).rounded()))
        let lo = Swift.max(0, Int(((lungZ.lowerBound - firstZ) / spacingMM).rounded(.up)))
        let hi = Swift.min(slices - 1, Int(((lungZ.upperBound - firstZ) / spacingMM).rounded(.down))) - length + 1
        guard hi > lo else { return nil }
        for _ in 0..<40 {
            let first = r.int(lo...hi)
            let z0 = firstZ + Double(first) * spacingMM - spacingMM / 2
            let z1 = firstZ + Double(first + length - 1) * spacingMM + spacingMM / 2
            let clear = nodules.allSatisfy { n in
                let reach = n.boundingRadiusMM + 3
                let shown = (z0 + Swift.min(0, shift) - reach)...(z1 + Swift.max(0, shift) + reach)
                return !shown.contains(n.center.z)
            }
            if clear { return RespiratoryMotion(firstSlice: first, lastSlice: first + length - 1, shiftMM: shift) }
        }
        return nil
    }

    /// The displacement (mm) of slice `k`: `shiftMM` in the band, 0 elsewhere.
    @inline(__always)
    func shiftMM(slice k: Int) -> Double { k >= firstSlice && k <= lastSlice ? shiftMM : 0 }
}

/// Multifocal ground-glass opacities, as in viral pneumonia and the "typical" COVID-19
/// pattern (Fleischner Society glossary: ground glass is "hazy increased opacity of lung,
/// with preservation of bronchial and vascular margins"; Bernheim et al., "Chest CT findings
/// in coronavirus disease-19 (COVID-19)", Radiology 2020;295:685-691; Simpson et al., RSNA
/// expert consensus statement, Radiology: Cardiothoracic Imaging 2020;2:e200152): several
/// rounded patches in both lungs, peripheral (subpleural) and more often posterior and
/// basal, 1.5-6 cm, some with "crazy paving" (thickened interlobular septa drawn over the
/// ground glass). The vessels and airways stay visible through them: the renderer paints the
/// patches into the parenchyma, under the trees. The `../shared/real-ct` slices are full of
/// them, and a detector must not call each patch a ground-glass nodule.
public struct GroundGlassOpacities: Sendable, Equatable {
    public struct Patch: Sendable, Equatable {
        /// Centre (anatomy frame, mm) and semi-axes (mm) of the ellipsoid it is drawn from.
        public let center: SIMD3<Double>
        public let semiAxesMM: SIMD3<Double>
        /// Lung (0 right, 1 left) holding the centre.
        public let side: Int
        /// Mean HU of the ground glass.
        public let hu: Double
        /// Whether thickened septa are drawn over it (crazy paving).
        public let crazyPaving: Bool

        /// Largest extent from the centre (mm), for bounding boxes.
        var boundingRadiusMM: Double { semiAxesMM.max() * 1.25 + GroundGlassOpacities.edgeMM }

        /// Signed distance (mm, negative inside; approximate) to the patch's ragged outline.
        @inline(__always)
        func signedDistance(_ p: SIMD3<Double>, seed: UInt64) -> Double {
            var sd = ellipsoidDistance(p, center: center, semiAxesMM: semiAxesMM)
            // Ragged: lobular bumps of ~9 mm and smaller ones of ~3 mm.
            sd += 0.4 * semiAxesMM.min() * Scene.valueNoise(p.x / 9, p.y / 9, p.z / 9, seed: seed &+ 73)
                + 2 * Scene.valueNoise(p.x / 3, p.y / 3, p.z / 3, seed: seed &+ 79)
            return sd
        }
    }

    public let patches: [Patch]
    /// Width (mm) over which a patch fades into normal lung: ground glass has no sharp edge.
    static let edgeMM = 3.0

    /// 3-8 patches (at least one in each lung), centred 4-20 mm under the costal pleura, posterior
    /// and lower zones favoured; nil when the lungs are too small to hold one.
    static func draw(anatomy a: ChestAnatomy, random r: inout PhantomRandom) -> GroundGlassOpacities? {
        let count = r.int(3...8)
        var patches: [Patch] = []
        for k in 0..<count {
            let side = k < 2 ? k : (r.chance(0.5) ? 0 : 1)
            let (lo, hi) = a.lungBounds(side: side)
            let axes = SIMD3(r.uniform(8, 26), r.uniform(8, 26), r.uniform(8, 30)) * a.scale
            for _ in 0..<600 {
                let p = SIMD3(r.uniform(lo.x, hi.x), r.uniform(lo.y, hi.y), r.uniform(lo.z, hi.z))
                let (d, s) = a.lungDistance(p)
                guard s == side, d < -4 * a.scale, d > -20 * a.scale else { continue }
                // Posterior (LPS +y) and basal predominance, as in viral pneumonia.
                let posterior = (p.y - lo.y) / Swift.max(1, hi.y - lo.y)
                let basal = 1 - (p.z - lo.z) / Swift.max(1, hi.z - lo.z)
                // Under the costal pleura (lateral or posterior), not the mediastinal one.
                let lateral = (p.x - a.lungCenterX[side]) * (side == 0 ? -1 : 1) / a.lungHalfWidth[side]
                guard lateral > 0.1 || posterior > 0.7 else { continue }
                guard r.chance(0.35 + 0.35 * posterior + 0.3 * basal) else { continue }
                patches.append(Patch(center: p, semiAxesMM: axes, side: side, hu: r.uniform(-720, -500),
                                     crazyPaving: r.chance(0.35)))
                break
            }
        }
        return patches.isEmpty ? nil : GroundGlassOpacities(patches: patches)
    }

    /// Whether anatomy-frame point `p` lies in a patch or within `marginMM` of one.
    func covers(_ p: SIMD3<Double>, seed: UInt64, marginMM: Double) -> Bool {
        patches.contains { $0.signedDistance(p, seed: seed) < marginMM }
    }
}

/// Photon-starvation streaks (Barrett & Keat, "Artifacts in CT: recognition and avoidance",
/// RadioGraphics 2004;24:1679-1691): where the X-ray path is longest, through the shoulders,
/// too few photons reach the detector in the lateral projections, and filtered back
/// projection turns the noisy projections into fine dark and bright lines across the image,
/// nearly horizontal, strongest at the shoulders and the lung apices and fading towards the
/// hila. A streak crossing a vessel can break it into a dot-like piece; the detector must
/// not call those nodules. Added to the reconstructed slice with the noise (`apply`).
public struct StreakArtefact: Sendable, Equatable {
    /// Streak amplitude at the shoulders (HU).
    public let amplitudeHU: Double
    /// Anatomy-frame height (mm) at and above which the streaks are at full strength; they
    /// fade to nothing over `fadeMM` below it.
    public let fullZ: Double
    public let fadeMM: Double

    static func draw(anatomy a: ChestAnatomy, random r: inout PhantomRandom) -> StreakArtefact {
        StreakArtefact(amplitudeHU: r.uniform(40, 110), fullZ: a.lungHeightMM * r.uniform(0.85, 0.95),
                       fadeMM: a.lungHeightMM * r.uniform(0.3, 0.5))
    }

    /// Strength in [0, 1] at anatomy height `z`.
    @inline(__always)
    public func strength(z: Double) -> Double { Scene.smooth((z - fullZ + fadeMM) / fadeMM) }

    /// Streaks of the slice at anatomy height `z` (generation slice `slice`) added to `image`
    /// (`columns` x `rows`, row-major): 10-20 dark-bright line pairs, within 15 degrees of the
    /// horizontal, through the middle 70 % of the image's height, each of its own amplitude
    /// (up to `amplitudeHU` times the strength). From a per-slice stream.
    func apply(to image: UnsafeMutableBufferPointer<Float>, columns: Int, rows: Int, z: Double, slice: Int,
               seed: UInt64, caseIndex: Int) {
        let w = strength(z: z)
        guard w > 0.01 else { return }
        var r = PhantomRandom(seed: seed, stream: UInt64(caseIndex) << 20 | UInt64(slice) | 1 << 61)
        let count = r.int(10...20)
        for _ in 0..<count {
            let angle = r.uniform(-15, 15) * Double.pi / 180
            let y0 = Double(rows) * r.uniform(0.15, 0.85)
            let amplitude = Float(w * amplitudeHU * r.uniform(0.3, 1) * (r.chance(0.5) ? 1 : -1))
            // Line through (columns / 2, y0) with direction (cos, sin): signed pixel distance
            // of (x, y) is (y - y0) cos - (x - columns / 2) sin.
            let c = cos(angle), s = sin(angle)
            // Per column, only the rows within 3 pixels of the line (|d| < 3 means
            // y - y0 = ((x - columns / 2) s + d) / c, and c > 0.96).
            for x in 0..<columns {
                let along = (Double(x) - Double(columns) / 2) * s
                let yLow = Swift.max(0, Int(((along - 3) / c + y0).rounded(.down)))
                let yHigh = Swift.min(rows - 1, Int(((along + 3) / c + y0).rounded(.up)))
                guard yLow <= yHigh else { continue }
                for y in yLow...yHigh {
                    let d = Float((Double(y) - y0) * c - along)
                    guard abs(d) < 3 else { continue }
                    // A dark-bright doublet: the line and, 1.5 pixels beside it, its opposite.
                    image[y * columns + x] += amplitude * (exp(-d * d / 0.5) - exp(-(d - 1.5) * (d - 1.5) / 0.5))
                }
            }
        }
    }
}
