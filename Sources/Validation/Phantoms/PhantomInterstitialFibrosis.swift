import Foundation

/// Fibrotic interstitial lung disease (`PhantomOptions.fibrosisFraction`) in the usual
/// interstitial pneumonia (UIP) pattern of idiopathic pulmonary fibrosis and of the
/// interstitial lung abnormalities found in several percent of screened smokers: reticulation
/// (a network of thickened interlobular septa and finer intralobular lines) that is
/// subpleural and basal-predominant, with a ground-glass background and, in advanced
/// disease, honeycombing (clustered subpleural air cysts of 3-10 mm with thick walls,
/// stacked along the pleura). Fleischner Society white paper (Lynch et al., Lancet Respir
/// Med 2018;6:138-153) and glossary (Hansell et al., Radiology 2008;246:697-722).
///
/// Why the generator draws it: septa meeting at a corner, a cyst wall cut obliquely and
/// the walls between honeycomb cysts are small bright dots and blobs against the pleura,
/// where juxtapleural nodules are; and the reticulation makes the lung's background denser
/// and rougher than the clean parenchyma the detector was trained on.
///
/// Geometry: a Voronoi (cellular) network in 3D, whose cell walls are the septa: cells of
/// `lobuleMM` (9-13 mm, secondary pulmonary lobules) with walls 0.8-1.2 mm thick, and cells
/// of 3.5 mm with fainter 0.35 mm walls for the intralobular lines; both fade in from
/// `maximumDepthMM` (11-18 mm, times a weight that is 1 at the lung base laterally and
/// posteriorly, falls off to 0 at mid-height and spares the medial side) to the pleura. With
/// honeycombing, cells of `cystMM` (4-7 mm) within `honeycombDepthMM` (3.6-6 mm, times the
/// weight) of the pleura are air with 1 mm walls: one or two rows of cysts.
/// Its own random stream; the rest of the case is the same with or without it.
public struct InterstitialFibrosis: Sendable, Equatable {
    /// 0.4-1: reach, septal thickness and ground-glass background grow with it.
    public var severity: Double
    public var honeycombing: Bool
    /// Cell size (mm) of the septal network.
    public var lobuleMM: Double
    /// Cell size (mm) of the honeycomb cysts.
    public var cystMM: Double
    /// Seed of the cellular networks.
    var textureSeed: UInt64

    /// Deepest reach (mm from the pleura) of the reticulation where the disease is strongest.
    public var maximumDepthMM: Double { 6 + 12 * severity }
    /// Depth (mm from the pleura) of the honeycomb layer where the disease is strongest; 0
    /// without honeycombing.
    public var honeycombDepthMM: Double { honeycombing ? 2 + 4 * severity : 0 }
    /// Septal wall thickness (mm).
    var septalThicknessMM: Double { 0.5 + 0.7 * severity }

    static func draw(random r: inout PhantomRandom) -> InterstitialFibrosis {
        let severity = r.uniform(0.4, 1)
        let honeycombing = r.chance(0.5)
        return InterstitialFibrosis(severity: severity, honeycombing: honeycombing, lobuleMM: r.uniform(9, 13),
                                    cystMM: r.uniform(4, 7), textureSeed: r.next())
    }

    /// How strongly a place is affected (0-1): basal, and peripheral (lateral or posterior,
    /// sparing the lung's medial side along the mediastinum). `heightFraction` is the height
    /// in the lung (0 at the base, 1 at the apex), `lateral` -1 at the medial and 1 at the
    /// lateral edge of the lung's section, `posterior` 0 at its front and 1 at its back.
    static func weight(heightFraction: Double, lateral: Double, posterior: Double) -> Double {
        let lower = 1 - Scene.smooth((heightFraction - 0.1) / 0.4)
        let periphery = Swift.max(Scene.smooth((lateral + 0.1) / 0.6), Scene.smooth((posterior - 0.45) / 0.4))
        return lower * periphery
    }

    /// Approximate distance (in cell units) from (x, y, z) to the nearest wall of a 3D
    /// Voronoi tessellation with one jittered site per unit cell: half the difference of the
    /// distances to the nearest and second-nearest sites (Worley 1996, "A cellular texture
    /// basis function"). No allocation; 27 cells examined.
    @inline(__always)
    static func cellWallDistance(_ x: Double, _ y: Double, _ z: Double, seed: UInt64) -> Double {
        let fx = x.rounded(.down), fy = y.rounded(.down), fz = z.rounded(.down)
        let ix = Int64(fx), iy = Int64(fy), iz = Int64(fz)
        var d1 = Double.infinity, d2 = Double.infinity
        for k in -1...1 {
            for j in -1...1 {
                for i in -1...1 {
                    let cx = ix + Int64(i), cy = iy + Int64(j), cz = iz + Int64(k)
                    let v = Scene.latticeHash(cx, cy, cz, seed: seed)
                    // Three jitters in [0.1, 0.9) from 21 bits each.
                    let jx = 0.1 + 0.8 * Double(v & 0x1F_FFFF) / 2_097_152
                    let jy = 0.1 + 0.8 * Double((v >> 21) & 0x1F_FFFF) / 2_097_152
                    let jz = 0.1 + 0.8 * Double((v >> 42) & 0x1F_FFFF) / 2_097_152
                    let dx = Double(cx) + jx - x, dy = Double(cy) + jy - y, dz = Double(cz) + jz - z
                    let d = (dx * dx + dy * dy + dz * dz).squareRoot()
                    if d < d1 { d2 = d1; d1 = d } else if d < d2 { d2 = d }
                }
            }
        }
        return 0.5 * (d2 - d1)
    }
}

/// Traction bronchiectasis in fibrosis (`PhantomOptions.tractionBronchiectasisFraction`):
/// the fibrotic lung's retraction pulls the bronchi within it open, irregularly. Fleischner
/// glossary (Hansell et al., Radiology 2008;246:697-722): "irregular bronchial and
/// bronchiolar dilatation caused by surrounding retractile pulmonary fibrosis"; the
/// Fleischner white paper on idiopathic pulmonary fibrosis (Lynch et al., Lancet Respir Med
/// 2018;6:138-153) counts it among the features of the UIP pattern. Unlike the cylindrical
/// bronchiectasis of a lobe (`Bronchiectasis`), it is confined to the fibrotic zone, the walls
/// are not thickened, and the calibre varies from one bronchus to the next ("varicose").
///
/// Why the generator draws it: open airways then run to within a few mm of the pleura, where
/// normal bronchi are too small to see, and a widened, beaded bronchus cut across is a ring or
/// a dark dot with a bright rim among the reticulation: what a reader must not take for a
/// small cavitating nodule or honeycombing, and what the detector meets in fibrotic lungs.
///
/// Geometry: every small bronchus (normal lumen radius at most `largestNormalLumenMM`, 1.25
/// mm: subsegmental bronchi and bronchioles, not the segmental ones) whose node lies in the
/// reticulation (within the fibrosis's reach from the pleura,
/// `InterstitialFibrosis.maximumDepthMM` times its basal/peripheral weight) or `marginMM`
/// (2-5 mm) deeper gets a lumen of its own factor (`dilation`, drawn per bronchus in 1.4-2.6)
/// times the larger of its normal lumen and 0.85 of its parent's normal lumen (so the bronchi
/// taper little), at most `largestLumenMM` (3 mm); airways are drawn from 1 mm lumen radius,
/// so the widened ones reach further out. Own random stream; the rest of the case is the same
/// with or without it. (A first version widened every bronchus in the zone, segmental ones
/// too: 15 mm rings deep in the lower lobes, nothing like the picture of a fibrotic lung.)
public struct TractionBronchiectasis: Sendable, Equatable {
    /// How far (mm) deeper than the reticulation's reach the bronchi are still pulled open.
    public var marginMM: Double
    /// Range of the per-bronchus widening factor.
    public static let dilationRange: ClosedRange<Double> = 1.4...2.6
    /// How little the widened bronchi taper: their normal lumen is taken as at least this
    /// fraction of their parent's.
    static let taper = 0.85
    /// Only bronchi whose normal lumen radius (mm) is at most this are widened.
    static let largestNormalLumenMM = 1.25
    /// The widest lumen radius (mm) traction gives.
    static let largestLumenMM = 3.0
    /// Seed of the per-bronchus factors.
    var factorSeed: UInt64

    static func draw(random r: inout PhantomRandom) -> TractionBronchiectasis {
        TractionBronchiectasis(marginMM: r.uniform(2, 5), factorSeed: r.next())
    }

    /// The widening factor of the bronchus ending at artery node `node` (deterministic per node).
    func dilation(node: Int) -> Double {
        var random = PhantomRandom(seed: factorSeed, stream: UInt64(node))
        return random.uniform(Self.dilationRange.lowerBound, Self.dilationRange.upperBound)
    }

    /// The lumen radius (mm) of a bronchus whose normal lumen is `normalMM` and its parent's
    /// `parentNormalMM`, at artery node `node`, when it lies in the zone (`affects`).
    func widenedLumen(normalMM: Double, parentNormalMM: Double, node: Int) -> Double {
        guard normalMM <= Self.largestNormalLumenMM else { return normalMM }
        let base = Swift.max(normalMM, Self.taper * parentNormalMM)
        return Swift.max(normalMM, Swift.min(Self.largestLumenMM, dilation(node: node) * base))
    }

    /// Whether `p` (anatomy mm) in lung `side` lies within the fibrosis's reach plus `marginMM`
    /// of the pleura, with the same depth and weight as the renderer's reticulation.
    func affects(_ p: SIMD3<Double>, side: Int, fibrosis: InterstitialFibrosis, anatomy a: ChestAnatomy) -> Bool {
        guard let sec = a.lungSection(side: side, z: p.z) else { return false }
        let dx = p.x - sec.cx, dy = p.y - sec.cy
        let lateral = (side == 0 ? -dx : dx) / sec.a
        let posterior = Swift.min(1, Swift.max(0, (dy + sec.bA) / (sec.bA + sec.bP)))
        let weight = InterstitialFibrosis.weight(heightFraction: p.z / a.lungHeightMM, lateral: lateral, posterior: posterior)
        let reach = fibrosis.maximumDepthMM * weight
        guard reach > 1 else { return false }
        let depth = -a.lungShapeDistance(side: side, x: p.x, y: p.y, z: p.z, section: sec)
        return depth < reach + marginMM
    }
}
