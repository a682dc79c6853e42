import Foundation

/// Cylindrical bronchiectasis of one lower lobe (`PhantomOptions.bronchiectasisFraction`):
/// irreversibly widened bronchi after infection or with chronic airway disease, common in
/// older smokers. The Fleischner Society glossary (Hansell et al., Radiology
/// 2008;246:697-722): "bronchial dilatation with respect to the accompanying pulmonary
/// artery, lack of tapering of bronchi, and identification of bronchi within 1 cm of the
/// pleural surface"; the wall is often thickened.
///
/// Why the generator draws it: a widened bronchus cut across beside its artery is the
/// "signet ring" (a ring of wall with a dot beside it); thick walls cut obliquely or at a
/// branching, and the arteries beside the widened lumens, are nodule-like blobs; and the
/// bronchi come nearer the pleura than normal ones.
///
/// Geometry: in the chosen lobe every bronchus of the tree (which runs beside its artery,
/// `PhantomCase`) gets a lumen of `dilation` (1.3-1.8) times the normal one (normal: 0.8 of
/// the artery's radius, so the bronchoarterial ratio becomes 1.0-1.45, mild cylindrical
/// bronchiectasis, the commonest form), and the normal one is taken as at least `taper`
/// (0.75-0.85) of its parent's normal lumen, so the bronchi taper less and stay visible
/// (lumen radius >= 1 mm) further out; the wall is `wallThickening` (1.4-2) times as thick.
/// Nothing else of the case changes (its own random stream; nodules are placed without
/// regard to the airways).
public struct Bronchiectasis: Sendable, Equatable {
    /// Lung (0 right, 1 left) and lobe (`ChestAnatomy.lobe`: right 2, left 1, the lower lobes).
    public var side: Int
    public var lobe: Int
    public var dilation: Double
    public var taper: Double
    public var wallThickening: Double

    /// Whether a bronchus whose node lies in `lobe` of lung `side` is widened.
    func affects(side: Int, lobe: Int) -> Bool { side == self.side && lobe == self.lobe }

    static func draw(random r: inout PhantomRandom) -> Bronchiectasis {
        let side = r.int(0...1)
        return Bronchiectasis(side: side, lobe: side == 0 ? 2 : 1, dilation: r.uniform(1.3, 1.8),
                              taper: r.uniform(0.75, 0.85), wallThickening: r.uniform(1.4, 2))
    }
}

/// Mucus plugging of widened bronchi (`PhantomOptions.mucusPlugFraction`): in bronchiectasis
/// the bronchi clear poorly and some fill with mucus. Fleischner glossary (Hansell et al.
/// 2008): "mucoid impaction ... tubular or branching opacity" ("finger-in-glove"); where the
/// impacted airways are small bronchioles they show as centrilobular nodules and branching
/// lines, "tree-in-bud".
///
/// Why the generator draws it: a plugged bronchus is no longer a dark tube with a bright
/// wall but a soft-tissue tube as dense as a vessel, beside its artery, that ends in small
/// branching and nodular tips; cut across or at a branching it looks like a nodule on a
/// vessel, which is what the detector must tell apart.
///
/// Geometry: `count` (2-4) bronchi of the widened lobe with a lumen of 1.2-3 mm radius are
/// roots; each and every bronchus below it is filled with mucus of `hu` (5-35 HU: water to
/// soft tissue) inside an unchanged wall, down to bronchioles of 0.6 mm lumen radius, which
/// open airways never show (they are drawn only from 1 mm). Own random stream: the rest of
/// the case, its bronchiectasis included, is the same with or without plugs.
public struct MucusPlugs: Sendable, Equatable {
    /// Number of plugged branches (roots).
    public var count: Int
    /// Mucus HU before the point spread.
    public var hu: Double
    /// Seed of the roots' draw (`pluggedNodes`).
    var rootSeed: UInt64

    /// Smallest lumen radius (mm) drawn for an impacted bronchiole.
    static let smallestLumenMM = 0.6
    /// Lumen radii (mm) of the bronchi that can be a plug's root.
    static let rootLumenMM: ClosedRange<Double> = 1.2...3.0

    static func draw(random r: inout PhantomRandom) -> MucusPlugs {
        let count = r.int(2...4)
        let hu = r.uniform(5, 35)
        return MucusPlugs(count: count, hu: hu, rootSeed: r.next())
    }

    /// Marks the plugged nodes of one airway tree: `count` distinct roots among `eligible`
    /// (node indices), then every node below a plugged one (parents precede children).
    func pluggedNodes(parents: [Int], eligible: [Int]) -> [Bool] {
        var random = PhantomRandom(seed: rootSeed)
        var pool = eligible
        var plugged = [Bool](repeating: false, count: parents.count)
        for _ in 0..<Swift.min(count, pool.count) {
            let k = random.int(0...(pool.count - 1))
            plugged[pool[k]] = true
            pool.remove(at: k)
        }
        for i in parents.indices where parents[i] >= 0 && parents[i] < i && plugged[parents[i]] {
            plugged[i] = true
        }
        return plugged
    }
}


/// Cystic bronchiectasis (`PhantomOptions.bronchialCystFraction`): the severe form, in which
/// widened bronchi end in thin-walled cysts, often in clusters ("string of pearls", "cluster
/// of grapes"), some holding fluid (Fleischner glossary, Hansell et al. 2008: "cystic
/// bronchiectasis ... may have air-fluid levels"; Milliron et al., RadioGraphics
/// 2015;35:1011-1030).
///
/// Why the generator draws it: an air cyst with a wall is a ring, but a cyst full of fluid is a
/// round soft-tissue ball of 6-14 mm at the end of a bronchus: the closest thing to a nodule
/// the airways make, which the detector must not call a nodule (a finding on one is a false
/// positive; truth.json lists them).
///
/// Geometry: 4-12 of the widened lobe's bronchial tips (drawn bronchi with no drawn bronchus
/// beyond them) are chosen; each ends in a sphere of 3-7 mm lumen radius with a 0.8-1.5 mm
/// wall, centred 0.8 radii beyond the tip along the bronchus, wholly in the lung and clear of
/// the nodules (3 mm beyond both) and of fluid, consolidation and ground glass, sharing at
/// most a wall with another cyst. Each holds air (chance 0.5), fluid up to a level (0.35;
/// 20-70 % of its height, the fluid dependent, posterior, the patient supine) or only fluid
/// (0.15), and at least one some fluid: the mucus plugs' when the case has them, else 5-30 HU.
/// Own random stream: the rest of the case is the same with or without cysts.
public struct BronchialCysts: Sendable, Equatable {
    public struct Cyst: Sendable, Equatable {
        public var center: SIMD3<Double>
        /// Lumen radius (mm); the wall lies outside it.
        public var radiusMM: Double
        public var wallMM: Double
        /// How much of its height holds fluid: 0 air, 1 full, in between an air-fluid level.
        public var fluidFraction: Double
        /// Anatomy-frame y (mm) of the fluid's level: the fluid lies behind it (dependent, the
        /// patient supine).
        public var fluidLevelY: Double { center.y + radiusMM * (1 - 2 * fluidFraction) }
    }
    public var cysts: [Cyst]
    /// HU of the fluid in the cysts that hold some, when the case has no mucus plugs.
    public var fluidHU: Double

    /// The cysts at `tips` (a bronchus's end, its unit direction and lumen radius), or nil
    /// when none fits.
    static func draw(tips: [(position: SIMD3<Double>, direction: SIMD3<Double>, lumenMM: Double)],
                     anatomy a: ChestAnatomy, nodules: [PhantomNodule], random r: inout PhantomRandom,
                     covered: (SIMD3<Double>, Double) -> Bool) -> BronchialCysts? {
        let count = r.int(4...12)
        let fluidHU = r.uniform(5, 30)
        var pool = Array(tips.indices)
        var cysts: [Cyst] = []
        while cysts.count < count, !pool.isEmpty {
            let tip = tips[pool.remove(at: r.int(0...(pool.count - 1)))]
            let radius = Swift.max(r.uniform(3, 7) * a.scale, tip.lumenMM)
            let wall = r.uniform(0.8, 1.5) * a.scale
            let kind = r.uniform(0, 1)
            let fluid = kind < 0.5 ? 0 : kind < 0.85 ? r.uniform(0.2, 0.7) : 1
            let center = tip.position + 0.8 * radius * tip.direction
            let outer = radius + wall
            guard a.lungDistance(center).distanceMM < -(outer + 1), !covered(center, outer) else { continue }
            let clear = nodules.allSatisfy { n in
                let d = n.center - center
                return (d * d).sum().squareRoot() > n.boundingRadiusMM + outer + 3
            }
            // Cysts of a cluster may share a wall but not a lumen (each keeps its own level).
            let apart = cysts.allSatisfy { o in
                let d = o.center - center
                return (d * d).sum().squareRoot() >= o.radiusMM + radius + Swift.max(o.wallMM, wall)
            }
            guard clear, apart else { continue }
            cysts.append(Cyst(center: center, radiusMM: radius, wallMM: wall, fluidFraction: fluid))
        }
        guard !cysts.isEmpty else { return nil }
        if !cysts.contains(where: { $0.fluidFraction > 0 }) {
            cysts[r.int(0...(cysts.count - 1))].fluidFraction = r.uniform(0.2, 0.7)
        }
        return BronchialCysts(cysts: cysts, fluidHU: fluidHU)
    }
}
