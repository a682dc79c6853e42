import Foundation
import Testing
@testable import Phantoms
import Volumes

// Pathology besides nodules: emphysema (`PhantomOptions.emphysemaFraction`). Measured on
// rendered planes (`renderPlane`, before blur and noise) and on whole rendered cases.

private func options(emphysema: Double?) -> PhantomOptions {
    var o = PhantomOptions()
    o.size = 256
    o.slices = 16
    o.vesselTerritories = 150
    o.emphysemaFraction = emphysema
    return o
}

/// Low-attenuation area: the fraction of the plane's pixels at least 4 mm inside a lung that
/// are below -950 HU (the usual CT emphysema index, LAA-950).
private func lowAttenuationFraction(_ p: PhantomCase, z: Double) -> (fraction: Double, pixels: Int) {
    let plane = renderPlane(p, z: z)
    var low = 0, count = 0
    for r in 0..<p.rows {
        for c in 0..<p.columns {
            let q = SIMD3(p.gridOrigin.x + Double(c) * p.pixelSpacingMM, p.gridOrigin.y + Double(r) * p.pixelSpacingMM, z)
            guard p.anatomy.lungDistance(q).distanceMM < -4 else { continue }
            count += 1
            if plane[r * p.columns + c] < -950 { low += 1 }
        }
    }
    return (Double(low) / Double(max(1, count)), count)
}

/// Truth entries of 8 tiny cases (32x32x4) made with `options`: what truth.json would hold.
private func tinyTruth(_ options: PhantomOptions, seed: UInt64)
    -> (options: PhantomOptions, generator: PhantomGenerator, entries: [PhantomTruth.Case]) {
    var o = options
    o.size = 32
    o.slices = 4
    let g = PhantomGenerator(options: o, seed: seed)
    return (o, g, (0..<8).map { PhantomTruth.entry(for: g.plan(case: $0), folder: "c", format: "dicom") })
}

@Suite struct PhantomEmphysemaTests {
    @Test func withoutTheOptionTheScansAreThoseOfBefore() {
        let before = PhantomGenerator(options: options(emphysema: nil), seed: 71)
        let zero = PhantomGenerator(options: options(emphysema: 0), seed: 71)
        let plan = before.plan(case: 0)
        #expect(plan.emphysemaSeverity == 0 && zero.plan(case: 0).emphysemaSeverity == 0)
        let z = plan.anatomy.lungHeightMM * 0.7
        #expect(renderPlane(plan, z: z) == renderPlane(zero.plan(case: 0), z: z))
        // The same nodules as with emphysema: emphysema draws from its own stream.
        let with = PhantomGenerator(options: options(emphysema: 1), seed: 71).plan(case: 0)
        #expect(with.nodules.map(\.center) == plan.nodules.map(\.center))
        #expect(with.emphysemaSeverity >= 0.3 && with.emphysemaSeverity <= 1)
    }

    @Test func emphysemaLowersTheUpperLungsMoreThanTheLowerAndNothingElse() {
        for i in 0..<3 {
            let plain = PhantomGenerator(options: options(emphysema: nil), seed: 72).plan(case: i)
            let sick = PhantomGenerator(options: options(emphysema: 1), seed: 72).plan(case: i)
            let s = sick.emphysemaSeverity
            let upperZ = plain.anatomy.lungHeightMM * 0.8, lowerZ = plain.anatomy.lungHeightMM * 0.2
            let upperPlain = lowAttenuationFraction(plain, z: upperZ), upperSick = lowAttenuationFraction(sick, z: upperZ)
            let lowerSick = lowAttenuationFraction(sick, z: lowerZ)
            #expect(upperPlain.pixels > 500 && lowerSick.pixels > 500)
            // Healthy analytic parenchyma (about -850 HU, before noise) has no pixel below -950
            // except in airways; emphysema of severity s takes a share of the upper lung that
            // grows with s (at least 5 % at the mildest), and more above than below.
            #expect(upperPlain.fraction < 0.02, "case \(i): healthy LAA-950 \(upperPlain.fraction)")
            #expect(upperSick.fraction > 0.05 + 0.1 * (s - 0.3), "case \(i), severity \(s): LAA-950 \(upperSick.fraction)")
            #expect(upperSick.fraction > 1.5 * lowerSick.fraction,
                    "case \(i): upper \(upperSick.fraction), lower \(lowerSick.fraction)")
            // Outside the lungs (beyond the pleura by a pixel and more) the planes are equal.
            let a = renderPlane(plain, z: upperZ), b = renderPlane(sick, z: upperZ)
            var differentOutside = 0
            for r in 0..<plain.rows {
                for c in 0..<plain.columns {
                    let q = SIMD3(plain.gridOrigin.x + Double(c) * plain.pixelSpacingMM,
                                  plain.gridOrigin.y + Double(r) * plain.pixelSpacingMM, upperZ)
                    if plain.anatomy.lungDistance(q).distanceMM > plain.pixelSpacingMM,
                       a[r * plain.columns + c] != b[r * plain.columns + c] {
                        differentOutside += 1
                    }
                }
            }
            #expect(differentOutside == 0, "case \(i)")
        }
    }

    @Test func truthRecordsTheSeverityOnlyForCasesWithEmphysema() throws {
        let (o, g, entries) = tinyTruth(options(emphysema: 0.5), seed: 73)
        let with = entries.filter { $0.emphysemaSeverity != nil }
        #expect(!with.isEmpty && with.count < 8, "\(with.count) of 8 with emphysema at fraction 0.5")
        for (i, e) in entries.enumerated() {
            let severity = g.plan(case: i).emphysemaSeverity
            #expect(e.emphysemaSeverity == (severity > 0 ? (severity * 1000).rounded() / 1000 : nil))
            #expect((e.emphysemaParaseptal != nil) == (severity > 0))
            let json = String(decoding: try JSONEncoder().encode(e), as: UTF8.self)
            #expect(json.contains("emphysema_severity") == (severity > 0))
        }
        #expect(throws: PhantomError.self) {
            var bad = o
            bad.emphysemaFraction = 1.5
            try bad.validate()
        }
    }
}

// Dependent atelectasis (`PhantomOptions.atelectasisFraction`).
private func options(atelectasis: Double?) -> PhantomOptions {
    var o = options(emphysema: nil)
    o.atelectasisFraction = atelectasis
    return o
}

@Suite struct PhantomAtelectasisTests {
    @Test func withoutTheOptionTheScansAreThoseOfBefore() {
        let before = PhantomGenerator(options: options(atelectasis: nil), seed: 81).plan(case: 0)
        let zero = PhantomGenerator(options: options(atelectasis: 0), seed: 81).plan(case: 0)
        let with = PhantomGenerator(options: options(atelectasis: 1), seed: 81).plan(case: 0)
        #expect(before.atelectasisSeverity == 0 && zero.atelectasisSeverity == 0)
        #expect(with.atelectasisSeverity >= 0.3 && with.atelectasisSeverity <= 1)
        let z = before.anatomy.lungHeightMM * 0.25
        #expect(renderPlane(before, z: z) == renderPlane(zero, z: z))
        #expect(with.nodules.map(\.center) == before.nodules.map(\.center))
    }

    /// Lower plane: every changed pixel is denser, within 14 mm of the pleura and in the back
    /// of the lungs; the posterior subpleural rim (0-3 mm deep) is raised to soft tissue in
    /// places. Upper plane and everything outside the lungs: unchanged.
    @Test func atelectasisDensifiesOnlyThePosteriorBasalSubpleuralLung() {
        for i in 0..<3 {
            let plain = PhantomGenerator(options: options(atelectasis: nil), seed: 82).plan(case: i)
            let sick = PhantomGenerator(options: options(atelectasis: 1), seed: 82).plan(case: i)
            let upperZ = plain.anatomy.lungHeightMM * 0.8, lowerZ = plain.anatomy.lungHeightMM * 0.25
            #expect(renderPlane(plain, z: upperZ) == renderPlane(sick, z: upperZ), "case \(i): upper zone changed")
            let a = renderPlane(plain, z: lowerZ), b = renderPlane(sick, z: lowerZ)
            var lungY: [Double] = []
            var changed: [(y: Double, depth: Double, rise: Float)] = []
            var outsideChanged = 0
            for r in 0..<plain.rows {
                for c in 0..<plain.columns {
                    let q = SIMD3(plain.gridOrigin.x + Double(c) * plain.pixelSpacingMM,
                                  plain.gridOrigin.y + Double(r) * plain.pixelSpacingMM, lowerZ)
                    let d = plain.anatomy.lungDistance(q).distanceMM
                    let k = r * plain.columns + c
                    if d < 0 { lungY.append(q.y) }
                    if a[k] != b[k] {
                        if d > plain.pixelSpacingMM { outsideChanged += 1 } else { changed.append((q.y, -d, b[k] - a[k])) }
                    }
                }
            }
            #expect(outsideChanged == 0, "case \(i)")
            lungY.sort()
            let anteriorThird = lungY[lungY.count / 3]   // LPS: +y is posterior
            #expect(!changed.isEmpty)
            #expect(changed.allSatisfy { $0.rise > 0 && $0.depth < 14 && $0.y > anteriorThird }, "case \(i)")
            let solid = changed.filter { $0.depth < 3 && $0.rise > 500 }.count
            #expect(solid > 20, "case \(i), severity \(sick.atelectasisSeverity): \(solid) rim pixels raised to soft tissue")
        }
    }

    @Test func truthRecordsTheSeverityOnlyForCasesWithAtelectasis() throws {
        let (o, g, entries) = tinyTruth(options(atelectasis: 0.5), seed: 83)
        let with = entries.filter { $0.atelectasisSeverity != nil }
        #expect(!with.isEmpty && with.count < 8, "\(with.count) of 8 with atelectasis at fraction 0.5")
        for (i, e) in entries.enumerated() {
            let severity = g.plan(case: i).atelectasisSeverity
            #expect(e.atelectasisSeverity == (severity > 0 ? (severity * 1000).rounded() / 1000 : nil))
        }
        #expect(throws: PhantomError.self) {
            var bad = o
            bad.atelectasisFraction = -0.1
            try bad.validate()
        }
    }
}

// Pleural effusion (`PhantomOptions.effusionFraction`) and lobar consolidation
// (`PhantomOptions.consolidationFraction`).
private func options(effusion: Double? = nil, consolidation: Double? = nil) -> PhantomOptions {
    var o = options(emphysema: nil)
    o.effusionFraction = effusion
    o.consolidationFraction = consolidation
    return o
}

/// The plane's pixels as anatomy-frame points with their index.
private func pixels(_ p: PhantomCase, z: Double) -> [(point: SIMD3<Double>, index: Int)] {
    (0..<(p.rows * p.columns)).map { k in
        (SIMD3(p.gridOrigin.x + Double(k % p.columns) * p.pixelSpacingMM,
               p.gridOrigin.y + Double(k / p.columns) * p.pixelSpacingMM, z), k)
    }
}

@Suite struct PhantomEffusionTests {
    @Test func withoutTheOptionTheScansAreThoseOfBefore() {
        let before = PhantomGenerator(options: options(), seed: 91).plan(case: 1)
        let zero = PhantomGenerator(options: options(effusion: 0, consolidation: 0), seed: 91).plan(case: 1)
        #expect(before.pleuralEffusion == nil && zero.pleuralEffusion == nil && zero.consolidation == nil)
        let z = before.anatomy.lungHeightMM * 0.2
        #expect(renderPlane(before, z: z) == renderPlane(zero, z: z))
        // With both: the nodules left are the same ones, and those taken out are named.
        for i in 0..<6 {
            let plain = PhantomGenerator(options: options(), seed: 91).plan(case: i)
            let sick = PhantomGenerator(options: options(effusion: 1, consolidation: 1), seed: 91).plan(case: i)
            #expect(sick.pleuralEffusion != nil)
            let kept = Set(sick.nodules.map(\.id))
            #expect(plain.nodules.filter { kept.contains($0.id) }.map(\.center) == sick.nodules.map(\.center))
            #expect(Set(plain.nodules.map(\.id)).subtracting(kept) == Set(sick.nodulesCoveredByPathology), "case \(i)")
        }
    }

    /// A plane in the effusion's lower half: where the analytic fluid is (1.5 pixels inside its surface) the rendered HU
    /// is the fluid's (healthy lung there is about -800), the fluid is in the back half of the
    /// lung, and nothing outside the lungs changes; above the effusion's top, nothing changes.
    @Test func fluidFillsTheDependentLungBaseAtWaterDensity() {
        var checkedCases = 0
        for i in 0..<4 {
            let plain = PhantomGenerator(options: options(), seed: 92).plan(case: i)
            let sick = PhantomGenerator(options: options(effusion: 1), seed: 92).plan(case: i)
            guard let effusion = sick.pleuralEffusion else { Issue.record("case \(i): no effusion"); continue }
            let a = sick.anatomy
            #expect(renderPlane(plain, z: effusion.topZ + 2) == renderPlane(sick, z: effusion.topZ + 2))
            let z = 0.4 * effusion.topZ
            let before = renderPlane(plain, z: z), after = renderPlane(sick, z: z)
            var fluid: [Float] = [], fluidY: [Double] = [], lungY: [Double] = [], underneath: [Float] = []
            var outsideChanged = 0
            for (q, k) in pixels(sick, z: z) {
                let d = a.lungDistance(q).distanceMM
                if d < 0 { lungY.append(q.y) }
                if d > sick.pixelSpacingMM && before[k] != after[k] { outsideChanged += 1 }
                if let depth = effusion.fluidDepthMM(q, anatomy: a), depth > 1.5 * sick.pixelSpacingMM, d < -sick.pixelSpacingMM {
                    fluid.append(after[k]); fluidY.append(q.y); underneath.append(before[k])
                }
            }
            #expect(outsideChanged == 0, "case \(i)")
            guard fluid.count > 20 else { continue }
            checkedCases += 1
            lungY.sort()
            let middle = lungY[lungY.count / 2]   // LPS: +y is posterior
            // Healthy lung (with its vessels) where the fluid is; the fluid behind the lung's
            // middle (the front of the lung only takes a film over the dome of the diaphragm).
            underneath.sort()
            #expect(underneath[underneath.count / 2] < -600, "case \(i): median \(underneath[underneath.count / 2]) under the fluid")
            let behind = fluidY.filter { $0 > middle }.count
            #expect(Double(behind) > 0.9 * Double(fluidY.count), "case \(i): \(behind) of \(fluidY.count) fluid pixels behind the middle")
            #expect(fluid.allSatisfy { abs(Double($0) - effusion.fluidHU) < 30 },
                    "case \(i): fluid HU \(fluid.min()!)...\(fluid.max()!) against \(effusion.fluidHU)")
        }
        #expect(checkedCases >= 2, "only \(checkedCases) cases with fluid pixels on the checked plane")
    }

    /// The lung check counts a finding in the fluid as outside the lungs, one in aerated lung
    /// as inside.
    @Test func lungCheckCountsFindingsInTheFluidAsOutside() throws {
        var o = options(effusion: 1)
        o.size = 32
        o.slices = 4
        let generator = PhantomGenerator(options: o, seed: 93)
        let plan = generator.plan(case: 0)
        let effusion = try #require(plan.pleuralEffusion)
        let a = plan.anatomy
        let side = effusion.sides[0] ? 0 : 1
        let z = 0.15 * effusion.topZ
        let sec = try #require(a.lungSection(side: side, z: z))
        // March from the lung's centre backwards: the last lung point before the chest wall is
        // in the fluid; the centre is aerated.
        let centre = SIMD3(sec.cx, sec.cy, z)
        var back = centre
        while a.lungDistance(back + SIMD3(0, 0.5, 0)).distanceMM < -0.5 { back.y += 0.5 }
        #expect(effusion.fluidDepthMM(back, anatomy: a) != nil)
        #expect(effusion.fluidDepthMM(centre, anatomy: a) == nil)
        var truth = PhantomTruth(seed: 93, generator: "test", options: o,
                                 cases: [PhantomTruth.entry(for: plan, folder: "c", format: "dicom")])
        truth.cases[0].caseID = plan.caseID
        let uid = truth.cases[0].seriesInstanceUID
        let result = PhantomLungCheck.check(truth: truth, findings: [uid: [plan.patientPosition(ofAnatomy: back),
                                                                            plan.patientPosition(ofAnatomy: centre)]])
        #expect(result.checked == 2)
        #expect(result.outside.count == 1)
        #expect(result.outside.first.map { abs($0.centerMM.y - plan.patientPosition(ofAnatomy: back).y) < 1e-9 } == true)
    }

    @Test func truthRecordsEffusionAndConsolidationOnlyForCasesWithThem() throws {
        let (o, g, entries) = tinyTruth(options(effusion: 0.5, consolidation: 0.5), seed: 94)
        for (i, e) in entries.enumerated() {
            let plan = g.plan(case: i)
            #expect((e.pleuralEffusion != nil) == (plan.pleuralEffusion != nil))
            #expect((e.consolidation != nil) == (plan.consolidation != nil))
            if let c = e.consolidation, let pc = plan.consolidation {
                let lps = plan.patientPosition(ofAnatomy: pc.center)
                #expect(abs(c.centerMM[2] - lps.z) < 0.06)
                #expect(c.lobe.hasPrefix(pc.side == 0 ? "right" : "left"))
            }
            let json = String(decoding: try JSONEncoder().encode(e), as: UTF8.self)
            #expect(json.contains("pleural_effusion") == (plan.pleuralEffusion != nil))
        }
        #expect(entries.contains { $0.pleuralEffusion != nil } && entries.contains { $0.pleuralEffusion == nil })
        #expect(throws: PhantomError.self) {
            var bad = o
            bad.consolidationFraction = 2
            try bad.validate()
        }
    }
}

@Suite struct PhantomConsolidationTests {
    /// At the consolidation's centre height: well inside it (3 mm) the lung is mostly airless
    /// (median above -250 HU, healthy lung about -800) except the airways, which stay air (air
    /// bronchograms); outside its lobe's lung nothing changes, and no nodule is left within
    /// its margin.
    @Test func consolidationIsDenseWithinOneLobeAndKeepsItsAirways() throws {
        var checked = 0, airwayPixels = 0
        for i in 0..<4 {
            let plain = PhantomGenerator(options: options(), seed: 95).plan(case: i)
            let sick = PhantomGenerator(options: options(consolidation: 1), seed: 95).plan(case: i)
            let cons = try #require(sick.consolidation)
            let a = sick.anatomy
            let seed = sick.textureSeed
            for n in sick.nodules {
                #expect(cons.signedDistance(n.center, anatomy: a, seed: seed) >= n.radiusMM + Consolidation.marginMM + 3)
            }
            let z = cons.center.z
            let before = renderPlane(plain, z: z), after = renderPlane(sick, z: z)
            var inside: [Float] = [], changedElsewhere = 0, airways = 0, airwaysKept = 0
            for (q, k) in pixels(sick, z: z) {
                let (d, side) = a.lungDistance(q)
                let sd = cons.signedDistance(q, anatomy: a, seed: seed)
                if sd < -3 && d < -sick.pixelSpacingMM {
                    inside.append(after[k])
                    if before[k] < -960 { airways += 1; if after[k] < -900 { airwaysKept += 1 } }
                }
                let otherLobe = side != nil && (side != cons.side || a.lobe(side: side!, q) != cons.lobe)
                let outsideLungs = d > sick.pixelSpacingMM
                if (otherLobe && d < -2 * sick.pixelSpacingMM || outsideLungs) && before[k] != after[k]
                    && sd > Consolidation.marginMM + sick.pixelSpacingMM {
                    changedElsewhere += 1
                }
            }
            #expect(changedElsewhere == 0, "case \(i)")
            #expect(airwaysKept == airways, "case \(i): \(airwaysKept) of \(airways) airway pixels kept air")
            airwayPixels += airways
            guard inside.count > 30 else { continue }
            checked += 1
            inside.sort()
            #expect(inside[inside.count / 2] > -250, "case \(i): median \(inside[inside.count / 2])")
        }
        #expect(checked >= 3, "only \(checked) cases with a consolidation on the checked plane")
        #expect(airwayPixels > 5, "\(airwayPixels) airway pixels inside the consolidations")
    }
}

@Suite struct PhantomGroundGlassTests {
    private func options(groundGlass: Double?) -> PhantomOptions {
        var o = PhantomsTests.options(emphysema: nil)
        o.groundGlassFraction = groundGlass
        return o
    }

    /// Without the option (or at 0) the scans are unchanged; with it the nodules left are the
    /// same ones, none within a patch's reach, and those taken out are named.
    @Test func withoutTheOptionTheScansAreThoseOfBefore() {
        let before = PhantomGenerator(options: options(groundGlass: nil), seed: 96).plan(case: 1)
        let zero = PhantomGenerator(options: options(groundGlass: 0), seed: 96).plan(case: 1)
        #expect(before.groundGlass == nil && zero.groundGlass == nil)
        let z = before.anatomy.lungHeightMM * 0.4
        #expect(renderPlane(before, z: z) == renderPlane(zero, z: z))
        for i in 0..<6 {
            let plain = PhantomGenerator(options: options(groundGlass: nil), seed: 96).plan(case: i)
            let sick = PhantomGenerator(options: options(groundGlass: 1), seed: 96).plan(case: i)
            let ggo = sick.groundGlass
            #expect(ggo != nil, "case \(i)")
            let kept = Set(sick.nodules.map(\.id))
            #expect(plain.nodules.filter { kept.contains($0.id) }.map(\.center) == sick.nodules.map(\.center))
            #expect(Set(plain.nodules.map(\.id)).subtracting(kept) == Set(sick.nodulesCoveredByPathology), "case \(i)")
            for n in sick.nodules {
                #expect(ggo?.covers(n.center, seed: sick.textureSeed, marginMM: n.radiusMM + GroundGlassOpacities.edgeMM + 2) == false)
            }
        }
    }

    /// Each case has 3-8 patches with one or more in each lung, centred 4-20 mm under the
    /// pleura. On a patch's central plane, well inside it (3 mm) and away from vessels (lung
    /// that was below -700 HU without the option), the median HU rises to ground glass (within
    /// 120 HU of the patch's level, healthy lung being about -800 to -850); the vessels there
    /// stay as bright as before (their margins are preserved), and nothing changes farther
    /// than the fading edge from every patch.
    @Test func patchesAreHazyLungThatKeepsItsVessels() throws {
        var checked = 0
        for i in 0..<3 {
            let plain = PhantomGenerator(options: options(groundGlass: nil), seed: 97).plan(case: i)
            let sick = PhantomGenerator(options: options(groundGlass: 1), seed: 97).plan(case: i)
            let ggo = try #require(sick.groundGlass)
            let a = sick.anatomy
            #expect((3...8).contains(ggo.patches.count))
            #expect(Set(ggo.patches.map(\.side)) == [0, 1])
            for patch in ggo.patches {
                let d = a.lungDistance(patch.center)
                #expect(d.side == patch.side && d.distanceMM < -4 * a.scale + 1e-9 && d.distanceMM > -20 * a.scale - 1e-9)
                #expect((-720 ... -500).contains(patch.hu))
            }
            let seed = sick.textureSeed
            // The largest patch's central plane.
            let patch = try #require(ggo.patches.max { $0.semiAxesMM.min() < $1.semiAxesMM.min() })
            let z = patch.center.z
            let before = renderPlane(plain, z: z), after = renderPlane(sick, z: z)
            var hazy: [Float] = [], vessels: [(Float, Float)] = [], changedAway = 0
            for (q, k) in pixels(sick, z: z) {
                let distances = ggo.patches.map { $0.signedDistance(q, seed: seed) }
                if distances.allSatisfy({ $0 > GroundGlassOpacities.edgeMM + sick.pixelSpacingMM }) {
                    if before[k] != after[k] { changedAway += 1 }
                    continue
                }
                guard a.lungDistance(q).distanceMM < -sick.pixelSpacingMM,
                      patch.signedDistance(q, seed: seed) < -3 else { continue }
                if before[k] < -700 { hazy.append(after[k]) }
                if before[k] > -100 { vessels.append((before[k], after[k])) }
            }
            #expect(changedAway == 0, "case \(i)")
            guard hazy.count > 30 else { continue }
            checked += 1
            hazy.sort()
            let median = Double(hazy[hazy.count / 2])
            #expect(abs(median - patch.hu) < 120, "case \(i): median \(median) against the patch's \(patch.hu)")
            // A vessel's core keeps its density: ground glass adds haze, it does not hide it.
            #expect(vessels.allSatisfy { $0.1 >= $0.0 - 1 }, "case \(i)")
        }
        #expect(checked >= 2, "only \(checked) cases with hazy pixels on the checked plane")
    }

    @Test func truthRecordsThePatchesOnlyForCasesWithThem() throws {
        let (o, g, entries) = tinyTruth(options(groundGlass: 0.5), seed: 98)
        for (i, e) in entries.enumerated() {
            let plan = g.plan(case: i)
            #expect(e.groundGlassOpacities?.count == plan.groundGlass?.patches.count)
            if let first = e.groundGlassOpacities?.first, let patch = plan.groundGlass?.patches.first {
                let lps = plan.patientPosition(ofAnatomy: patch.center)
                #expect(abs(first.centerMM[0] - lps.x) < 0.06 && abs(first.centerMM[2] - lps.z) < 0.06)
                #expect(first.lung == (patch.side == 0 ? "right" : "left"))
                #expect(first.crazyPaving == patch.crazyPaving)
            }
            let json = String(decoding: try JSONEncoder().encode(e), as: UTF8.self)
            #expect(json.contains("ground_glass_opacities") == (plan.groundGlass != nil))
        }
        #expect(entries.contains { $0.groundGlassOpacities != nil } && entries.contains { $0.groundGlassOpacities == nil })
        #expect(throws: PhantomError.self) {
            var bad = o
            bad.groundGlassFraction = -0.1
            try bad.validate()
        }
    }
}

// Breathing artefact (`PhantomOptions.motionFraction`).
@Suite struct PhantomMotionTests {
    /// Thin slices (1 mm, so one sub-slice each) through the lungs, no nodules.
    private func options(motion: Double?) -> PhantomOptions {
        var o = PhantomOptions()
        o.size = 96
        o.slices = 60
        o.sliceSpacingMM = 1
        o.vesselTerritories = 150
        o.cleanFraction = 1
        o.motionFraction = motion
        return o
    }

    /// Outside the band each slice is the slice without the artefact; inside it, the plane
    /// `shiftMM` away; nodules never lie where the band is or shows.
    @Test func theBandShowsDisplacedAnatomyAndTheRestIsUnchanged() throws {
        var checked = 0
        for i in 0..<4 {
            let plain = PhantomGenerator(options: options(motion: nil), seed: 101).plan(case: i)
            let moved = PhantomGenerator(options: options(motion: 1), seed: 101).plan(case: i)
            #expect(plain.respiratoryMotion == nil)
            guard let m = moved.respiratoryMotion else { continue }
            checked += 1
            #expect(abs(m.shiftMM) >= 3 && abs(m.shiftMM) <= 10)
            #expect(moved.subSlices == 1)
            let a = Scene(plain), b = Scene(moved)
            var sa = SliceScratch(count: plain.columns * plain.rows), sb = sa
            var out1 = [Float](repeating: 0, count: plain.columns * plain.rows), out2 = out1
            func slice(_ scene: Scene, _ k: Int, _ scratch: inout SliceScratch, _ out: inout [Float]) {
                out.withUnsafeMutableBufferPointer { scene.renderSlice(k, into: $0, scratch: &scratch) }
            }
            for k in [m.firstSlice - 1, m.lastSlice + 1] where k >= 0 && k < plain.slices {
                slice(a, k, &sa, &out1); slice(b, k, &sb, &out2)
                #expect(out1 == out2, "case \(i): slice \(k) outside the band changed")
            }
            let k = (m.firstSlice + m.lastSlice) / 2
            slice(b, k, &sb, &out2)
            let shifted = renderPlane(plain, z: plain.gridOrigin.z + Double(k) * plain.sliceSpacingMM + m.shiftMM)
            #expect(out2 == shifted, "case \(i): slice \(k) is not the plane \(m.shiftMM) mm away")
            slice(a, k, &sa, &out1)
            #expect(out1 != out2)
        }
        #expect(checked >= 3)
        // With nodules: none where the band is or shows (3 mm to spare).
        var o = options(motion: 1)
        o.cleanFraction = 0
        o.slices = 200
        o.sliceSpacingMM = 1.5
        o.minNodules = 4
        o.maxNodules = 8
        var withNodules = 0
        for i in 0..<6 {
            let p = PhantomGenerator(options: o, seed: 102).plan(case: i)
            guard let m = p.respiratoryMotion else { continue }
            if !p.nodules.isEmpty { withNodules += 1 }
            let z0 = p.gridOrigin.z + Double(m.firstSlice) * p.sliceSpacingMM - p.sliceSpacingMM / 2
            let z1 = p.gridOrigin.z + Double(m.lastSlice) * p.sliceSpacingMM + p.sliceSpacingMM / 2
            for n in p.nodules {
                let reach = n.boundingRadiusMM + 3
                #expect(n.center.z < z0 + min(0, m.shiftMM) - reach || n.center.z > z1 + max(0, m.shiftMM) + reach,
                        "case \(i): nodule \(n.id) at z \(n.center.z) in the band \(z0)...\(z1) shifted \(m.shiftMM)")
            }
        }
        #expect(withNodules >= 3, "\(withNodules) of 6 cases with both a band and nodules")
    }

    @Test func truthRecordsTheBandInPatientZ() throws {
        var o = options(motion: 1)
        o.size = 32
        let g = PhantomGenerator(options: o, seed: 103)
        let plan = g.plan(case: 0)
        let m = try #require(plan.respiratoryMotion)
        let e = PhantomTruth.entry(for: plan, folder: "c", format: "dicom")
        let t = try #require(e.respiratoryMotion)
        let first = plan.patientPosition(ofAnatomy: SIMD3(0, 0, plan.gridOrigin.z + Double(m.firstSlice) * plan.sliceSpacingMM)).z
        #expect(abs(t.fromZMM - first) < 0.001)
        #expect(abs(t.toZMM - t.fromZMM - Double(m.lastSlice - m.firstSlice) * plan.sliceSpacingMM) < 0.002)
        #expect(t.shiftMM == (m.shiftMM * 100).rounded() / 100)
        #expect(throws: PhantomError.self) {
            var bad = o
            bad.motionFraction = -1
            try bad.validate()
        }
    }
}

// Photon-starvation streaks (`PhantomOptions.streakFraction`).
@Suite struct PhantomStreakTests {
    private func options(streaks: Double?) -> PhantomOptions {
        var o = PhantomsTests.options(emphysema: nil)
        o.streakFraction = streaks
        return o
    }

    /// On a blank 256x256 image at full strength: fine lines within 15 degrees of the
    /// horizontal (neighbours along a row differ far less than neighbours along a column),
    /// dark-bright doublets that sum to about nothing, within the amplitude except where two
    /// lines cross (under 1 % of the pixels); below the fade, nothing.
    @Test func streaksAreFineNearlyHorizontalDoubletsThatFadeBelowTheApices() throws {
        let plan = PhantomGenerator(options: options(streaks: 1), seed: 99).plan(case: 0)
        let streaks = try #require(plan.streaks)
        #expect((40...110).contains(streaks.amplitudeHU))
        let n = 256
        var image = [Float](repeating: 0, count: n * n)
        image.withUnsafeMutableBufferPointer {
            streaks.apply(to: $0, columns: n, rows: n, z: streaks.fullZ + 5, slice: 7, seed: plan.seed, caseIndex: 0)
        }
        let magnitude = image.reduce(0) { $0 + Double(abs($1)) }
        #expect(magnitude > 1000)
        #expect(abs(image.reduce(0) { $0 + Double($1) }) < 0.05 * magnitude)
        let over = image.filter { abs(Double($0)) > streaks.amplitudeHU * 1.01 }.count
        #expect(Double(over) < 0.01 * Double(image.count), "\(over) pixels beyond the amplitude")
        var alongRow = 0.0, alongColumn = 0.0
        for y in 1..<n {
            for x in 1..<n {
                alongRow += Double(abs(image[y * n + x] - image[y * n + x - 1]))
                alongColumn += Double(abs(image[y * n + x] - image[(y - 1) * n + x]))
            }
        }
        #expect(alongRow < 0.5 * alongColumn, "row \(alongRow), column \(alongColumn)")
        var below = [Float](repeating: 0, count: n * n)
        below.withUnsafeMutableBufferPointer {
            streaks.apply(to: $0, columns: n, rows: n, z: streaks.fullZ - streaks.fadeMM - 1, slice: 7,
                          seed: plan.seed, caseIndex: 0)
        }
        #expect(below.allSatisfy { $0 == 0 })
        #expect(streaks.strength(z: streaks.fullZ - streaks.fadeMM / 2) > 0.2)
        #expect(streaks.strength(z: streaks.fullZ - streaks.fadeMM / 2) < 0.8)
    }

    @Test func withoutTheOptionNoStreaksAndTruthRecordsThemOnlyWhenPresent() throws {
        #expect(PhantomGenerator(options: options(streaks: nil), seed: 99).plan(case: 0).streaks == nil)
        #expect(PhantomGenerator(options: options(streaks: 0), seed: 99).plan(case: 0).streaks == nil)
        // The streaks' own stream: the rest of the plan is the same.
        let plain = PhantomGenerator(options: options(streaks: nil), seed: 99).plan(case: 2)
        let streaked = PhantomGenerator(options: options(streaks: 1), seed: 99).plan(case: 2)
        #expect(plain.nodules.map(\.center) == streaked.nodules.map(\.center))
        let (o, g, entries) = tinyTruth(options(streaks: 0.5), seed: 99)
        for (i, e) in entries.enumerated() {
            let plan = g.plan(case: i)
            #expect((e.streaks != nil) == (plan.streaks != nil))
            if let s = e.streaks, let ps = plan.streaks {
                #expect(abs(s.fullStrengthZMM - plan.patientPosition(ofAnatomy: SIMD3(0, 0, ps.fullZ)).z) < 0.06)
            }
        }
        #expect(entries.contains { $0.streaks != nil } && entries.contains { $0.streaks == nil })
        #expect(throws: PhantomError.self) {
            var bad = o
            bad.streakFraction = 1.5
            try bad.validate()
        }
    }
}
