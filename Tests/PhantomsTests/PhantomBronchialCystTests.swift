import Foundation
import Testing
@testable import Phantoms

// Cystic bronchiectasis (`--bronchial-cyst-fraction`): opt-in, needs bronchiectasis, from its
// own stream; cysts at the ends of the widened lobe's bronchi, in the lung and clear of the
// nodules, air with a wall, fluid up to a dependent level or full of fluid (at least one with
// some fluid), in truth.json.

private func cystOptions(_ fraction: Double?, size: Int = 256) -> PhantomOptions {
    fastPhantomOptions(size: size, slices: 40).with {
        $0.bronchiectasisFraction = 1
        $0.bronchialCystFraction = fraction
    }
}

@Suite struct PhantomBronchialCystTests {
    @Test func offByDefaultNeedsBronchiectasisAndDrawnFromItsOwnStream() throws {
        let before = PhantomGenerator(options: cystOptions(nil), seed: 1481).plan(case: 0)
        let zero = PhantomGenerator(options: cystOptions(0), seed: 1481).plan(case: 0)
        #expect(before.bronchialCysts == nil && zero.bronchialCysts == nil)
        #expect(PhantomTruth.entry(for: before, folder: "c", format: "dicom").bronchiectasis?.cysts == nil)
        let with = PhantomGenerator(options: cystOptions(1), seed: 1481).plan(case: 0)
        let cysts = try #require(with.bronchialCysts)
        #expect(cysts.cysts.count >= 1 && cysts.cysts.count <= 12)
        // Everything else is the case of before.
        #expect(with.vesselSegments == before.vesselSegments)
        #expect(with.airwaySegments == before.airwaySegments)
        #expect(with.nodules.map(\.center) == before.nodules.map(\.center))
        #expect(throws: PhantomError.self) { try cystOptions(1.5).validate() }
        #expect(throws: PhantomError.self) {
            try fastPhantomOptions(size: 64).with { $0.bronchialCystFraction = 1 }.validate()
        }
        let g = PhantomGenerator(options: cystOptions(0.5, size: 64), seed: 1482)
        let cystic = (0..<8).filter { g.plan(case: $0).bronchialCysts != nil }.count
        #expect(cystic >= 1 && cystic <= 7, "\(cystic) of 8 with cysts at 0.5")
    }

    /// Each cyst sits 0.8 radii beyond the end of a bronchus of the widened lobe (an airway
    /// segment ends there, in that lobe), wholly in the lung, clear of every nodule, sizes in
    /// range; at least one holds fluid; rendered (before the point spread) as air, as fluid,
    /// or with fluid behind its level and air in front of it (the middle of each part);
    /// truth gives each with its fluid only when it holds some.
    @Test func cystsEndWidenedBronchiInTheLungAndAreRendered() throws {
        var cystsChecked = 0, filledSeen = 0, airSeen = 0
        for i in 0..<3 {
            let p = PhantomGenerator(options: cystOptions(1, size: 512), seed: 1483).plan(case: i)
            let a = p.anatomy
            let b = try #require(p.bronchiectasis)
            guard let cysts = p.bronchialCysts else { continue }
            let anyFluid = cysts.cysts.contains { $0.fluidFraction > 0 }
            #expect(anyFluid)
            let entry = try #require(PhantomTruth.entry(for: p, folder: "c", format: "dicom").bronchiectasis?.cysts)
            #expect(entry.count == cysts.cysts.count)
            let fluidWhereFilled = zip(entry, cysts.cysts).allSatisfy {
                ($0.fluidHU != nil) == ($1.fluidFraction > 0) && abs($0.fluidFraction - $1.fluidFraction) < 0.001
            }
            #expect(fluidWhereFilled)
            for cyst in cysts.cysts {
                #expect(cyst.radiusMM >= 3 * a.scale - 1e-9 && cyst.radiusMM <= 7 * a.scale + 1e-9)
                #expect(cyst.wallMM >= 0.8 * a.scale - 1e-9 && cyst.wallMM <= 1.5 * a.scale + 1e-9)
                let outer = cyst.radiusMM + cyst.wallMM
                let (d, side) = a.lungDistance(cyst.center)
                #expect(side == b.side && d < -(outer + 1) + 1e-9)
                // The bronchus it ends: a segment whose end lies 0.8 radii back, in the lobe.
                let ends = p.airwaySegments.map { s -> Double in
                    let e = s.end - cyst.center
                    return abs((e * e).sum().squareRoot() - 0.8 * cyst.radiusMM)
                }
                let k = ends.indices.min { ends[$0] < ends[$1] }!
                #expect(ends[k] < 1e-6, "no bronchus ends 0.8 radii from the cyst's centre")
                #expect(a.lobe(side: b.side, p.airwaySegments[k].end) == b.lobe)
                for o in cysts.cysts where o != cyst {
                    let e = o.center - cyst.center
                    #expect((e * e).sum().squareRoot() >= o.radiusMM + cyst.radiusMM + max(o.wallMM, cyst.wallMM) - 1e-9)
                }
                for n in p.nodules {
                    let e = n.center - cyst.center
                    #expect((e * e).sum().squareRoot() > n.boundingRadiusMM + outer + 3 - 1e-9)
                }
                // Rendered: fluid or air at the centre, wall half-way through it (sideways in
                // the axial plane, where the lung is), before the point spread.
                // (A plane outside the scanned slices draws only what that end slice holds.)
                guard cyst.center.z >= p.sliceCentreZ(0), cyst.center.z <= p.sliceCentreZ(p.slices - 1) else { continue }
                let plane = renderPlane(p, z: cyst.center.z)
                let fluid = p.mucusPlugs?.hu ?? cysts.fluidHU
                #expect(cyst.fluidFraction == 0 || cyst.fluidFraction == 1
                        || (cyst.fluidFraction >= 0.2 && cyst.fluidFraction <= 0.7))
                // The middle of the fluid (behind the level) and of the air (in front of it).
                let level = cyst.fluidLevelY
                #expect(abs(level - (cyst.center.y + cyst.radiusMM * (1 - 2 * cyst.fluidFraction))) < 1e-9)
                if cyst.fluidFraction > 0, let k = nearestPixel(p, cyst.center.x, cyst.center.y + cyst.radiusMM * (1 - cyst.fluidFraction)) {
                    #expect(abs(Double(plane[k]) - fluid) < 40, "\(plane[k]) HU in \(fluid) HU fluid (fraction \(cyst.fluidFraction))")
                    filledSeen += 1
                }
                if cyst.fluidFraction < 1, let k = nearestPixel(p, cyst.center.x, cyst.center.y - cyst.radiusMM * cyst.fluidFraction) {
                    #expect(plane[k] < -950, "\(plane[k]) HU in a cyst's air (fraction \(cyst.fluidFraction))")
                    airSeen += 1
                }
                cystsChecked += 1
            }
        }
        #expect(cystsChecked >= 6 && filledSeen >= 1 && airSeen >= 1, "\(cystsChecked) cysts, \(filledSeen) filled, \(airSeen) air")
    }
}
