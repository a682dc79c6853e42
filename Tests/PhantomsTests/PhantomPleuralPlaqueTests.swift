import Foundation
import Testing
@testable import Phantoms

// Pleural plaques (`--pleural-plaque-fraction`): opt-in, from their own stream, flat
// thickenings of the costal or diaphragmatic pleura, clear of the nodules, rendered as fibrous
// tissue (some with a calcified layer), in truth.json, and outside the lungs for the lung check.

/// Test-sized options with `--pleural-plaque-fraction`.
private func options(plaques: Double?, size: Int = 256) -> PhantomOptions {
    fastPhantomOptions(size: size, slices: 40).with { $0.pleuralPlaqueFraction = plaques }
}

@Suite struct PhantomPleuralPlaqueTests {
    @Test func offByDefaultAndDrawnFromTheirOwnStream() throws {
        let before = PhantomGenerator(options: options(plaques: nil, size: 128), seed: 1441).plan(case: 0)
        let zero = PhantomGenerator(options: options(plaques: 0, size: 128), seed: 1441).plan(case: 0)
        #expect(before.pleuralPlaques == nil && zero.pleuralPlaques == nil)
        #expect(PhantomTruth.entry(for: before, folder: "c", format: "dicom").pleuralPlaques == nil)
        let with = PhantomGenerator(options: options(plaques: 1, size: 128), seed: 1441).plan(case: 0)
        let plaques = try #require(with.pleuralPlaques)
        #expect(plaques.count >= 1 && plaques.count <= 8)
        #expect(with.nodules.map(\.center) == before.nodules.map(\.center))
        // Above every plaque the plane is the plane of before; through one it is not.
        let top = plaques.map { $0.bounds.max.z }.max()!
        // (Compared first, so a failure does not print two whole planes.)
        let sameAbove = renderPlane(with, z: top + 10) == renderPlane(before, z: top + 10)
        #expect(sameAbove)
        let z = plaques[0].center.z + 0.5 * plaques[0].thicknessMM * plaques[0].inward.z
        let changedThrough = renderPlane(with, z: z) != renderPlane(before, z: z)
        #expect(changedThrough)
        #expect(throws: PhantomError.self) { try options(plaques: 1.5).validate() }
        // Plaques only in the fraction of cases asked for.
        let g = PhantomGenerator(options: options(plaques: 0.5, size: 32), seed: 1442)
        let withPlaques = (0..<8).filter { g.plan(case: $0).pleuralPlaques != nil }.count
        #expect(withPlaques >= 1 && withPlaques <= 7, "\(withPlaques) of 8 with plaques at 0.5")
    }

    @Test func plaquesLieOnTheCostalPleuraOrTheDomeClearOfNodules() throws {
        var costal = 0, diaphragmatic = 0, calcified = 0
        for i in 0..<6 {
            let p = PhantomGenerator(options: options(plaques: 1), seed: 1443).plan(case: i)
            let a = p.anatomy
            for plaque in p.pleuralPlaques ?? [] {
                let n = plaque.inward, c = plaque.center
                // The footprint's centre is on the lung's surface and the normal points into
                // the lung: 2 mm along it is 2 mm deep, 2 mm against it 2 mm out (within the
                // surface's curvature).
                #expect(abs(a.lungDistance(c).distanceMM) < 0.3, "centre \(a.lungDistance(c).distanceMM) mm off the surface")
                #expect(abs((n * n).sum() - 1) < 1e-9)
                let inside = a.lungDistance(c + 2 * n), outside = a.lungDistance(c - 2 * n)
                #expect(inside.distanceMM < -1.4 && inside.side == plaque.side, "2 mm in: \(inside.distanceMM) mm")
                #expect(outside.distanceMM > 1.2, "2 mm out: \(outside.distanceMM) mm")
                // The tangent frame is orthonormal and lies in the surface.
                #expect(abs((plaque.longAxis * n).sum()) < 1e-9 && abs((plaque.shortAxis * n).sum()) < 1e-9)
                #expect(abs((plaque.longAxis * plaque.shortAxis).sum()) < 1e-9)
                if plaque.onDiaphragm {
                    // The top of a dome: the surface faces up.
                    #expect(n.z > 0.8)
                    diaphragmatic += 1
                } else {
                    // The chest wall: the surface faces sideways, not the mediastinum; the long
                    // axis is horizontal, along the ribs.
                    #expect(abs(n.z) < 0.5 && abs(plaque.longAxis.z) < 1e-9)
                    #expect(!a.isBeyondMediastinalSurface(c - 1 * n, side: plaque.side))
                    costal += 1
                }
                // Sizes: 10-50 mm long, 1.5-5 mm thick, soft tissue; calcium 250-800 HU.
                #expect(plaque.halfLengthMM >= 5 * a.scale - 1e-9 && plaque.halfLengthMM <= 25 * a.scale + 1e-9)
                #expect(plaque.halfWidthMM <= Swift.max(4 * a.scale, 0.8 * plaque.halfLengthMM) + 1e-9)
                #expect(plaque.thicknessMM >= Swift.min(1.5, 2.4 * a.scale) - 1e-9)
                #expect(plaque.thicknessMM <= 5 && plaque.hu >= 30 && plaque.hu <= 70)
                if let ca = plaque.calciumHU { #expect(ca >= 250 && ca <= 800); calcified += 1 }
                // Clear of every nodule: no footprint point within 6 mm of a nodule's bounding
                // sphere (8 mm is asked of the centre and the rim at 0.9).
                for nodule in p.nodules {
                    for k in 0..<16 {
                        for rho in [0.0, 0.5, 1.0] {
                            let angle = Double(k) * Double.pi / 8
                            let q = c + rho * (plaque.halfLengthMM * cos(angle) * plaque.longAxis
                                               + plaque.halfWidthMM * sin(angle) * plaque.shortAxis)
                            let v = nodule.center - q
                            #expect((v * v).sum().squareRoot() - nodule.boundingRadiusMM > 4,
                                    "plaque within 4 mm of a nodule's bounding sphere")
                        }
                    }
                }
            }
        }
        // Both kinds, and calcified ones, over these cases (2-8 plaques each, a quarter on the
        // domes, 30 % calcified).
        #expect(costal >= 6 && diaphragmatic >= 1 && calcified >= 1, "\(costal) costal, \(diaphragmatic) on the domes, \(calcified) calcified")
    }

    @Test func plaquesAreRenderedOnThePleuraAndRecordedInTruth() throws {
        var checked = 0, calciumChecked = 0
        for i in 0..<3 {
            // 512 pixels (0.6-0.9 mm) and the plane before the point spread.
            let p = PhantomGenerator(options: options(plaques: 1, size: 512), seed: 1444).plan(case: i)
            let without = PhantomGenerator(options: options(plaques: nil, size: 512), seed: 1444).plan(case: i)
            let plaques = try #require(p.pleuralPlaques)
            for plaque in plaques where !plaque.onDiaphragm && plaque.thicknessMM >= 3 {
                let n = plaque.inward
                // 60 % of the way up the flat top: plaque tissue where there was lung; 2 mm
                // beyond the top: what was there before.
                let within = plaque.center + 0.6 * plaque.thicknessMM * n
                let beyond = plaque.center + (plaque.thicknessMM + 2) * n
                guard let k = nearestPixel(p, within.x, within.y), let kb = nearestPixel(p, beyond.x, beyond.y) else { continue }
                let hu = renderPlane(p, z: within.z), huWithout = renderPlane(without, z: within.z)
                guard huWithout[k] < -500 else { continue }
                #expect(Double(hu[k]) >= plaque.hu - 20, "plaque \(hu[k]) HU, expected about \(plaque.hu)")
                let huBeyond = renderPlane(p, z: beyond.z), huBeyondWithout = renderPlane(without, z: beyond.z)
                #expect(huBeyond[kb] == huBeyondWithout[kb], "changed 2 mm beyond the plaque's top")
                checked += 1
            }
            for plaque in plaques {
                guard let calcium = plaque.calciumHU else { continue }
                // The calcified layer along the parietal side: bright at the footprint's centre.
                let point = plaque.center + 0.1 * plaque.thicknessMM * plaque.inward
                guard let k = nearestPixel(p, point.x, point.y) else { continue }
                let hu = renderPlane(p, z: point.z)
                let near = [-1, 0, 1].flatMap { dr in [-1, 0, 1].map { dc in k + dr * p.columns + dc } }
                #expect(Double(near.map { hu[$0] }.max()!) > 0.5 * (calcium + plaque.hu), "calcified layer not drawn")
                calciumChecked += 1
            }
            // truth.json: one entry per plaque, centre in LPS, kind and side.
            let entry = PhantomTruth.entry(for: p, folder: "c", format: "dicom")
            let recorded = try #require(entry.pleuralPlaques)
            #expect(recorded.count == plaques.count)
            for (r, plaque) in zip(recorded, plaques) {
                let c = p.patientPosition(ofAnatomy: plaque.center)
                #expect(abs(r.centerMM[0] - c.x) < 0.001 && abs(r.centerMM[2] - c.z) < 0.001)
                #expect(abs(r.thicknessMM - plaque.thicknessMM) < 0.006 && abs(r.lengthMM - 2 * plaque.halfLengthMM) < 0.06)
                #expect(r.location == (plaque.onDiaphragm ? "diaphragmatic" : "costal"))
                #expect(r.lung == (plaque.side == 0 ? "right" : "left"))
                #expect((r.calciumHU != nil) == (plaque.calciumHU != nil))
            }
        }
        #expect(checked >= 2 && calciumChecked >= 1, "\(checked) plaques and \(calciumChecked) calcified layers checked")
    }

    @Test func aFindingInAPlaqueIsOutsideTheLungs() throws {
        let o = options(plaques: 1, size: 128)
        let plan = PhantomGenerator(options: o, seed: 1445).plan(case: 0)
        let plaque = try #require(plan.pleuralPlaques?.max { $0.thicknessMM < $1.thicknessMM })
        var truth = PhantomTruth(seed: 1445, generator: "test", options: o,
                                 cases: [PhantomTruth.entry(for: plan, folder: "c", format: "dicom")])
        truth.cases[0].caseID = plan.caseID
        // Half-way up the plaque: inside the lung's outline, but pleura. 4 mm beyond its top:
        // lung.
        let inPlaque = plaque.center + 0.5 * plaque.thicknessMM * plaque.inward
        let inLung = plaque.center + (plaque.thicknessMM + 4) * plaque.inward
        #expect(plan.anatomy.lungDistance(inPlaque).distanceMM < 0)
        let result = PhantomLungCheck.check(truth: truth, findings: [truth.cases[0].seriesInstanceUID:
            [plan.patientPosition(ofAnatomy: inPlaque), plan.patientPosition(ofAnatomy: inLung)]])
        #expect(result.checked == 2)
        #expect(result.outside.count == 1)
        let outside = try #require(result.outside.first)
        // Outside by its depth in the plaque: about half the thickness.
        #expect(abs(outside.distanceOutsideMM - 0.5 * plaque.thicknessMM) < 0.3, "\(outside.distanceOutsideMM) mm")
    }
}
