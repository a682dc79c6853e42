import Foundation
import Testing
@testable import Phantoms

// Calcified granulomas (`--granuloma-fraction`): opt-in, in the lungs, clear of the nodules,
// rendered as calcium, and recorded in truth.json apart from the nodules.

/// Test-sized options with `--granuloma-fraction`.
private func options(granulomas: Double?, size: Int = 128) -> PhantomOptions {
    fastPhantomOptions(size: size, slices: 40).with { $0.granulomaFraction = granulomas }
}

@Suite struct PhantomGranulomaTests {
    @Test func offByDefaultAndDrawnFromTheirOwnStream() throws {
        let before = PhantomGenerator(options: options(granulomas: nil), seed: 1414).plan(case: 0)
        let zero = PhantomGenerator(options: options(granulomas: 0), seed: 1414).plan(case: 0)
        #expect(before.granulomas == nil && zero.granulomas == nil)
        #expect(PhantomTruth.entry(for: before, folder: "c", format: "dicom").calcifiedGranulomas == nil)
        let with = PhantomGenerator(options: options(granulomas: 1), seed: 1414).plan(case: 0)
        let set = try #require(with.granulomas)
        #expect(with.nodules.map(\.center) == before.nodules.map(\.center))
        // A plane clear of every granuloma is the plane of before.
        let highest = set.granulomas.map { $0.center.z + $0.radiusMM }.max()!
        let lowest = set.granulomas.map { $0.center.z - $0.radiusMM }.min()!
        let clearZ = highest + 5 < before.anatomy.lungHeightMM ? highest + 5 : lowest - 5
        #expect(renderPlane(with, z: clearZ) == renderPlane(before, z: clearZ))
        #expect(throws: PhantomError.self) { try options(granulomas: 1.5).validate() }
    }

    @Test func granulomasAreCalciumInTheLungsClearOfTheNodules() throws {
        var seen = 0
        for i in 0..<4 {
            let p = PhantomGenerator(options: options(granulomas: 1, size: 256), seed: 1415).plan(case: i)
            let set = try #require(p.granulomas)
            #expect((1...4).contains(set.granulomas.count))
            for g in set.granulomas {
                seen += 1
                #expect(g.radiusMM >= 1.25 && g.radiusMM <= 3.5 && g.hu >= 400 && g.hu <= 1100)
                // Inside a lung, with lung all round it.
                #expect(p.anatomy.lungDistance(g.center).distanceMM < -g.radiusMM)
                for n in p.nodules {
                    let d = n.center - g.center
                    #expect((d * d).sum().squareRoot() > n.boundingRadiusMM + g.radiusMM + 7.9)
                }
                // Rendered (before the point spread): calcium at the centre, aerated lung 2 mm
                // beyond its edge on at least one side (a vessel may touch it on another).
                let (hu, lung) = renderPlaneAndLung(p, z: g.center.z)
                let centre = try #require(nearestPixel(p, g.center.x, g.center.y))
                #expect(Double(hu[centre]) > 0.8 * g.hu, "centre \(hu[centre]) HU for calcium at \(g.hu)")
                let outside = [(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)].compactMap { (dx, dy) -> Float? in
                    let r = g.radiusMM + 2 + p.pixelSpacingMM
                    guard let k = nearestPixel(p, g.center.x + dx * r, g.center.y + dy * r) else { return nil }
                    return lung[k] > 0.5 ? hu[k] : nil
                }
                #expect(outside.contains { $0 < -500 }, "no aerated lung beside the granuloma: \(outside)")
            }
        }
        #expect(seen >= 4)
    }

    @Test func truthRecordsThemApartFromTheNodules() throws {
        let p = PhantomGenerator(options: options(granulomas: 1), seed: 1416).plan(case: 1)
        let set = try #require(p.granulomas)
        let entry = PhantomTruth.entry(for: p, folder: "c", format: "dicom")
        let recorded = try #require(entry.calcifiedGranulomas)
        #expect(recorded.count == set.granulomas.count)
        #expect(entry.nodules.count == p.nodules.count)
        for (r, g) in zip(recorded, set.granulomas) {
            let c = p.patientPosition(ofAnatomy: g.center)
            #expect(abs(r.centerMM[0] - c.x) < 0.001 && abs(r.centerMM[1] - c.y) < 0.001 && abs(r.centerMM[2] - c.z) < 0.001)
            #expect(abs(r.diameterMM - 2 * g.radiusMM) < 0.001 && abs(r.hu - g.hu) < 0.06)
        }
    }
}
