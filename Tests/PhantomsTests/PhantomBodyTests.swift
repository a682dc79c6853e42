import Foundation
import Testing
@testable import Phantoms
import Volumes

// Generator 3: trunk outline, field of view, mediastinal fat and lymph nodes. Measured on
// rendered planes (`Scene.renderPlane`: the analytic HU before blur and noise) so the checks
// look at what the scans show, not at the parameters that made them.

/// Options for quick phantoms in tests: `size` x `size` x `slices`, sparse vessel trees.
func fastPhantomOptions(size: Int, slices: Int = 16) -> PhantomOptions {
    var o = PhantomOptions()
    o.size = size
    o.slices = slices
    o.vesselTerritories = 150
    return o
}

extension PhantomOptions {
    /// These options with `change` applied, in one expression.
    func with(_ change: (inout PhantomOptions) -> Void) -> PhantomOptions {
        var o = self
        change(&o)
        return o
    }
}

/// Pixel index nearest anatomy-frame (x, y), or nil outside the image.
func nearestPixel(_ p: PhantomCase, _ x: Double, _ y: Double) -> Int? {
    let c = Int(((x - p.gridOrigin.x) / p.pixelSpacingMM).rounded())
    let r = Int(((y - p.gridOrigin.y) / p.pixelSpacingMM).rounded())
    guard c >= 0, c < p.columns, r >= 0, r < p.rows else { return nil }
    return r * p.columns + c
}

/// The HU plane at height z (anatomy frame) of case `p`, with the slice index nearest z.
func renderPlane(_ p: PhantomCase, z: Double) -> [Float] { renderPlaneAndLung(p, z: z).hu }

/// The HU plane and the renderer's lung cover (0-1 per pixel) at height z of case `p`.
func renderPlaneAndLung(_ p: PhantomCase, z: Double) -> (hu: [Float], lung: [Float]) {
    let scene = Scene(p)
    var scratch = SliceScratch(count: p.columns * p.rows)
    let k = Swift.min(p.slices - 1, Swift.max(0, Int(((z - p.gridOrigin.z) / p.sliceSpacingMM).rounded())))
    scene.renderPlane(z: z, slice: k, scratch: &scratch)
    return (scratch.sub, scratch.lung)
}

/// Anatomy-frame (x, y) of pixel (column, row).
private func position(_ p: PhantomCase, _ c: Int, _ r: Int) -> (x: Double, y: Double) {
    (p.gridOrigin.x + Double(c) * p.pixelSpacingMM, p.gridOrigin.y + Double(r) * p.pixelSpacingMM)
}

/// The 4-connected component of pixels above -500 HU holding pixel `seed`: the trunk (the
/// lungs are holes in it; the table lies apart, below an air gap).
private func component(_ plane: [Float], columns: Int, rows: Int, seed: (Int, Int)) -> [Bool] {
    var inside = [Bool](repeating: false, count: plane.count)
    var stack = [seed.1 * columns + seed.0]
    inside[stack[0]] = true
    while let i = stack.popLast() {
        let c = i % columns, r = i / columns
        for (dc, dr) in [(1, 0), (-1, 0), (0, 1), (0, -1)] {
            let cc = c + dc, rr = r + dr
            guard cc >= 0, cc < columns, rr >= 0, rr < rows else { continue }
            let j = rr * columns + cc
            if !inside[j] && plane[j] > -500 { inside[j] = true; stack.append(j) }
        }
    }
    return inside
}

/// Pixel of the vertebral body's centre (inside the trunk at every chest level).
private func spinePixel(_ p: PhantomCase) -> (Int, Int) {
    let c = Int((0 - p.gridOrigin.x) / p.pixelSpacingMM)
    let r = Int((p.anatomy.spineY - p.gridOrigin.y) / p.pixelSpacingMM)
    return (c, r)
}

@Suite struct PhantomBodyTests {
    @Test func trunkIsAnEllipseWiderThanDeepAtMidChest() {
        // Adult chests are about 1.4-1.7 times as wide as deep with the arms raised (generator
        // 2's cylinder-like trunk measured 1.1-1.25); the phantom's lungs are deep (kept from
        // generator 2), so its trunks sit at the lower end.
        var ratios: [Double] = []
        var cut = 0
        for i in 0..<6 {
            let p = PhantomGenerator(options: fastPhantomOptions(size: 128), seed: 2024).plan(case: i)
            guard !p.anatomy.armsAtSides else { continue }
            let plane = renderPlane(p, z: p.anatomy.carinaZ)
            let body = component(plane, columns: p.columns, rows: p.rows, seed: spinePixel(p))
            var c0 = Int.max, c1 = -1, r0 = Int.max, r1 = -1
            for r in 0..<p.rows {
                for c in 0..<p.columns where body[r * p.columns + c] {
                    c0 = Swift.min(c0, c); c1 = Swift.max(c1, c); r0 = Swift.min(r0, r); r1 = Swift.max(r1, r)
                }
            }
            let width = Double(c1 - c0 + 1), depth = Double(r1 - r0 + 1)
            // A trunk wider than the largest (461 mm, 0.9 mm pixels) FOV touches the image edge: not measurable.
            guard c0 > 0 && c1 < p.columns - 1 && r0 > 0 && r1 < p.rows - 1 else {
                #expect(p.pixelSpacingMM * Double(p.columns) > 460, "case \(i): trunk cut by a FOV below 461 mm")
                cut += 1
                continue
            }
            let ratio = width / depth
            #expect(ratio > 1.28 && ratio < 1.7, "case \(i): width / depth \(ratio) at the carina")
            ratios.append(ratio)
            // Flat back: the trunk's last full row (one pixel in from its partial-volume edge)
            // spans at least a third of its width (an ellipse's would hold about a fifth).
            let lastRow = (c0...c1).filter { body[(r1 - 1) * p.columns + $0] }.count
            #expect(Double(lastRow) > width / 3, "case \(i): back row \(lastRow) of \(width) pixels")
        }
        #expect(ratios.count >= 4 && cut <= 1, "\(ratios.count) measured, \(cut) cut by the FOV")
        let mean = ratios.reduce(0, +) / Double(ratios.count)
        #expect(mean > 1.35 && mean < 1.6, "mean width / depth \(mean)")
        print("trunk width / depth at the carina:", ratios.map { String(format: "%.2f", $0) })
    }

    @Test func armsRestAtTheSidesInAboutOneCaseInTen() {
        // The arms draw comes from the body-details stream; 400 anatomies, binomial sd 1.5%.
        var withArms = 0
        for i in 0..<400 {
            var r = PhantomRandom(seed: 99, stream: UInt64(i))
            let a = ChestAnatomy(scale: 1, random: &r, details: PhantomRandom(seed: 99, stream: UInt64(i) | 1 << 40))
            if a.armsAtSides { withArms += 1 }
        }
        #expect(withArms >= 20 && withArms <= 64, "\(withArms) of 400 with arms at the sides")
    }

    @Test func fieldOfViewHoldsTheWholeBodyInMostCases() {
        var fits = 0, cases = 0
        for i in 0..<10 {
            let p = PhantomGenerator(options: fastPhantomOptions(size: 96, slices: 12), seed: 555).plan(case: i)
            let spacing512 = p.pixelSpacingMM * 96 / 512
            #expect(spacing512 >= 0.6 - 1e-9 && spacing512 <= 0.9 + 1e-9, "spacing \(spacing512) mm at 512")
            var inside = true
            for k in [0, p.slices / 2, p.slices - 1] {
                let z = p.gridOrigin.z + Double(k) * p.sliceSpacingMM
                let plane = renderPlane(p, z: z)
                let back = p.anatomy.bodySection(z: z).posterior
                for r in 0..<p.rows {
                    for c in 0..<p.columns where plane[r * p.columns + c] > -500 {
                        // Body (and arms), not the table under the back.
                        guard position(p, c, r).y < back + 2 else { continue }
                        let dx = Double(c) - Double(p.columns - 1) / 2, dy = Double(r) - Double(p.rows - 1) / 2
                        if dx * dx + dy * dy > Double(p.columns * p.columns) / 4 { inside = false }
                    }
                }
            }
            cases += 1
            if inside { fits += 1 }
            else { #expect(p.anatomy.armsAtSides || spacing512 > 0.899, "case \(i) cut by the FOV without arms or the 461 mm FOV") }
        }
        #expect(fits >= 8, "\(fits) of \(cases) cases wholly inside the circular FOV")
    }
}

@Suite struct PhantomLymphNodeTests {
    @Test func nodesLieOutsideTheLungsAndAreNotNodules() {
        var o = fastPhantomOptions(size: 64, slices: 12)
        o.cleanFraction = 0
        let generator = PhantomGenerator(options: o, seed: 4242)
        var truth = PhantomTruth(seed: 4242, generator: PhantomGenerator.generatorName, options: o, cases: [])
        var findings: [String: [SIMD3<Double>]] = [:]
        var total = 0
        var stations = Set<LymphNode.Station>()
        for i in 0..<6 {
            let p = generator.plan(case: i)
            truth.cases.append(PhantomTruth.entry(for: p, folder: p.caseID, format: "dicom"))
            let nodes = p.anatomy.lymphNodes
            findings[p.identity.seriesInstanceUID] = nodes.map { p.patientPosition(ofAnatomy: $0.center) }
            total += nodes.count
            stations.formUnion(nodes.map(\.station))
            // Truth holds the nodules only.
            #expect(truth.cases.last!.nodules.count == p.nodules.count)
            for n in nodes {
                #expect(n.shortAxisMM >= 3 && n.shortAxisMM <= 10.5, "short axis \(n.shortAxisMM) mm")
                #expect(n.hu >= 20 && n.hu <= 50)
                for nod in p.nodules {
                    let d = nod.center - n.center
                    #expect((d * d).sum().squareRoot() > 5, "a node sits on nodule \(nod.id)")
                }
            }
        }
        #expect(total >= 12, "\(total) nodes in 6 cases")
        #expect(stations.contains(.subcarinal) && stations.contains(.rightParatracheal))
        #expect(stations.contains(.rightHilar) || stations.contains(.leftHilar))
        // The lungs re-planned by PhantomLungCheck (what `triage evaluate --phantom-lungs` uses):
        // every node centre lies outside them by more than its largest semi-axis (>= 2 mm).
        let check = PhantomLungCheck.check(truth: truth, findings: findings, marginMM: 2)
        #expect(check.checked == total)
        #expect(check.outside.count == total, "\(total - check.outside.count) node centres within 2 mm of or inside a lung")
    }

    @Test func nodesAreSoftTissueInMediastinalFat() {
        // Full-resolution planes through node centres: the node is 20-50 HU, the fat of the
        // mediastinum around the great vessels near -100 HU.
        var o = fastPhantomOptions(size: 512, slices: 48)
        o.cleanFraction = 1
        var nodeHU: [Float] = [], fatHU: [Float] = []
        for i in 0..<2 {
            let p = PhantomGenerator(options: o, seed: 808).plan(case: i)
            let a = p.anatomy
            for n in a.lymphNodes.prefix(3) {
                let plane = renderPlane(p, z: n.center.z)
                let c = Int(((n.center.x - p.gridOrigin.x) / p.pixelSpacingMM).rounded())
                let r = Int(((n.center.y - p.gridOrigin.y) / p.pixelSpacingMM).rounded())
                // The centre pixel, unless a tree vessel or bronchus crosses it.
                let centre = SIMD3(n.center.x, n.center.y, n.center.z)
                if p.vesselSegments.allSatisfy({ $0.signedDistance(centre) > 1 })
                    && p.airwaySegments.allSatisfy({ $0.signedDistance(centre) > 2 }) {
                    nodeHU.append(plane[r * p.columns + c])
                }
                // Mediastinal fat: pixels near the midline, 3 mm or more from the lungs, the great
                // vessels, airways, heart, nodes and spine.
                guard n.center.z < a.lungHeightMM - 40 * a.scale else { continue }
                for rr in stride(from: 0, to: p.rows, by: 3) {
                    for cc in stride(from: 0, to: p.columns, by: 3) {
                        let (x, y) = position(p, cc, rr)
                        guard abs(x) < 30 * a.scale, y < a.spineY - a.vertebralRadius - 3,
                              a.cavityDistance(x: x, y: y) < -3 else { continue }
                        let q = SIMD3(x, y, n.center.z)
                        guard a.heartDistance(x: x, y: y, z: q.z) > 8,
                              a.lymphNodes.allSatisfy({ $0.distance(q) > 3 }),
                              a.mediastinalTubes.allSatisfy({ $0.segment.signedDistance(q) > 3 }),
                              a.lungDistance(q).distanceMM > 3,
                              p.vesselSegments.allSatisfy({ $0.signedDistance(q) > 3 }) else { continue }
                        fatHU.append(plane[rr * p.columns + cc])
                    }
                }
            }
        }
        #expect(nodeHU.count >= 2)
        for h in nodeHU { #expect(h >= 15 && h <= 55, "node centre at \(h) HU") }
        #expect(fatHU.count >= 50, "\(fatHU.count) mediastinal fat samples")
        fatHU.sort()
        let median = fatHU[fatHU.count / 2]
        #expect(median > -120 && median < -80, "mediastinal fat median \(median) HU")
    }
}

@Suite struct PhantomLungStabilityTests {
    @Test func aSeedKeepsGenerator2Nodules() {
        // Nodule centres of seed 1300 (`triage phantom --cases 3 --seed 1300 --size 128 --slices 64`)
        // as written by generator 2 (triage-phantom 2): body details, the FOV and the lymph nodes
        // must not move a seed's lungs, trees or nodules.
        var o = PhantomOptions()
        o.size = 128
        o.slices = 64
        let g = PhantomGenerator(options: o, seed: 1300)
        let expected: [Int: [SIMD3<Double>]] = [
            0: [SIMD3(62.458, 24.83, -255.127), SIMD3(-55.347, 63.149, -321.094),
                SIMD3(91.546, 39.531, -269.767), SIMD3(-76.068, 61.764, -293.011)],
            1: [SIMD3(84.214, -27.206, -1.874), SIMD3(-89.201, -23.802, -45.666),
                SIMD3(-42.882, -41.088, 21.287), SIMD3(104.737, 34.218, -96.752)],
        ]
        for (i, centres) in expected {
            let p = g.plan(case: i)
            #expect(p.nodules.count == centres.count)
            for (n, c) in zip(p.nodules, centres) {
                let d = p.patientPosition(ofAnatomy: n.center) - c
                #expect((d * d).sum().squareRoot() < 0.002, "case \(i) \(n.id) moved by \(d)")
            }
        }
    }
}
