import DICOM
import Foundation

/// Everything that defines one synthetic scan: anatomy, trees, nodules, acquisition and
/// storage choices, identifiers. Built deterministically from (seed, case index, options);
/// rendering it (`PhantomRenderer`) gives the HU volume.
public struct PhantomCase: Sendable {
    public let caseID: String
    public let seed: UInt64
    public let index: Int
    public let anatomy: ChestAnatomy

    // Geometry of the rendered grid (generation order: slice 0 is the most inferior).
    public let columns: Int
    public let rows: Int
    public let slices: Int
    public let pixelSpacingMM: Double
    public let sliceSpacingMM: Double
    /// Anatomy-frame position (mm) of voxel (0, 0, 0)'s centre.
    public let gridOrigin: SIMD3<Double>
    /// LPS = anatomy + patientOffset (table position, centring).
    public let patientOffset: SIMD3<Double>

    // Structures.
    public let vesselSegments: [TubeSegment]
    /// Per vessel segment: 0 artery, 1 vein (they get different HU with contrast).
    let vesselIsVein: [Bool]
    public let airwaySegments: [TubeSegment]
    let airwayWallMM: [Double]
    /// Per airway segment: whether its lumen is filled with mucus (`mucusPlugs`).
    let airwayIsPlugged: [Bool]
    public let ribSegments: [TubeSegment]
    let ribIsCartilage: [Bool]
    public let nodules: [PhantomNodule]

    // Acquisition.
    /// In-plane Gaussian PSF sigma (mm).
    public let psfSigmaMM: Double
    /// Target noise standard deviation (HU) in uniform regions.
    public let noiseHU: Double
    /// Sub-slices averaged per slice (slice-profile partial volume).
    public let subSlices: Int

    // Pathology besides the nodules.
    /// Emphysema severity in [0, 1] (0: none): how much of the upper zones the centrilobular
    /// lucencies take (`PhantomOptions.emphysemaFraction`).
    public let emphysemaSeverity: Double
    /// Whether the emphysema also has a paraseptal (subpleural, thin-walled) component.
    public let paraseptalEmphysema: Bool
    /// Dependent atelectasis severity in [0, 1] (0: none): how thick the posterior basal
    /// subpleural band is (`PhantomOptions.atelectasisFraction`).
    public let atelectasisSeverity: Double
    /// Pleural effusion (`PhantomOptions.effusionFraction`), nil when the case has none.
    public let pleuralEffusion: PleuralEffusion?
    /// Lobar consolidation (`PhantomOptions.consolidationFraction`), nil when none.
    public let consolidation: Consolidation?
    /// Multifocal ground-glass opacities (`PhantomOptions.groundGlassFraction`), nil when none.
    public let groundGlass: GroundGlassOpacities?
    /// Ids of nodules drawn for the case but not placed because the effusion, the
    /// consolidation or a ground-glass patch would have covered them (the remaining ids keep
    /// their numbers).
    public let nodulesCoveredByPathology: [String]
    /// A breathing artefact (`PhantomOptions.motionFraction`), nil when the case has none.
    public let respiratoryMotion: RespiratoryMotion?
    /// Photon-starvation streaks (`PhantomOptions.streakFraction`), nil when none.
    public let streaks: StreakArtefact?
    /// Beam hardening (`PhantomOptions.beamHardeningFraction`), nil when none.
    public let beamHardening: BeamHardening?
    /// Cardiac pulsation artefact (`PhantomOptions.cardiacMotionFraction`), nil when none.
    public let cardiacPulsation: CardiacPulsation?
    /// Cardiac pacemaker (`PhantomOptions.metalFraction`), nil when none.
    public let cardiacDevice: CardiacDevice?
    /// Calcified granulomas (`PhantomOptions.granulomaFraction`), nil when none.
    public let granulomas: CalcifiedGranulomas?
    /// Coronary arteries, with or without calcified plaque (`PhantomOptions.coronaryCalciumFraction`);
    /// nil when not asked for.
    public let coronaries: CoronaryArteries?
    /// Calcified plaque in the aortic wall (`PhantomOptions.aorticCalciumFraction`), nil when none.
    public let aorticPlaques: [CalciumBall]?
    /// Calcium in the aortic valve's cusps (`PhantomOptions.valveCalciumFraction`), nil when none.
    public let valveCalcium: [CalciumBall]?
    /// Mitral annular calcification (`PhantomOptions.mitralCalciumFraction`), nil when none.
    public let mitralCalcium: [CalciumBall]?
    /// Bronchiectasis (`PhantomOptions.bronchiectasisFraction`), nil when none.
    public let bronchiectasis: Bronchiectasis?
    /// Cysts at the ends of the widened bronchi (`PhantomOptions.bronchialCystFraction`), nil
    /// when none.
    public let bronchialCysts: BronchialCysts?
    /// Mucus plugs in the widened bronchi (`PhantomOptions.mucusPlugFraction`), nil when none.
    public let mucusPlugs: MucusPlugs?
    /// Fibrotic interstitial lung disease (`PhantomOptions.fibrosisFraction`), nil when none.
    public let interstitialFibrosis: InterstitialFibrosis?
    /// Traction bronchiectasis in the fibrotic zone (`PhantomOptions.tractionBronchiectasisFraction`),
    /// nil when none.
    public let tractionBronchiectasis: TractionBronchiectasis?
    /// Parenchymal bands (`PhantomOptions.scarFraction`), nil when none.
    public let parenchymalBands: [ParenchymalBand]?
    /// Pleural plaques (`PhantomOptions.pleuralPlaqueFraction`), nil when none.
    public let pleuralPlaques: [PleuralPlaque]?

    // Storage.
    public let storage: PhantomStorage
    public let identity: PhantomIdentity

    /// Affine of the generation grid (voxel -> LPS mm).
    public var gridToPatient: (origin: SIMD3<Double>, column: SIMD3<Double>, row: SIMD3<Double>, slice: SIMD3<Double>) {
        (gridOrigin + patientOffset, SIMD3(pixelSpacingMM, 0, 0), SIMD3(0, pixelSpacingMM, 0), SIMD3(0, 0, sliceSpacingMM))
    }

    /// Seed of the case's value-noise textures and outlines (parenchyma, fissure gaps, a
    /// consolidation's outline), shared by the renderer and the plan.
    var textureSeed: UInt64 { Self.textureSeed(seed: seed, index: index) }
    static func textureSeed(seed: UInt64, index: Int) -> UInt64 { seed &+ UInt64(index) &* 0x9E37_79B9 }

    /// Anatomy-frame height (mm) shown by generation slice `k`: its own position, displaced
    /// within a breathing artefact's band.
    public func sliceCentreZ(_ k: Int) -> Double {
        gridOrigin.z + Double(k) * sliceSpacingMM + (respiratoryMotion?.shiftMM(slice: k) ?? 0)
    }

    /// Anatomy-frame point -> LPS mm.
    public func patientPosition(ofAnatomy p: SIMD3<Double>) -> SIMD3<Double> { p + patientOffset }

    public init(seed: UInt64, index: Int, options: PhantomOptions) {
        self.seed = seed
        self.index = index
        caseID = String(format: "case-%03d", index)
        var r = PhantomRandom(seed: seed, stream: UInt64(index) &+ 1)
        columns = options.size
        rows = options.size
        slices = options.slices

        // Anatomy scale, drawn as generator 2 did (from a pixel spacing of 0.6-0.9 mm at 512
        // and a body filling 80-90% of that FOV's width), so a seed keeps its lungs.
        let drawnSpacing = options.pixelSpacingMM ?? r.uniform(0.6, 0.9) * 512 / Double(options.size)
        let drawnFOV = drawnSpacing * Double(options.size)
        let scale = drawnFOV / 2 * r.uniform(0.8, 0.9) / ChestAnatomy.referenceBodyHalfWidthMM
        var anatomyRandom = PhantomRandom(seed: seed, stream: UInt64(index) &+ 1_000_001)
        let details = PhantomRandom(seed: seed, stream: UInt64(index) &+ 4_000_037)
        let fourVeins = (options.vesselTreeRevision ?? 1) >= 3
        var a = ChestAnatomy(scale: scale, random: &anatomyRandom, details: details, revision: options.anatomyRevision ?? 3,
                             fourPulmonaryVeins: fourVeins)
        // Generator 2's retries (smaller scale while its body outline left that FOV), kept
        // unchanged because they decide the lungs.
        var tries = 0
        while a.legacyBodyRadiusMM > drawnFOV / 2 * 0.97 && tries < 8 {
            a = ChestAnatomy(scale: scale * pow(0.95, Double(tries + 1)), random: &anatomyRandom, details: details,
                             revision: options.anatomyRevision ?? 3, fourPulmonaryVeins: fourVeins)
            tries += 1
        }
        // Mediastinal and hilar lymph nodes, from their own stream.
        var nodeRandom = PhantomRandom(seed: seed, stream: UInt64(index) &+ 5_000_011)
        a.lymphNodes = LymphNode.place(in: a, random: &nodeRandom)
        a.cardiophrenicFat = Self.onRequest(options.cardiophrenicFatFraction, seed: seed, stream: UInt64(index) &+ 36_000_013) {
            CardiophrenicFatPad.draw(anatomy: a, random: &$0)
        } ?? []
        anatomy = a

        // Slices: cover apex to the costophrenic recesses (plus some neck and abdomen).
        let coverage = (a.lungHeightMM + 80 * a.scale + a.leftDomeDropMM) * r.uniform(1.0, 1.2)
        let allowed = [0.5, 0.625, 0.75, 0.8, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        let wanted = coverage / Double(options.slices)
        sliceSpacingMM = options.sliceSpacingMM ?? allowed.min { abs(log($0 / wanted)) < abs(log($1 / wanted)) }!
        let scanLength = sliceSpacingMM * Double(options.slices - 1)
        let lungMid = (a.lungHeightMM - a.leftDomeDropMM - 60 * a.scale) / 2
        let zFirst = lungMid - scanLength / 2 + r.uniform(-0.05, 0.05) * scanLength
        // Body slightly off-centre in the FOV, as patients lie.
        let shiftFraction = SIMD2(r.uniform(-0.03, 0.03), r.uniform(-0.02, 0.05))
        // Reconstruction FOV fitted to the patient, as scanners' display FOV is set: the whole
        // body outline over the scanned heights plus a 0-6% margin, within 0.6-0.9 mm at 512
        // (307-461 mm, the in-plane spacings the phantom issue asks for; a larger patient's
        // flanks or arms are cut by the circle, as on real scans reconstructed at a fixed
        // display FOV). A forced --pixel-spacing is kept as it is.
        let fov: Double
        if let forced = options.pixelSpacingMM {
            fov = forced * Double(options.size)
        } else {
            var fovRandom = PhantomRandom(seed: seed, stream: UInt64(index) &+ 6_000_101)
            let margin = fovRandom.uniform(1.0, 1.06)
            let heights = (0..<5).map { zFirst + scanLength * Double($0) / 4 }
            // The shift is a fraction of the FOV: a few fixed-point steps; 1.5 pixels more so
            // the anti-aliased skin edge stays inside too.
            var f = drawnFOV
            for _ in 0..<3 {
                let reach = a.bodyExtentMM(from: -shiftFraction * f, heights: heights)
                f = Swift.min(0.9 * 512, Swift.max(0.6 * 512, 2 * (reach + 1.5 * f / Double(options.size)) * margin))
            }
            fov = f
        }
        let spacing = fov / Double(options.size)
        pixelSpacingMM = spacing
        subSlices = Swift.max(1, Swift.min(6, Int((sliceSpacingMM / (spacing * 1.1)).rounded(.up))))
        let shift = shiftFraction * fov
        gridOrigin = SIMD3(-fov / 2 + spacing / 2 - shift.x, -fov / 2 + spacing / 2 - shift.y, zFirst)
        patientOffset = SIMD3(r.uniform(-5, 5), r.uniform(-40, 40) + 0, -r.uniform(100, 400))

        psfSigmaMM = r.uniform(0.45, 0.7)
        noiseHU = r.uniform(12, 28)
        // From its own stream, so a seed's scans without emphysema stay as they were.
        var emphysemaRandom = PhantomRandom(seed: seed, stream: UInt64(index) &+ 7_000_003)
        if let fraction = options.emphysemaFraction, fraction > 0, emphysemaRandom.chance(fraction) {
            emphysemaSeverity = emphysemaRandom.uniform(0.3, 1)
            paraseptalEmphysema = emphysemaRandom.chance(0.5)
        } else {
            emphysemaSeverity = 0
            paraseptalEmphysema = false
        }
        var atelectasisRandom = PhantomRandom(seed: seed, stream: UInt64(index) &+ 9_000_011)
        if let fraction = options.atelectasisFraction, fraction > 0, atelectasisRandom.chance(fraction) {
            atelectasisSeverity = atelectasisRandom.uniform(0.3, 1)
        } else {
            atelectasisSeverity = 0
        }
        pleuralEffusion = Self.onRequest(options.effusionFraction, seed: seed, stream: UInt64(index) &+ 10_000_019) {
            PleuralEffusion.draw(anatomy: a, random: &$0)
        }
        consolidation = Self.onRequest(options.consolidationFraction, seed: seed, stream: UInt64(index) &+ 11_000_027) {
            Consolidation.draw(anatomy: a, random: &$0)
        }
        groundGlass = Self.onRequest(options.groundGlassFraction, seed: seed, stream: UInt64(index) &+ 13_000_049) {
            GroundGlassOpacities.draw(anatomy: a, random: &$0)
        }
        interstitialFibrosis = Self.onRequest(options.fibrosisFraction, seed: seed, stream: UInt64(index) &+ 23_000_027) {
            InterstitialFibrosis.draw(random: &$0)
        }
        tractionBronchiectasis = interstitialFibrosis == nil ? nil
            : Self.onRequest(options.tractionBronchiectasisFraction, seed: seed, stream: UInt64(index) &+ 29_000_071) {
                TractionBronchiectasis.draw(random: &$0)
            }

        // Trees.
        let baseTerritories = options.vesselTerritories ?? Swift.max(150, Int(4500 * Swift.min(1, pow(Double(options.size) / 512, 1.3))))
        // Denser trees: more territories, each branch's load scaled back so calibres stay
        // those of the base tree (a branch serving twice the territories at density 2 supplies
        // the same lung, so it is as thick).
        let vesselDensity = options.vesselDensity ?? 1
        let territories = Int((Double(baseTerritories) * vesselDensity).rounded())
        var vessels: [TubeSegment] = []
        var isVein: [Bool] = []
        var airways: [TubeSegment] = []
        var walls: [Double] = []
        var plugged: [Bool] = []
        bronchiectasis = Self.onRequest(options.bronchiectasisFraction, seed: seed, stream: UInt64(index) &+ 21_000_011) {
            Bronchiectasis.draw(random: &$0)
        }
        mucusPlugs = bronchiectasis == nil ? nil
            : Self.onRequest(options.mucusPlugFraction, seed: seed, stream: UInt64(index) &+ 22_000_019) {
                MucusPlugs.draw(random: &$0)
            }
        var treeRandom = PhantomRandom(seed: seed, stream: UInt64(index) &+ 2_000_003)
        // Revision 2's extra geometry draws its own stream (one per tree).
        let branching = options.vesselTreeRevision ?? 1
        func peripheralRandom(_ tree: UInt64) -> PhantomRandom? {
            branching >= 2 ? PhantomRandom(seed: seed, stream: UInt64(index) &+ 32_000_003 &+ tree) : nil
        }
        // The widened bronchi's ends (position, direction, lumen): where cysts can form.
        var widenedTips: [(position: SIMD3<Double>, direction: SIMD3<Double>, lumenMM: Double)] = []
        for side in 0..<2 {
            let arteryPoints = PhantomCase.sampleLobes(a, side: side, count: territories, random: &treeRandom)
            let veinPoints = PhantomCase.sampleLobes(a, side: side, count: territories, random: &treeRandom)
            // Sub-millimetre terminal radius; sparse test trees keep a realistic hilar trunk.
            let terminal = Swift.max(0.45 * a.scale, 6 * a.scale / pow(Double(baseTerritories), BranchingTree.radiusExponent))
            let trunk = 5.2 * a.scale
            // Both trees leave the hilum laterally (from the pulmonary arteries / the atrium).
            let lateral = SIMD3<Double>(side == 0 ? -1 : 1, 0, 0)
            let arteries = BranchingTree.grow(root: a.arteryHilum[side], direction: lateral,
                                              points: arteryPoints.points, groups: arteryPoints.groups,
                                              terminalRadiusMM: terminal, maximumRadiusMM: trunk, loadScale: 1 / vesselDensity,
                                              branching: branching, peripheralRandom: peripheralRandom(UInt64(2 * side)),
                                              random: &treeRandom)
            vessels += arteries.segments; isVein += Array(repeating: false, count: arteries.nodes.count - 1)
            if branching >= 3 {
                // Revision 3: a superior vein drains the upper lobe (and the middle lobe on the
                // right), an inferior one the lower lobe, each from its own hilar point, their
                // larger branches steered clear of this lung's arteries (`VesselClearance`), with their own
                // random streams. (The arteries differ from revision 2's too: the superior
                // veins' tubes carve the lung, which moves the sampled territories.)
                let clearance = VesselClearance(arteries: arteries.segments, scale: a.scale)
                let upper = veinPoints.groups.first ?? veinPoints.points.count
                let drained = [(a.superiorVeinHilum[side], Array(veinPoints.points[..<upper])),
                               (a.veinHilum[side], Array(veinPoints.points[upper...]))]
                for (k, (hilum, points)) in drained.enumerated() where !points.isEmpty {
                    var veinRandom = PhantomRandom(seed: seed, stream: UInt64(index) &+ 34_000_009 &+ UInt64(2 * side + k))
                    let veins = BranchingTree.grow(root: hilum, direction: lateral, points: points,
                                                   terminalRadiusMM: terminal, maximumRadiusMM: trunk,
                                                   loadScale: 1 / vesselDensity, branching: branching,
                                                   peripheralRandom: PhantomRandom(seed: seed, stream: UInt64(index) &+ 35_000_011 &+ UInt64(2 * side + k)),
                                                   avoiding: clearance, random: &veinRandom)
                    vessels += veins.segments; isVein += Array(repeating: true, count: veins.nodes.count - 1)
                }
            } else {
                let veins = BranchingTree.grow(root: a.veinHilum[side], direction: lateral,
                                               points: veinPoints.points, groups: veinPoints.groups,
                                               terminalRadiusMM: terminal, maximumRadiusMM: trunk, loadScale: 1 / vesselDensity,
                                               branching: branching, peripheralRandom: peripheralRandom(UInt64(2 * side + 1)),
                                               random: &treeRandom)
                vessels += veins.segments; isVein += Array(repeating: true, count: veins.nodes.count - 1)
            }
            // Bronchi run beside the arteries: the same branching, offset sideways, down to
            // about 1 mm lumen radius (smaller airways are invisible on CT).
            // The sideways offset is carried down the tree (made perpendicular to each branch),
            // so a bronchus stays on the same side of its artery instead of zigzagging.
            var offsetNode = [SIMD3<Double>](repeating: .zero, count: arteries.nodes.count)
            var offsetSide = [SIMD3<Double>](repeating: .zero, count: arteries.nodes.count)
            offsetNode[0] = a.bronchusHilum[side]
            // Lumen radius per node (the root's as before: the parent of the first branches).
            var lumen = arteries.nodes.map { $0.radiusMM * 0.8 }
            let lung = side
            offsetSide[0] = BranchingTree.normalized(a.bronchusHilum[side] - a.arteryHilum[side] + SIMD3(0, 0.01, 0))
            var wallFactor = [Double](repeating: 1, count: arteries.nodes.count)
            var widened = [Bool](repeating: false, count: arteries.nodes.count)
            for i in arteries.nodes.indices.dropFirst() {
                let n = arteries.nodes[i], p = arteries.nodes[n.parent]
                let dir = BranchingTree.normalized(n.position - p.position)
                var side = offsetSide[n.parent] - (offsetSide[n.parent] * dir).sum() * dir
                if (side * side).sum() < 1e-6 { side = SIMD3(dir.y, -dir.x, 0.3) - (SIMD3(dir.y, -dir.x, 0.3) * dir).sum() * dir }
                side = BranchingTree.normalized(side)
                offsetSide[i] = side
                lumen[i] = n.radiusMM * 0.8
                if let b = bronchiectasis, b.affects(side: lung, lobe: a.lobe(side: lung, n.position)) {
                    // Dilated and tapering less: from the parent's normal lumen, not its own.
                    lumen[i] = b.dilation * Swift.max(lumen[i], b.taper * p.radiusMM * 0.8)
                    wallFactor[i] = b.wallThickening
                    widened[i] = true
                }
                if let t = tractionBronchiectasis, let f = interstitialFibrosis,
                   t.affects(n.position, side: lung, fibrosis: f, anatomy: a) {
                    lumen[i] = Swift.max(lumen[i], t.widenedLumen(normalMM: n.radiusMM * 0.8,
                                                                  parentNormalMM: p.radiusMM * 0.8, node: i))
                }
                offsetNode[i] = n.position + side * (n.radiusMM + lumen[i] * 1.2 + 0.6 * a.scale)
            }
            // Mucus plugs: whole branches of the widened lobe, down to bronchioles of
            // `MucusPlugs.smallestLumenMM` that open airways never show.
            var isPlugged = [Bool](repeating: false, count: arteries.nodes.count)
            if let plugs = mucusPlugs, let b = bronchiectasis, b.side == lung {
                let eligible = arteries.nodes.indices.dropFirst().filter {
                    widened[$0] && MucusPlugs.rootLumenMM.contains(lumen[$0])
                }
                isPlugged = plugs.pluggedNodes(parents: arteries.nodes.map(\.parent), eligible: eligible)
            }
            var drawn = [Bool](repeating: false, count: arteries.nodes.count)
            var drawnBeyond = [Bool](repeating: false, count: arteries.nodes.count)
            for i in arteries.nodes.indices.dropFirst() {
                let parent = arteries.nodes[i].parent
                let smallest = isPlugged[i] ? MucusPlugs.smallestLumenMM : 1.0
                if lumen[i] >= smallest && lumen[parent] >= smallest {
                    airways.append(TubeSegment(offsetNode[parent], offsetNode[i], lumen[parent], lumen[i]))
                    walls.append((0.15 * lumen[i] + 0.25) * wallFactor[i])
                    plugged.append(isPlugged[i])
                    drawn[i] = true
                    drawnBeyond[parent] = true
                }
            }
            for i in arteries.nodes.indices.dropFirst() where drawn[i] && widened[i] && !drawnBeyond[i] && !isPlugged[i] {
                let from = offsetNode[arteries.nodes[i].parent]
                widenedTips.append((offsetNode[i], BranchingTree.normalized(offsetNode[i] - from), lumen[i]))
            }
        }
        vesselSegments = vessels
        vesselIsVein = isVein
        airwaySegments = airways
        airwayWallMM = walls
        airwayIsPlugged = plugged

        // Ribs: 12 pairs, from the spine around the lung surface, sloping down anteriorly.
        var ribs: [TubeSegment] = []
        var cartilage: [Bool] = []
        let ribRadius = 4.2 * a.scale
        for side in 0..<2 {
            let sign: Double = side == 0 ? -1 : 1
            for k in 0..<12 {
                let zPost = a.lungHeightMM - 8 * a.scale - Double(k) * a.vertebraPitch
                let drop = (80 + Double(k) * 4) * a.scale
                let psiEnd = k < 10 ? -1.75 : -0.2       // floating ribs stop laterally
                var previous: SIMD3<Double>? = nil
                let steps = 26
                for i in 0...steps {
                    let t = Double(i) / Double(steps)
                    let psi = 2.0 + (psiEnd - 2.0) * t
                    let z = zPost - drop * pow(t, 1.4)
                    guard let sec = a.lungSection(side: side, z: Swift.max(z, -a.leftDomeDropMM - 10 * a.scale)) else { continue }
                    let c = cos(psi), s = sin(psi)
                    let b = s > 0 ? sec.bP : sec.bA
                    let rr = 1 / ((c / sec.a) * (c / sec.a) + (s / b) * (s / b)).squareRoot()
                    let reach = rr + ribRadius * 0.8 + 0.4 * a.scale
                    let p = SIMD3(sec.cx + sign * c * reach, sec.cy + s * reach, z)
                    if let q = previous {
                        // A rib is taller than thick: two capsules stacked in z.
                        let h = SIMD3(0, 0, ribRadius * 0.55)
                        ribs.append(TubeSegment(q + h, p + h, ribRadius * 0.8, ribRadius * 0.8))
                        ribs.append(TubeSegment(q - h, p - h, ribRadius * 0.8, ribRadius * 0.8))
                        cartilage.append(t > 0.82); cartilage.append(t > 0.82)
                    } else {
                        // Rib head to the vertebra.
                        ribs.append(TubeSegment(SIMD3(sign * a.vertebralRadius * 0.9, a.spineY, zPost + 4 * a.scale), p, ribRadius * 0.9, ribRadius))
                        cartilage.append(false)
                    }
                    previous = p
                }
            }
        }
        // Clavicles: from the manubrium out, back and up to the shoulder (a gentle S), in
        // front of the apices.
        for side in 0..<2 {
            let sign: Double = side == 0 ? -1 : 1
            let z0 = a.lungHeightMM - 12 * a.scale
            let section = a.bodySection(z: z0 + 10 * a.scale)
            let front = -(section.anterior - section.fatAnterior) + 11 * a.scale
            let path: [(Double, Double, Double)] = [(18, 0, 0), (45, 4, 8), (80, 16, 16), (115, 36, 22), (140, 58, 26)]
            let radius = 6.5 * a.scale
            for i in 1..<path.count {
                let (x0, y0, dz0) = path[i - 1], (x1, y1, dz1) = path[i]
                ribs.append(TubeSegment(SIMD3(sign * x0 * a.scale, front + y0 * a.scale, z0 + dz0 * a.scale),
                                        SIMD3(sign * x1 * a.scale, front + y1 * a.scale, z0 + dz1 * a.scale),
                                        radius, radius * (i == path.count - 1 ? 0.8 : 1)))
                cartilage.append(false)
            }
        }
        ribSegments = ribs
        ribIsCartilage = cartilage

        // Nodules.
        var nr = PhantomRandom(seed: seed, stream: UInt64(index) &+ 3_000_007)
        var nodules: [PhantomNodule] = []
        if !nr.chance(options.cleanFraction) {
            let count = nr.int(options.minNodules...options.maxNodules)
            let segmentsByIndex = vessels
            for k in 0..<count {
                // Log-uniform diameter over the range, limited by the lung size.
                let d = exp(nr.uniform(log(options.minDiameterMM), log(Swift.min(options.maxDiameterMM, 60 * a.scale))))
                let type = nr.weighted([(PhantomNoduleType.solid, 0.6), (.partSolid, 0.15), (.groundGlass, 0.25)])
                let shape = nr.weighted([(PhantomNoduleShape.spherical, 0.4), (.ellipsoidal, 0.3), (.lobulated, 0.3)])
                let location = nr.weighted([(PhantomNoduleLocation.isolated, 0.4), (.juxtavascular, 0.3), (.juxtapleural, 0.3)])
                var n = PhantomNodule.make(id: "n\(k + 1)", diameterMM: d, type: type, shape: shape,
                                           location: location, random: &nr)
                if let c = PhantomCase.place(n, anatomy: a, vessels: segmentsByIndex, others: nodules, random: &nr) {
                    n.center = c
                    nodules.append(n)
                }
            }
        }
        // On request, some juxtapleural nodules move to the mediastinal pleura, drawn from
        // their own stream after all nodules are placed, so the others stay where they were.
        if let fraction = options.mediastinalNoduleFraction, fraction > 0 {
            var mediastinalRandom = PhantomRandom(seed: seed, stream: UInt64(index) &+ 18_000_013)
            for k in nodules.indices where nodules[k].location == .juxtapleural && mediastinalRandom.chance(fraction) {
                var moved = nodules[k]
                moved.location = .juxtamediastinal
                let others = nodules.indices.filter { $0 != k }.map { nodules[$0] }
                if let c = PhantomCase.place(moved, anatomy: a, vessels: vessels, others: others, random: &mediastinalRandom) {
                    moved.center = c
                    nodules[k] = moved
                }
            }
        }
        // A nodule in the fluid, the consolidation or a ground-glass patch would not be seen
        // (or not as itself): leave it out.
        var covered: [String] = []
        let effusion = pleuralEffusion, consolidation = self.consolidation, groundGlass = self.groundGlass
        let outlineSeed = PhantomCase.textureSeed(seed: seed, index: index)
        nodules.removeAll { n in
            let inFluid = effusion?.covers(n.center, anatomy: a, marginMM: 0.5 * n.radiusMM) ?? false
            let inConsolidation = consolidation.map {
                $0.signedDistance(n.center, anatomy: a, seed: outlineSeed) < n.radiusMM + Consolidation.marginMM + 3
            } ?? false
            let inGroundGlass = groundGlass?.covers(n.center, seed: outlineSeed,
                                                    marginMM: n.radiusMM + GroundGlassOpacities.edgeMM + 2) ?? false
            let hidden = inFluid || inConsolidation || inGroundGlass
            if hidden { covered.append(n.id) }
            return hidden
        }
        nodulesCoveredByPathology = covered
        self.nodules = nodules
        var motionRandom = PhantomRandom(seed: seed, stream: UInt64(index) &+ 12_000_041)
        if let fraction = options.motionFraction, fraction > 0, motionRandom.chance(fraction) {
            let lungLow = Swift.min(a.lungBounds(side: 0).min.z, a.lungBounds(side: 1).min.z)
            respiratoryMotion = RespiratoryMotion.draw(
                slices: slices, firstZ: gridOrigin.z, spacingMM: sliceSpacingMM,
                lungZ: lungLow...a.lungHeightMM, nodules: nodules, random: &motionRandom)
        } else {
            respiratoryMotion = nil
        }
        beamHardening = Self.onRequest(options.beamHardeningFraction, seed: seed, stream: UInt64(index) &+ 30_000_001) {
            BeamHardening.draw(random: &$0)
        }
        streaks = Self.onRequest(options.streakFraction, seed: seed, stream: UInt64(index) &+ 14_000_071) {
            StreakArtefact.draw(anatomy: a, random: &$0)
        }
        cardiacDevice = Self.onRequest(options.metalFraction, seed: seed, stream: UInt64(index) &+ 15_000_017) {
            CardiacDevice.draw(anatomy: a, random: &$0)
        }
        // Whether a ball (centre, radius) of something drawn in the lung would lie under the
        // fluid, the consolidation or a ground-glass patch (as the nodules may not).
        let hiddenByPathology = { (c: SIMD3<Double>, radius: Double) -> Bool in
            effusion?.covers(c, anatomy: a, marginMM: radius) ?? false
                || (consolidation?.signedDistance(c, anatomy: a, seed: outlineSeed) ?? .infinity)
                    < radius + Consolidation.marginMM + 3
                || (groundGlass?.covers(c, seed: outlineSeed, marginMM: radius + GroundGlassOpacities.edgeMM + 2) ?? false)
        }
        bronchialCysts = bronchiectasis == nil ? nil
            : Self.onRequest(options.bronchialCystFraction, seed: seed, stream: UInt64(index) &+ 28_000_067) {
                BronchialCysts.draw(tips: widenedTips, anatomy: a, nodules: nodules, random: &$0, covered: hiddenByPathology)
            }
        granulomas = Self.onRequest(options.granulomaFraction, seed: seed, stream: UInt64(index) &+ 16_000_057) {
            CalcifiedGranulomas.draw(anatomy: a, nodules: nodules, random: &$0, covered: hiddenByPathology)
        }

        // Every case gets the arteries, a fraction of them plaque; from their own stream.
        if let fraction = options.coronaryCalciumFraction, fraction > 0 {
            var coronaryRandom = PhantomRandom(seed: seed, stream: UInt64(index) &+ 17_000_069)
            let calcified = coronaryRandom.chance(fraction)
            coronaries = CoronaryArteries.draw(anatomy: a, calcified: calcified, random: &coronaryRandom)
        } else {
            coronaries = nil
        }
        aorticPlaques = Self.onRequest(options.aorticCalciumFraction, seed: seed, stream: UInt64(index) &+ 19_000_037) {
            AorticCalcium.draw(anatomy: a, random: &$0)
        }
        valveCalcium = Self.onRequest(options.valveCalciumFraction, seed: seed, stream: UInt64(index) &+ 25_000_057) {
            AorticValveCalcium.draw(anatomy: a, random: &$0)
        }
        mitralCalcium = Self.onRequest(options.mitralCalciumFraction, seed: seed, stream: UInt64(index) &+ 27_000_059) {
            MitralAnnularCalcium.draw(anatomy: a, random: &$0)
        }
        parenchymalBands = Self.onRequest(options.scarFraction, seed: seed, stream: UInt64(index) &+ 20_000_003) {
            ParenchymalBand.draw(anatomy: a, nodules: nodules, random: &$0, covered: hiddenByPathology)
        }
        pleuralPlaques = Self.onRequest(options.pleuralPlaqueFraction, seed: seed, stream: UInt64(index) &+ 24_000_041) {
            PleuralPlaque.draw(anatomy: a, nodules: nodules, random: &$0, covered: hiddenByPathology)
        }
        cardiacPulsation = Self.onRequest(options.cardiacMotionFraction, seed: seed, stream: UInt64(index) &+ 26_000_053) {
            CardiacPulsation.draw(random: &$0)
        }
        storage = PhantomStorage(random: &r, options: options)
        identity = PhantomIdentity(seed: seed, index: index)
    }

    /// Something drawn only on request: with probability `fraction` (nil or 0: never, and no
    /// number is drawn), from its own stream `stream` of `seed`, so asking for it never
    /// changes the rest of the case.
    static func onRequest<T>(_ fraction: Double?, seed: UInt64, stream: UInt64,
                             _ draw: (inout PhantomRandom) -> T?) -> T? {
        guard let fraction, fraction > 0 else { return nil }
        var random = PhantomRandom(seed: seed, stream: stream)
        return random.chance(fraction) ? draw(&random) : nil
    }

    /// Points spread uniformly through lung `side`, at least 2 mm from its surface and 2 mm
    /// (1.5 mm) from the oblique (minor) fissure, which leaves a thin avascular band along
    /// them, ordered by tree group (upper first) with the number of points per group. The
    /// right upper and middle lobes form one group: grown as separate trees, both grew away
    /// from the minor fissure and left the lung within ~10 mm of it with half the vessels
    /// (the minor fissure is incomplete in most people, so vessels may cross it).
    static func sampleLobes(_ a: ChestAnatomy, side: Int, count: Int,
                            random r: inout PhantomRandom) -> (points: [SIMD3<Double>], groups: [Int]) {
        let (lo, hi) = a.lungBounds(side: side)
        var byLobe: [[SIMD3<Double>]] = [[], []]
        var accepted = 0
        var attempts = 0
        while accepted < count && attempts < count * 40 {
            attempts += 1
            let p = SIMD3(r.uniform(lo.x, hi.x), r.uniform(lo.y, hi.y), r.uniform(lo.z, hi.z))
            let (d, s) = a.lungDistance(p)
            guard s == side && d < -2 * a.scale else { continue }
            let f = a.fissureDistances(side: side, p)
            guard abs(f.oblique) > 2 * a.scale, abs(f.minor) > 1.5 * a.scale else { continue }
            byLobe[a.lobe(side: side, p) == (side == 0 ? 2 : 1) ? 1 : 0].append(p)
            accepted += 1
        }
        return (byLobe.flatMap { $0 }, byLobe.map(\.count))
    }

    /// A centre for the nodule that fits its location class, or nil when none was found.
    static func place(_ n: PhantomNodule, anatomy a: ChestAnatomy, vessels: [TubeSegment],
                      others: [PhantomNodule], random r: inout PhantomRandom) -> SIMD3<Double>? {
        let R = n.boundingRadiusMM
        func clearOfOthers(_ c: SIMD3<Double>) -> Bool {
            others.allSatisfy { o in
                let d = o.center - c
                return (d * d).sum().squareRoot() > o.boundingRadiusMM + R + 10
            }
        }
        func nearestVessel(_ c: SIMD3<Double>, minRadius: Double) -> Double {
            var best = Double.infinity
            for v in vessels where v.maxRadiusMM >= minRadius {
                if abs(v.start.z - c.z) > best + 40 && abs(v.end.z - c.z) > best + 40 { continue }
                best = Swift.min(best, v.signedDistance(c))
            }
            return best
        }
        let side = r.int(0...1)
        let (lo, hi) = a.lungBounds(side: side)
        for _ in 0..<400 {
            switch n.location {
            case .juxtamediastinal:
                // March from a point inside the lung towards the midline until the lung ends;
                // keep the try only when what ends it is the mediastinum (not the chest wall
                // behind the heart, the spine or the dome), then step back in as on the costal
                // pleura. Hilar trunks may touch the nodule but not run through it.
                let start = SIMD3(r.uniform(lo.x, hi.x), r.uniform(lo.y, hi.y), r.uniform(lo.z, hi.z))
                let (d0, s0) = a.lungDistance(start)
                guard s0 == side, d0 < -(R + 2) else { continue }
                var dir = SIMD3(side == 0 ? 1.0 : -1.0, r.uniform(-0.7, 0.7), r.uniform(-0.25, 0.25))
                dir /= (dir * dir).sum().squareRoot()
                guard let (p, beyond) = marchToLungEdge(from: start, direction: dir, anatomy: a, steps: 600),
                      a.isBeyondMediastinalSurface(beyond, side: side) else { continue }
                let c = p - dir * (n.radiusMM * 0.85)
                let (d, s) = a.lungDistance(c)
                guard s == side, d < -n.radiusMM * 0.5, clearOfOthers(c) else { continue }
                guard nearestVessel(c, minRadius: 1.5) > 0.5 * R else { continue }
                return c
            case .isolated:
                let c = SIMD3(r.uniform(lo.x, hi.x), r.uniform(lo.y, hi.y), r.uniform(lo.z, hi.z))
                let (d, s) = a.lungDistance(c)
                guard s != nil, d < -(R + 4), clearOfOthers(c) else { continue }
                guard nearestVessel(c, minRadius: 0.9) > R + 1.5 else { continue }
                return c
            case .juxtavascular:
                // Beside a medium vessel, the nodule surface overlapping the vessel wall.
                let v = vessels[r.int(0...(vessels.count - 1))]
                guard v.maxRadiusMM >= 0.9, v.maxRadiusMM <= 3.5 else { continue }
                let t = r.uniform(0.2, 0.8)
                let axisPoint = v.start + t * (v.end - v.start)
                var dir = v.end - v.start
                dir /= Swift.max(1e-9, (dir * dir).sum().squareRoot())
                var perp = r.unitVector()
                perp -= (perp * dir).sum() * dir
                perp /= Swift.max(1e-9, (perp * perp).sum().squareRoot())
                let radiusHere = v.startRadiusMM + (v.endRadiusMM - v.startRadiusMM) * t
                let c = axisPoint + perp * (radiusHere + n.radiusMM * 0.8)
                let (d, s) = a.lungDistance(c)
                guard s != nil, d < -(R + 3), clearOfOthers(c) else { continue }
                return c
            case .juxtapleural:
                // March from a point inside the lung outwards to the pleura, then step back in
                // so the nodule touches (and slightly indents) the pleura.
                let start = SIMD3(r.uniform(lo.x, hi.x), r.uniform(lo.y, hi.y), r.uniform(lo.z, hi.z))
                let (d0, s0) = a.lungDistance(start)
                guard s0 == side, d0 < -(R + 2) else { continue }
                var dir = SIMD3(side == 0 ? -1.0 : 1.0, r.uniform(-1, 1.2), r.uniform(-0.3, 0.3))
                dir /= (dir * dir).sum().squareRoot()
                guard let (p, _) = marchToLungEdge(from: start, direction: dir, anatomy: a, steps: 400) else { continue }
                let c = p - dir * (n.radiusMM * 0.85)
                let (d, s) = a.lungDistance(c)
                guard s != nil, d < -n.radiusMM * 0.5, clearOfOthers(c) else { continue }
                return c
            }
        }
        return nil
    }

    /// Steps of 0.5 mm from `start` (inside the lung) along unit `direction` until the lung
    /// ends: the last point inside and the first beyond, or nil when `steps` were not enough.
    static func marchToLungEdge(from start: SIMD3<Double>, direction: SIMD3<Double>, anatomy a: ChestAnatomy,
                                steps: Int) -> (inside: SIMD3<Double>, beyond: SIMD3<Double>)? {
        var p = start
        for _ in 0..<steps {
            let q = p + direction * 0.5
            if a.lungDistance(q).distanceMM >= 0 { return (p, q) }
            p = q
        }
        return nil
    }
}

/// How a case is stored: pixel representation, rescale, padding, VR, slice order, names.
public struct PhantomStorage: Sendable, Codable, Equatable {
    public var signedPixels: Bool
    public var rescaleIntercept: Double
    /// Stored value outside the circular FOV (nil: none; voxels there are air).
    public var paddingValue: Int?
    public var implicitVR: Bool
    /// Slices stored from superior to inferior (true) or inferior to superior.
    public var superiorFirst: Bool
    /// File names shuffled (not following slice order).
    public var shuffledNames: Bool

    init(random r: inout PhantomRandom, options: PhantomOptions) {
        let signed = options.signedPixels ?? r.chance(0.6)
        signedPixels = signed
        rescaleIntercept = options.rescaleIntercept ?? (signed ? (r.chance(0.5) ? -1024 : 0) : -1024)
        let pad = options.paddingOutsideFOV ?? r.chance(0.7)
        if pad {
            paddingValue = signed ? (rescaleIntercept == 0 ? -3024 : -2000) : 0
        } else {
            paddingValue = nil
        }
        implicitVR = options.implicitVR ?? r.chance(0.35)
        superiorFirst = r.chance(0.5)
        shuffledNames = r.chance(0.5)
    }
}

/// Identifiers of a phantom case (all synthetic).
public struct PhantomIdentity: Sendable, Codable, Equatable {
    public var patientID: String
    public var patientName: String
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var frameOfReferenceUID: String
    public var accessionNumber: String

    init(seed: UInt64, index: Int) {
        // UID components: our root, then the seed (kept to 15 digits) and the case index.
        let seedPart = String(seed % 1_000_000_000_000_000)
        let base = "\(DICOMUIDRoot.value).\(seedPart).\(index + 1)"
        patientID = "PH\(seedPart)-\(String(format: "%03d", index))"
        patientName = "PHANTOM^CASE\(String(format: "%03d", index))"
        studyInstanceUID = base + ".1"
        seriesInstanceUID = base + ".1.1"
        frameOfReferenceUID = base + ".2"
        accessionNumber = "A\(seedPart.suffix(6))\(String(format: "%03d", index))"
    }

    /// The SOP Instance UID of stored slice `k` (1-based instance numbers).
    func sopInstanceUID(_ instance: Int) -> String { seriesInstanceUID + ".\(instance)" }
}

/// The project's UID root, shared with the DICOM writer.
enum DICOMUIDRoot { static var value: String { DICOMWriter.uidRoot } }
