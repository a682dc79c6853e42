import Foundation
import Testing
@testable import Phantoms

// Bronchiectasis (`--bronchiectasis-fraction`): opt-in, from its own stream, only the chosen
// lower lobe's bronchi widened (wider than their artery), thicker-walled, in truth.json.

private func options(bronchiectasis: Double?, size: Int = 128) -> PhantomOptions {
    fastPhantomOptions(size: size, slices: 40).with { $0.bronchiectasisFraction = bronchiectasis }
}

@Suite struct PhantomBronchiectasisTests {
    @Test func offByDefaultAndOnlyTheLobeChanges() throws {
        let before = PhantomGenerator(options: options(bronchiectasis: nil), seed: 1441).plan(case: 0)
        let zero = PhantomGenerator(options: options(bronchiectasis: 0), seed: 1441).plan(case: 0)
        #expect(before.bronchiectasis == nil && zero.bronchiectasis == nil)
        #expect(zero.airwaySegments == before.airwaySegments)
        #expect(PhantomTruth.entry(for: before, folder: "c", format: "dicom").bronchiectasis == nil)
        let with = PhantomGenerator(options: options(bronchiectasis: 1), seed: 1441).plan(case: 0)
        let b = try #require(with.bronchiectasis)
        #expect(b.lobe == (b.side == 0 ? 2 : 1), "a lower lobe")
        // Vessels and nodules are those of before.
        #expect(with.vesselSegments == before.vesselSegments)
        #expect(with.nodules.map(\.center) == before.nodules.map(\.center))
        // The other lung's bronchi are untouched (the right lung lies at x < 0); the affected
        // lung has more bronchi wide enough to draw (lumen >= 1 mm reaches further out).
        func inLung(_ s: TubeSegment, _ side: Int) -> Bool { side == 0 ? s.start.x < 0 : s.start.x > 0 }
        let other = 1 - b.side
        #expect(with.airwaySegments.filter { inLung($0, other) } == before.airwaySegments.filter { inLung($0, other) })
        #expect(with.airwaySegments.filter { inLung($0, b.side) }.count
                > before.airwaySegments.filter { inLung($0, b.side) }.count)
        #expect(throws: PhantomError.self) { try options(bronchiectasis: 2).validate() }
        let g = PhantomGenerator(options: options(bronchiectasis: 0.5, size: 32), seed: 1442)
        let affected = (0..<8).filter { g.plan(case: $0).bronchiectasis != nil }.count
        #expect(affected >= 1 && affected <= 7, "\(affected) of 8 at 0.5")
    }

    @Test func widenedBronchiAreWiderThanTheirArteryAndThickWalled() throws {
        var checked = 0
        for i in 0..<3 {
            let p = PhantomGenerator(options: options(bronchiectasis: 1), seed: 1443).plan(case: i)
            let b = try #require(p.bronchiectasis)
            let arteries = zip(p.vesselSegments, p.vesselIsVein).filter { !$0.1 }.map(\.0)
            for (bronchus, wall) in zip(p.airwaySegments, p.airwayWallMM) {
                let lumen = bronchus.endRadiusMM
                // The bronchus ends beside its artery's node, at the artery's radius plus 1.2
                // lumens plus 0.6 mm (times the anatomy's scale) from it (`PhantomCase`).
                guard let artery = arteries.first(where: { a in
                    let d = a.end - bronchus.end
                    return abs((d * d).sum().squareRoot() - (a.endRadiusMM + 1.2 * lumen + 0.6 * p.anatomy.scale)) < 1e-6
                }) else { continue }
                let side = artery.end.x < 0 ? 0 : 1
                let normalWall = 0.15 * lumen + 0.25
                if b.affects(side: side, lobe: p.anatomy.lobe(side: side, artery.end)) {
                    // Bronchoarterial ratio at least the dilation times the normal 0.8 (> 1).
                    #expect(lumen >= b.dilation * 0.8 * artery.endRadiusMM - 1e-9)
                    #expect(lumen > artery.endRadiusMM)
                    #expect(abs(wall - b.wallThickening * normalWall) < 1e-9)
                    checked += 1
                } else {
                    #expect(abs(lumen - 0.8 * artery.endRadiusMM) < 1e-9)
                    #expect(abs(wall - normalWall) < 1e-9)
                }
            }
            // truth.json names the lobe and the factors.
            let entry = try #require(PhantomTruth.entry(for: p, folder: "c", format: "dicom").bronchiectasis)
            #expect(entry.lobe == (b.side == 0 ? "right lower" : "left lower"))
            #expect(abs(entry.dilation - b.dilation) < 0.001 && abs(entry.wallThickening - b.wallThickening) < 0.001)
        }
        #expect(checked >= 10, "\(checked) widened bronchi matched to their artery")
    }
}
