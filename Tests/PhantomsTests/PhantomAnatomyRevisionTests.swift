import Foundation
import Testing
@testable import Phantoms
import Volumes

// Anatomy revision 4 (`--anatomy 4`): the heart rests on the diaphragm and the mediastinum is
// the great vessels in their fat. Measured on rendered planes (`Scene.renderPlane`, the
// analytic HU and lung cover before blur and noise), so the checks look at what the scans show.

private func options(revision: Int?, size: Int = 160, slices: Int = 40) -> PhantomOptions {
    var o = fastPhantomOptions(size: size, slices: slices)
    o.anatomyRevision = revision
    return o
}

/// Anatomy-frame (x, y) of pixel (column, row).
private func position(_ p: PhantomCase, _ c: Int, _ r: Int) -> SIMD2<Double> {
    SIMD2(p.gridOrigin.x + Double(c) * p.pixelSpacingMM, p.gridOrigin.y + Double(r) * p.pixelSpacingMM)
}

/// Width (mm) of the heart's contact with the diaphragm along the row through the heart's
/// centre: the columns of the run of soft tissue (>= -200 HU) holding the centre at its
/// height from which a straight line down to the dome under that column meets no aerated
/// lung (cover > 0.5) in planes 3 mm apart.
private func heartContactMM(_ p: PhantomCase) -> Double {
    let a = p.anatomy, c = a.heartCenter
    let row = Int(((c.y - p.gridOrigin.y) / p.pixelSpacingMM).rounded())
    let centre = Int(((c.x - p.gridOrigin.x) / p.pixelSpacingMM).rounded())
    let top = renderPlaneAndLung(p, z: c.z).hu
    var lo = centre, hi = centre
    while lo > 0 && top[row * p.columns + lo - 1] >= -200 { lo -= 1 }
    while hi < p.columns - 1 && top[row * p.columns + hi + 1] >= -200 { hi += 1 }
    let xy = { (col: Int) in position(p, col, row) }
    let floor = (lo...hi).map { col -> Double in
        let q = xy(col)
        return a.domeZ(side: q.x < 0 ? 0 : 1, x: q.x, y: q.y)
    }
    var clear = [Bool](repeating: true, count: hi - lo + 1)
    var z = c.z - 3
    while z > (floor.min() ?? c.z) {
        let lung = renderPlaneAndLung(p, z: z).lung
        for col in lo...hi where z > floor[col - lo] + 2 && lung[row * p.columns + col] > 0.5 { clear[col - lo] = false }
        z -= 3
    }
    return Double(clear.filter { $0 }.count) * p.pixelSpacingMM
}

/// Haller index of the rendered plane at height z (near the carina - 40 mm, moved off the
/// intervertebral discs): the chest's inner width (the lungs' extent across) over the
/// distance from the back of the sternum to the front of the vertebral body along the
/// midline, both found by thresholding (bone above 350 HU, lung cover above 0.5).
private func hallerIndex(_ p: PhantomCase) -> (index: Double, widthMM: Double, depthMM: Double) {
    let a = p.anatomy
    var z = a.carinaZ - 40 * a.scale
    // Not through a disc (the first fifth of each vertebral period).
    let phase = z / a.vertebraPitch - (z / a.vertebraPitch).rounded(.down)
    if phase < 0.4 { z += (0.5 - phase) * a.vertebraPitch }
    let (hu, lung) = renderPlaneAndLung(p, z: z)
    var lo = Int.max, hi = -1
    for r in 0..<p.rows {
        for c in 0..<p.columns where lung[r * p.columns + c] > 0.5 { lo = Swift.min(lo, c); hi = Swift.max(hi, c) }
    }
    let col = Int((-p.gridOrigin.x / p.pixelSpacingMM).rounded())
    var r = 0
    while r < p.rows && hu[r * p.columns + col] < 350 { r += 1 }          // front of the sternum
    // Its back: the last bone pixel within 16 mm (cortex round a marrow of lower HU).
    var sternumBack = r
    for k in r..<Swift.min(p.rows, r + Int(16 * a.scale / p.pixelSpacingMM) + 1) where hu[k * p.columns + col] >= 350 {
        sternumBack = k + 1
    }
    r = sternumBack
    while r < p.rows && hu[r * p.columns + col] < 350 { r += 1 }          // front of the vertebra
    let width = Double(hi - lo + 1) * p.pixelSpacingMM
    let depth = Double(r - sternumBack) * p.pixelSpacingMM
    return (width / depth, width, depth)
}

@Suite struct PhantomAnatomyRevisionTests {
    @Test func revision3IsTheDefaultAndRevision4ChangesTheScans() throws {
        let seed: UInt64 = 1403
        let unset = PhantomGenerator(options: options(revision: nil, size: 96, slices: 24), seed: seed).plan(case: 1)
        let three = PhantomGenerator(options: options(revision: 3, size: 96, slices: 24), seed: seed).plan(case: 1)
        let four = PhantomGenerator(options: options(revision: 4, size: 96, slices: 24), seed: seed).plan(case: 1)
        var differing = 0
        for k in [4, 12, 20] {
            let z = unset.gridOrigin.z + Double(k) * unset.sliceSpacingMM
            #expect(renderPlaneAndLung(unset, z: z).hu == renderPlaneAndLung(three, z: z).hu, "slice \(k): revision 3 is not the default")
            if renderPlaneAndLung(four, z: z).hu != renderPlaneAndLung(unset, z: z).hu { differing += 1 }
        }
        #expect(unset.nodules.map(\.center) == three.nodules.map(\.center))
        #expect(differing >= 2, "revision 4 changed \(differing) of 3 planes")
        #expect(PhantomGenerator.generatorName(for: options(revision: nil)) == "triage-phantom 3")
        #expect(PhantomGenerator.generatorName(for: options(revision: 4)) == "triage-phantom 4")
        var bad = options(revision: 5)
        #expect(throws: PhantomError.self) { try bad.validate() }
        bad.anatomyRevision = 4
        try bad.validate()
    }

    @Test func theHeartRestsOnTheDiaphragmWithABroadBase() {
        // A coronal view or a radiograph shows the cardiac silhouette on the left hemidiaphragm,
        // broadest at its base. Revision 3's heart is an ellipsoid touching the dome at most
        // at its lowest point, with lung under the rest of it.
        for i in 0..<3 {
            let four = heartContactMM(PhantomGenerator(options: options(revision: 4), seed: 1404).plan(case: i))
            let three = heartContactMM(PhantomGenerator(options: options(revision: 3), seed: 1404).plan(case: i))
            print(String(format: "case %d: heart on the diaphragm over %.0f mm (revision 3: %.0f mm)", i, four, three))
            #expect(four >= 60, "case \(i): heart on the diaphragm over \(four) mm")
            #expect(four > three + 30, "case \(i): \(four) mm, revision 3 \(three) mm")
        }
    }

    @Test func revision4ChestHasAnAdultsProportions() {
        // Haller index (inner chest width over sternum-to-vertebra depth): about 2.5 in normal
        // adults (Haller, Kramer and Lietman 1987: 2.52 +- 0.35). Revision 3's lungs are deep
        // for their width (about 1.8).
        for i in 0..<3 {
            let four = hallerIndex(PhantomGenerator(options: options(revision: 4, size: 256), seed: 1407).plan(case: i))
            let three = hallerIndex(PhantomGenerator(options: options(revision: 3, size: 256), seed: 1407).plan(case: i))
            print(String(format: "case %d: Haller index %.2f (%.0f / %.0f mm); revision 3: %.2f (%.0f / %.0f mm)", i,
                         four.index, four.widthMM, four.depthMM, three.index, three.widthMM, three.depthMM))
            #expect(four.index >= 2.0 && four.index <= 3.0, "case \(i): Haller index \(four.index)")
            #expect(three.index < four.index - 0.25, "case \(i): revision 3 \(three.index), revision 4 \(four.index)")
        }
    }

    @Test func theMediastinumIsTheGreatVesselsInTheirFat() {
        // Above the carina (aortic arch, superior vena cava, trachea, oesophagus) the lungs stay
        // at least the fat's thickness from every great vessel in revision 4; revision 3's
        // straight band lets them come within 2.5 mm.
        for i in 0..<3 {
            var closest: [Int: Double] = [:]
            for revision in [3, 4] {
                let p = PhantomGenerator(options: options(revision: revision), seed: 1405).plan(case: i)
                let a = p.anatomy
                let z = a.carinaZ + 15 * a.scale
                let (_, lung) = renderPlaneAndLung(p, z: z)
                // The aorta (4-7), the superior vena cava (11) and the pulmonary trunk (12).
                let tubes = [4, 5, 6, 7, 11, 12].map { a.mediastinalTubes[$0].segment }
                var nearest = Double.infinity
                for r in 0..<p.rows {
                    for c in 0..<p.columns where lung[r * p.columns + c] > 0.5 {
                        let xy = position(p, c, r)
                        for t in tubes { nearest = Swift.min(nearest, t.signedDistance(SIMD3(xy.x, xy.y, z))) }
                    }
                }
                closest[revision] = nearest
                if revision == 4 {
                    #expect(nearest >= a.mediastinalFatMM - p.pixelSpacingMM,
                            "case \(i): lung \(nearest) mm from a great vessel, fat \(a.mediastinalFatMM) mm")
                }
            }
            print(String(format: "case %d: lung to great vessel %.1f mm (revision 3: %.1f mm)", i,
                         closest[4] ?? 0, closest[3] ?? 0))
            #expect((closest[3] ?? 0) < 2.5 + 1.8, "case \(i): revision 3's lung \(closest[3] ?? 0) mm from a great vessel")
        }
    }

    @Test func revision4NodulesLieInsideItsLungs() {
        var o = options(revision: 4, size: 96, slices: 24)
        o.cleanFraction = 0
        o.minNodules = 3
        o.maxNodules = 4
        var count = 0
        for i in 0..<3 {
            let p = PhantomGenerator(options: o, seed: 1406).plan(case: i)
            for n in p.nodules {
                count += 1
                let (d, side) = p.anatomy.lungDistance(n.center)
                #expect(side != nil && d < 0, "nodule \(n.id) of case \(i) outside the lungs")
                // Clear of the mediastinal fat and of the heart resting on the diaphragm.
                #expect(p.anatomy.mediastinalEnvelopeDistance(n.center) > 0)
                #expect(p.anatomy.heartDistance(x: n.center.x, y: n.center.y, z: n.center.z) > 0)
            }
        }
        #expect(count >= 6)
    }

    @Test func withContrastTheHeartShowsFourChambersAndTheLeftVentricularWall() throws {
        // The first revision-4 case with contrast, at 256 (about 1.6 mm pixels).
        let cases = (0..<6).map { PhantomGenerator(options: options(revision: 4, size: 256), seed: 1407).plan(case: $0) }
        let p = try #require(cases.first { $0.anatomy.contrast })
        let a = p.anatomy
        // A plane a tenth of the heart's height below its centre, through the ventricles.
        let z = a.heartCenter.z - 0.1 * a.heartSemiAxes.z
        let hu = renderPlaneAndLung(p, z: z).hu
        var right: [Float] = [], left: [Float] = [], wall: [Float] = [], ring: [Float] = []
        for r in 0..<p.rows {
            for c in 0..<p.columns {
                let q = position(p, c, r)
                let outline = a.heartDistance(x: q.x, y: q.y, z: z)
                guard outline < -2 * p.pixelSpacingMM else { continue }
                let (d, isRight) = a.chamberBloodDistance(x: q.x, y: q.y, z: z, outlineMM: outline)
                let value = hu[r * p.columns + c]
                if d < -1.5 * p.pixelSpacingMM { if isRight { right.append(value) } else { left.append(value) } }
                if d > 1.5 * p.pixelSpacingMM { wall.append(value) }
                // Myocardium 3-7 mm from any blood: only the left ventricle's 10 mm ring has it.
                if d > 3, d < 7 { ring.append(value) }
            }
        }
        func median(_ v: [Float]) -> Float { v.sorted()[v.count / 2] }
        try #require(right.count > 30 && left.count > 30 && wall.count > 30 && ring.count > 10,
                     "right \(right.count), left \(left.count), wall \(wall.count), ring \(ring.count)")
        // The right heart as the pulmonary arteries, the left as the pulmonary veins, the
        // myocardium between them (before blur and noise).
        #expect(abs(median(right) - 230) < 10, "right heart \(median(right)) HU")
        #expect(abs(median(left) - 160) < 10, "left heart \(median(left)) HU")
        #expect(abs(median(wall) - 110) < 15, "myocardium \(median(wall)) HU")
        #expect(abs(median(ring) - 110) < 15, "left ventricular ring \(median(ring)) HU")
        // Without contrast the heart stays one density.
        if let plain = cases.first(where: { !$0.anatomy.contrast }) {
            let b = plain.anatomy
            let zb = b.heartCenter.z - 0.1 * b.heartSemiAxes.z
            let plane = renderPlaneAndLung(plain, z: zb).hu
            var inside: [Float] = []
            for r in 0..<plain.rows {
                for c in 0..<plain.columns {
                    let q = position(plain, c, r)
                    if b.heartDistance(x: q.x, y: q.y, z: zb) < -3 { inside.append(plane[r * plain.columns + c]) }
                }
            }
            #expect(!inside.isEmpty && inside.allSatisfy { abs($0 - 42) < 3 }, "plain heart \(inside.min() ?? 0)-\(inside.max() ?? 0) HU")
        }
    }
}
