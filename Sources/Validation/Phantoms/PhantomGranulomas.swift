import Foundation

/// Calcified granulomas (`PhantomOptions.granulomaFraction`): the scars of a healed
/// granulomatous infection (tuberculosis, histoplasmosis), the commonest benign lung nodule
/// on chest CT. Each is a small, densely and completely calcified ball in the parenchyma,
/// more often in the upper lobes.
///
/// They are nodules, but benign ones: Lung-RADS v1.1 puts a nodule with a benign calcification
/// pattern (complete, central, popcorn or concentric rings) in category 1, so a radiologist
/// does not follow them up and a triage must not make a study urgent for one. That is why they
/// are not in truth.json's `nodules` but in `calcified_granulomas`, which `triage evaluate`
/// leaves out of the false-positive count (as LUNA16 leaves out its irrelevant findings) and
/// reports on its own. Calcium is rendered at 400-1100 HU before the point spread; small
/// calcified nodules on real CT measure several hundred HU (Siegelman et al., "Solitary
/// pulmonary nodules: CT assessment", Radiology 1986;160:307-312: benign above 164 HU on
/// their scanner).
public struct CalcifiedGranulomas: Sendable, Equatable {
    public let granulomas: [CalciumBall]

    /// 1-4 granulomas of 2.5-7 mm in the lungs, 60 % of them in the upper half, clear of the
    /// case's nodules (at least 8 mm between surfaces), of each other and of what `covered`
    /// (centre, radius) says hides them; nil when none fits.
    static func draw(anatomy a: ChestAnatomy, nodules: [PhantomNodule], random r: inout PhantomRandom,
                     covered: (SIMD3<Double>, Double) -> Bool) -> CalcifiedGranulomas? {
        let count = r.int(1...4)
        var placed: [CalciumBall] = []
        for _ in 0..<count {
            let radius = r.uniform(1.25, 3.5)
            let hu = r.uniform(400, 1100)
            let side = r.int(0...1)
            let upper = r.chance(0.6)
            let (lo, hi) = a.lungBounds(side: side)
            let mid = (lo.z + hi.z) / 2
            for _ in 0..<300 {
                let c = SIMD3(r.uniform(lo.x, hi.x), r.uniform(lo.y, hi.y),
                              upper ? r.uniform(mid, hi.z) : r.uniform(lo.z, mid))
                let (d, s) = a.lungDistance(c)
                guard s == side, d < -(radius + 1.5) else { continue }
                let clear = nodules.allSatisfy { n in
                    let v = n.center - c
                    return (v * v).sum().squareRoot() > n.boundingRadiusMM + radius + 8
                } && placed.allSatisfy { g in
                    let v = g.center - c
                    return (v * v).sum().squareRoot() > g.radiusMM + radius + 10
                }
                guard clear, !covered(c, radius) else { continue }
                placed.append(CalciumBall(center: c, radiusMM: radius, hu: hu))
                break
            }
        }
        return placed.isEmpty ? nil : CalcifiedGranulomas(granulomas: placed)
    }
}

/// A ball of calcium in the anatomy frame: a calcified granuloma or a coronary plaque.
public struct CalciumBall: Sendable, Equatable {
    public var center: SIMD3<Double>
    public var radiusMM: Double
    /// HU of the calcium (before the point spread).
    public var hu: Double
}
