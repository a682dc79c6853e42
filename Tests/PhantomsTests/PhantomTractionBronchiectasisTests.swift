import Foundation
import Testing
@testable import Phantoms

// Traction bronchiectasis (`--traction-bronchiectasis-fraction`, with fibrosis): opt-in, from
// its own stream; only bronchi in the lower, subpleural fibrotic zone widened, each by its own
// factor, walls not thickened, and more open airways near the pleura; in truth.json.

private func options(traction: Double?, fibrosis: Double? = 1, size: Int = 128) -> PhantomOptions {
    fastPhantomOptions(size: size, slices: 40).with {
        $0.fibrosisFraction = fibrosis
        $0.tractionBronchiectasisFraction = traction
    }
}

/// Each airway segment with the artery segment it runs beside (the bronchus ends at the
/// artery's node, offset by the artery's radius plus 1.2 lumens plus 0.6 mm times the scale,
/// `PhantomCase`) and that artery's parent segment.
private func bronchiWithArteries(_ p: PhantomCase) -> [(bronchus: TubeSegment, wall: Double, artery: TubeSegment, parent: TubeSegment)] {
    let arteries = zip(p.vesselSegments, p.vesselIsVein).filter { !$0.1 }.map(\.0)
    var out: [(TubeSegment, Double, TubeSegment, TubeSegment)] = []
    for (bronchus, wall) in zip(p.airwaySegments, p.airwayWallMM) {
        let lumen = bronchus.endRadiusMM
        guard let artery = arteries.first(where: { a in
            let d = a.end - bronchus.end
            return abs((d * d).sum().squareRoot() - (a.endRadiusMM + 1.2 * lumen + 0.6 * p.anatomy.scale)) < 1e-6
        }), let parent = arteries.first(where: { $0.end == artery.start }) else { continue }
        out.append((bronchus, wall, artery, parent))
    }
    return out
}

@Suite struct PhantomTractionBronchiectasisTests {
    @Test func offByDefaultNeedsFibrosisAndDrawnFromItsOwnStream() throws {
        let fibrosisOnly = PhantomGenerator(options: options(traction: nil), seed: 1491).plan(case: 0)
        let zero = PhantomGenerator(options: options(traction: 0), seed: 1491).plan(case: 0)
        #expect(fibrosisOnly.tractionBronchiectasis == nil && zero.tractionBronchiectasis == nil)
        #expect(zero.airwaySegments == fibrosisOnly.airwaySegments)
        #expect(PhantomTruth.entry(for: fibrosisOnly, folder: "c", format: "dicom").interstitialFibrosis?.tractionBronchiectasis == nil)
        let with = PhantomGenerator(options: options(traction: 1), seed: 1491).plan(case: 0)
        let t = try #require(with.tractionBronchiectasis)
        #expect(t.marginMM >= 2 && t.marginMM <= 5)
        #expect(with.interstitialFibrosis == fibrosisOnly.interstitialFibrosis)
        #expect(with.vesselSegments == fibrosisOnly.vesselSegments)
        #expect(with.nodules.map(\.center) == fibrosisOnly.nodules.map(\.center))
        #expect(with.airwaySegments != fibrosisOnly.airwaySegments)
        let truth = try #require(PhantomTruth.entry(for: with, folder: "c", format: "dicom").interstitialFibrosis?.tractionBronchiectasis)
        #expect(abs(truth.marginMM - t.marginMM) < 0.001 && truth.dilation == [1.4, 2.6])
        #expect(throws: PhantomError.self) { try options(traction: 1, fibrosis: nil).validate() }
        #expect(throws: PhantomError.self) { try options(traction: 1.5).validate() }
        let g = PhantomGenerator(options: options(traction: 0.5, size: 32), seed: 1492)
        let affected = (0..<8).filter { g.plan(case: $0).tractionBronchiectasis != nil }.count
        #expect(affected >= 1 && affected <= 7, "\(affected) of 8 at 0.5")
    }

    @Test func onlyBronchiInTheFibroticZoneAreWidenedEachByItsOwnFactor() throws {
        var widenedCount = 0, deepCount = 0
        var factors: [Double] = []
        for i in 0..<3 {
            let p = PhantomGenerator(options: options(traction: 1), seed: 1493).plan(case: i)
            let f = try #require(p.interstitialFibrosis)
            let t = try #require(p.tractionBronchiectasis)
            for (bronchus, wall, artery, parent) in bronchiWithArteries(p) {
                let lumen = bronchus.endRadiusMM
                let normal = 0.8 * artery.endRadiusMM
                // Walls are not thickened: the normal wall of the lumen drawn.
                #expect(abs(wall - (0.15 * lumen + 0.25)) < 1e-9)
                let depth = -p.anatomy.lungDistance(artery.end).distanceMM
                if lumen > normal + 1e-9 {
                    widenedCount += 1
                    // Widened only within the reticulation's deepest reach plus the margin of
                    // the pleura, and only in the lower half of the lung (where fibrosis is).
                    #expect(depth < f.maximumDepthMM + t.marginMM)
                    #expect(artery.end.z < 0.5 * p.anatomy.lungHeightMM)
                    // Small bronchi only, by a factor of 1.4-2.6 of the larger of its normal
                    // lumen and 0.85 of its parent's (`parent.endRadiusMM` is the parent node's
                    // artery radius), to at most 3 mm.
                    #expect(normal <= 1.25 && lumen <= 3 + 1e-9)
                    let base = max(normal, 0.85 * 0.8 * parent.endRadiusMM)
                    let factor = lumen / base
                    if lumen < 3 - 1e-9 {
                        #expect(factor >= 1.4 - 1e-9 && factor <= 2.6 + 1e-9, "factor \(factor)")
                        factors.append(factor)
                    } else {
                        #expect(factor <= 2.6 + 1e-9, "capped, factor \(factor)")
                    }
                } else if depth > f.maximumDepthMM + t.marginMM + 1 || normal > 1.25 {
                    deepCount += 1
                    #expect(abs(lumen - normal) < 1e-9)
                }
            }
        }
        #expect(widenedCount >= 10, "\(widenedCount) widened bronchi")
        #expect(deepCount >= 10, "\(deepCount) deep bronchi checked")
        // Varicose: the factors differ from bronchus to bronchus.
        let mean = factors.reduce(0, +) / Double(max(1, factors.count))
        let sd = (factors.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(1, factors.count))).squareRoot()
        #expect(sd > 0.2, "spread of the widening factors \(sd)")
    }

    @Test func openAirwaysReachTheSubpleuralLung() throws {
        // Bronchi drawn (lumen >= 1 mm) that end within 10 mm of the pleura in the lower half
        // of the lungs: the Fleischner sign of bronchiectasis; normal bronchi rarely get there.
        func nearPleura(_ p: PhantomCase) -> Int {
            p.airwaySegments.filter { s in
                s.end.z < 0.5 * p.anatomy.lungHeightMM && -p.anatomy.lungDistance(s.end).distanceMM < 10
            }.count
        }
        var before = 0, after = 0
        for i in 0..<3 {
            before += nearPleura(PhantomGenerator(options: options(traction: nil), seed: 1493).plan(case: i))
            after += nearPleura(PhantomGenerator(options: options(traction: 1), seed: 1493).plan(case: i))
        }
        #expect(after >= before + 10, "airways within 10 mm of the pleura, lower lung: \(before) -> \(after)")
    }
}
