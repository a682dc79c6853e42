import Foundation
import Testing
@testable import Phantoms

// Fibrotic interstitial lung disease (`--fibrosis-fraction`): opt-in, from its own stream,
// subpleural and basal (the upper lung and the deep lung untouched), a network of denser
// lines, honeycomb air cysts along the pleura when the case has them, and in truth.json.

private func options(fibrosis: Double?, size: Int = 128) -> PhantomOptions {
    fastPhantomOptions(size: size, slices: 40).with { $0.fibrosisFraction = fibrosis }
}

/// Lung pixels (cover > 0.99) of a plane at anatomy height z, with their distance (mm) to
/// the lung's surface.
private func lungPixels(_ p: PhantomCase, z: Double, lung: [Float]) -> [(index: Int, depthMM: Double)] {
    var out: [(Int, Double)] = []
    for r in 0..<p.rows {
        for c in 0..<p.columns where lung[r * p.columns + c] > 0.99 {
            let q = SIMD3(p.gridOrigin.x + Double(c) * p.pixelSpacingMM, p.gridOrigin.y + Double(r) * p.pixelSpacingMM, z)
            out.append((r * p.columns + c, -p.anatomy.lungDistance(q).distanceMM))
        }
    }
    return out
}

@Suite struct PhantomInterstitialFibrosisTests {
    @Test func offByDefaultAndDrawnFromItsOwnStream() throws {
        let before = PhantomGenerator(options: options(fibrosis: nil), seed: 1461).plan(case: 0)
        let zero = PhantomGenerator(options: options(fibrosis: 0), seed: 1461).plan(case: 0)
        #expect(before.interstitialFibrosis == nil && zero.interstitialFibrosis == nil)
        #expect(PhantomTruth.entry(for: before, folder: "c", format: "dicom").interstitialFibrosis == nil)
        let with = PhantomGenerator(options: options(fibrosis: 1), seed: 1461).plan(case: 0)
        let f = try #require(with.interstitialFibrosis)
        #expect(f.severity >= 0.4 && f.severity <= 1 && f.lobuleMM >= 9 && f.lobuleMM <= 13)
        #expect(with.vesselSegments == before.vesselSegments && with.airwaySegments == before.airwaySegments)
        #expect(with.nodules.map(\.center) == before.nodules.map(\.center))
        // The upper lung (above mid-height) is the plane of before.
        let upper = 0.7 * before.anatomy.lungHeightMM
        #expect(renderPlane(with, z: upper) == renderPlane(before, z: upper))
        let truth = try #require(PhantomTruth.entry(for: with, folder: "c", format: "dicom").interstitialFibrosis)
        #expect(abs(truth.severity - f.severity) < 0.001 && truth.honeycombing == f.honeycombing)
        #expect((truth.cystMM != nil) == f.honeycombing && abs(truth.maximumDepthMM - f.maximumDepthMM) < 0.001)
        #expect(throws: PhantomError.self) { try options(fibrosis: 1.2).validate() }
        let g = PhantomGenerator(options: options(fibrosis: 0.5, size: 32), seed: 1462)
        let affected = (0..<8).filter { g.plan(case: $0).interstitialFibrosis != nil }.count
        #expect(affected >= 1 && affected <= 7, "\(affected) of 8 at 0.5")
    }

    @Test func reticulationIsSubpleuralAndLeavesTheDeepLung() throws {
        for i in 0..<2 {
            let before = PhantomGenerator(options: options(fibrosis: nil, size: 256), seed: 1463).plan(case: i)
            let with = PhantomGenerator(options: options(fibrosis: 1, size: 256), seed: 1463).plan(case: i)
            let f = try #require(with.interstitialFibrosis)
            let z = 0.12 * with.anatomy.lungHeightMM
            let (hu, lung) = renderPlaneAndLung(with, z: z)
            let plain = renderPlane(before, z: z)
            let pixels = lungPixels(with, z: z, lung: lung)
            // Deeper than the reticulation reaches anywhere: untouched.
            let deep = pixels.filter { $0.depthMM > f.maximumDepthMM + 4 }
            #expect(deep.count > 50, "case \(i): \(deep.count) deep lung pixels")
            #expect(deep.allSatisfy { hu[$0.index] == plain[$0.index] })
            // Within 1-4 mm of the pleura: denser on average, with lines far above the
            // parenchyma (septa towards -250 HU against about -860).
            let subpleural = pixels.filter { $0.depthMM > 1 && $0.depthMM < 4 }
            let change = subpleural.map { Double(hu[$0.index] - plain[$0.index]) }
            let mean = change.reduce(0, +) / Double(max(1, change.count))
            let lines = Double(change.filter { $0 > 150 }.count) / Double(max(1, change.count))
            #expect(subpleural.count > 50)
            #expect(f.honeycombing || mean > 15, "case \(i): mean change \(mean) HU")
            #expect(lines > 0.03, "case \(i): \(lines) of subpleural pixels on a line")
        }
    }

    @Test func honeycombingIsAirCystsAlongThePleura() throws {
        let generator = PhantomGenerator(options: options(fibrosis: 1, size: 256), seed: 1464)
        let plainGenerator = PhantomGenerator(options: options(fibrosis: nil, size: 256), seed: 1464)
        let index = try #require((0..<8).first { generator.plan(case: $0).interstitialFibrosis?.honeycombing == true })
        let with = generator.plan(case: index), before = plainGenerator.plan(case: index)
        let z = 0.08 * with.anatomy.lungHeightMM
        let (hu, lung) = renderPlaneAndLung(with, z: z)
        let plain = renderPlane(before, z: z)
        let rim = lungPixels(with, z: z, lung: lung).filter { $0.depthMM > 0.5 && $0.depthMM < 2.5 }
        func airFraction(_ plane: [Float]) -> Double {
            Double(rim.filter { plane[$0.index] < -950 }.count) / Double(max(1, rim.count))
        }
        #expect(rim.count > 50)
        #expect(airFraction(hu) > 0.1 && airFraction(hu) > 4 * airFraction(plain),
                "air at the pleura: \(airFraction(hu)) with, \(airFraction(plain)) without")
    }
}
