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
