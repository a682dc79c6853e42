import Foundation
import Testing
@testable import Phantoms

// Coronary arteries and calcified plaque (`--coronary-calcium-fraction`): opt-in, on the
// heart outside the lungs, plaque rendered as calcium, recorded in truth.json.

/// Test-sized options with `--coronary-calcium-fraction`.
private func options(calcium: Double?, size: Int = 256) -> PhantomOptions {
    fastPhantomOptions(size: size, slices: 40).with { $0.coronaryCalciumFraction = calcium }
}

@Suite struct PhantomCoronaryTests {
    @Test func offByDefaultAndDrawnFromTheirOwnStream() throws {
        let before = PhantomGenerator(options: options(calcium: nil, size: 128), seed: 1417).plan(case: 0)
        let zero = PhantomGenerator(options: options(calcium: 0, size: 128), seed: 1417).plan(case: 0)
        #expect(before.coronaries == nil && zero.coronaries == nil)
        #expect(PhantomTruth.entry(for: before, folder: "c", format: "dicom").coronaryPlaques == nil)
        let with = PhantomGenerator(options: options(calcium: 1, size: 128), seed: 1417).plan(case: 0)
        let coronaries = try #require(with.coronaries)
        #expect(with.nodules.map(\.center) == before.nodules.map(\.center))
        // Above the arteries (and their fat) the plane is the plane of before; on the heart it is not.
        let above = coronaries.hi.z + 2
        #expect(renderPlane(with, z: above) == renderPlane(before, z: above))
        let middle = (coronaries.lo.z + coronaries.hi.z) / 2
        #expect(renderPlane(with, z: middle) != renderPlane(before, z: middle))
        #expect(throws: PhantomError.self) { try options(calcium: -0.1).validate() }
        // Arteries in every case, plaque only in the fraction asked for.
        let g = PhantomGenerator(options: options(calcium: 0.5, size: 32), seed: 1418)
        let plans = (0..<8).map { g.plan(case: $0) }
        #expect(plans.allSatisfy { $0.coronaries?.arteries.count == 4 })
        let calcified = plans.filter { !($0.coronaries?.plaques.isEmpty ?? true) }.count
        #expect(calcified >= 1 && calcified <= 7, "\(calcified) of 8 with plaque at 0.5")
    }

    @Test func arteriesRunOnTheHeartOutsideTheLungsAndPlaqueIsCalcium() throws {
        var plaques = 0
        for i in 0..<3 {
            let p = PhantomGenerator(options: options(calcium: 1), seed: 1419).plan(case: i)
            let coronaries = try #require(p.coronaries)
            #expect(!coronaries.plaques.isEmpty)
            // Every 2 mm of every artery lies on the heart's surface (within 3 mm of it); at
            // each segment's middle the renderer draws no lung.
            for artery in coronaries.arteries {
                for seg in artery {
                    let steps = Swift.max(1, Int(seg.lengthMM / 2))
                    for k in 0...steps {
                        let q = seg.start + Double(k) / Double(steps) * (seg.end - seg.start)
                        #expect(abs(p.anatomy.heartDistance(x: q.x, y: q.y, z: q.z)) < 3 * p.anatomy.scale)
                    }
                }
                let middle = artery[artery.count / 2]
                let q = (middle.start + middle.end) / 2
                let (_, lung) = renderPlaneAndLung(p, z: q.z)
                if let k = nearestPixel(p, q.x, q.y) { #expect(lung[k] < 0.5, "artery point in lung") }
            }
            // Plaques of 1.2 mm radius and more (a smaller one may fall between 1.5 mm pixels).
            for plaque in coronaries.plaques where plaque.radiusMM >= 1.2 * p.anatomy.scale {
                plaques += 1
                let (hu, lung) = renderPlaneAndLung(p, z: plaque.center.z)
                let k = try #require(nearestPixel(p, plaque.center.x, plaque.center.y))
                // The brightest of the 3 x 3 pixels round it (a 1.4 mm plaque may fall between pixels).
                let near = [-1, 0, 1].flatMap { dr in [-1, 0, 1].map { dc in k + dr * p.columns + dc } }
                let brightest = near.map { Double(hu[$0]) }.max()!
                #expect(brightest > 0.45 * plaque.hu, "plaque \(brightest) HU for \(plaque.hu)")
                #expect(lung[k] < 0.5)
            }
            // truth.json: one entry per plaque, in LPS.
            let entry = PhantomTruth.entry(for: p, folder: "c", format: "dicom")
            let recorded = try #require(entry.coronaryPlaques)
            #expect(recorded.count == coronaries.plaques.count)
            if let first = recorded.first, let plaque = coronaries.plaques.first {
                let c = p.patientPosition(ofAnatomy: plaque.center)
                #expect(abs(first.centerMM[2] - c.z) < 0.001 && abs(first.diameterMM - 2 * plaque.radiusMM) < 0.001)
            }
        }
        #expect(plaques >= 2)
    }
}
