import Foundation
import Testing
@testable import Phantoms

/// `BeamHardening`: the projection and reconstruction against analytic answers, then the
/// artefact's shape (dark between two dense objects, cupping inside one) and the option.
@Suite struct PhantomBeamHardeningTests {
    /// An n x n grid with discs of value 1 (radius in cells) at the given centres (cells).
    private func discs(_ centres: [(Double, Double)], radius: Double, size n: Int) -> [Double] {
        var grid = [Double](repeating: 0, count: n * n)
        for y in 0..<n {
            for x in 0..<n where centres.contains(where: { (Double(x) - $0.0) * (Double(x) - $0.0) + (Double(y) - $0.1) * (Double(y) - $0.1) <= radius * radius }) {
                grid[y * n + x] = 1
            }
        }
        return grid
    }

    @Test func projectionsOfADiscAreItsChords() {
        let n = 64, radius = 20.0, cellMM = 2.0
        let centre = Double(n - 1) / 2
        let p = BeamHardening.project(discs([(centre, centre)], radius: radius, size: n), size: n, cellMM: cellMM)
        let (angles, bins) = BeamHardening.geometry(size: n)
        let half = Double(bins - 1) / 2
        for a in [0, angles / 3, angles / 2] {
            for t in [0.0, 10, 17] {
                let chordMM = 2 * (radius * radius - t * t).squareRoot() * cellMM
                let measured = p[a * bins + Int(half + t)]
                #expect(abs(measured - chordMM) < 0.06 * chordMM + 2 * cellMM,
                        "angle \(a), t \(t): \(measured) mm against \(chordMM)")
            }
        }
        // Beyond the disc nothing.
        #expect(abs(p[Int(half + 25)]) < 1e-9)
    }

    @Test func filteredBackProjectionReconstructsADisc() {
        let n = 64, radius = 18.0
        let centre = Double(n - 1) / 2
        let truth = discs([(centre, centre)], radius: radius, size: n)
        let image = BeamHardening.reconstruct(BeamHardening.project(truth, size: n, cellMM: 1.5), size: n, cellMM: 1.5)
        var inside = 0.0, insideCount = 0, outside = 0.0, outsideCount = 0
        for y in 0..<n {
            for x in 0..<n {
                let r = ((Double(x) - centre) * (Double(x) - centre) + (Double(y) - centre) * (Double(y) - centre)).squareRoot()
                if r < radius - 3 { inside += image[y * n + x]; insideCount += 1 }
                if r > radius + 3 && r < Double(n) / 2 - 2 { outside += abs(image[y * n + x]); outsideCount += 1 }
            }
        }
        let insideMean = inside / Double(insideCount), outsideMean = outside / Double(outsideCount)
        #expect(abs(insideMean - 1) < 0.05, "inside \(insideMean)")
        #expect(outsideMean < 0.05, "outside |mean| \(outsideMean)")
    }

    @Test func darkBetweenTwoDenseObjectsAndCuppingInsideOne() {
        let n = 96, cellMM = 3.0
        let left = (28.0, 47.5), right = (67.0, 47.5)
        let pair = discs([left, right], radius: 8, size: n)
        let k = BeamHardening(coefficientPerMM: 0.02).coefficientPerMM
        let error = BeamHardening.reconstruct(BeamHardening.project(pair, size: n, cellMM: cellMM).map { -k * $0 * $0 },
                                              size: n, cellMM: cellMM)
        // Midway between the discs, on the line joining them, against the point as far from
        // both discs' edges off that line (on the bisector, 19.5 cells away).
        let between = error[47 * n + 47] + error[48 * n + 48]
        let offLine = error[(47 - 19) * n + 47] + error[(48 - 19) * n + 48]
        #expect(between < offLine - 0.01, "between \(between), off the line \(offLine)")
        #expect(between < 0)
        // One thick disc: its centre darker than its rim.
        let one = discs([(47.5, 47.5)], radius: 14, size: n)
        let cup = BeamHardening.reconstruct(BeamHardening.project(one, size: n, cellMM: cellMM).map { -k * $0 * $0 },
                                            size: n, cellMM: cellMM)
        let centreValue = cup[47 * n + 47], rimValue = cup[47 * n + 47 + 11]
        #expect(centreValue < rimValue - 0.01, "centre \(centreValue), rim \(rimValue)")
    }

    @Test func appliedToASliceItDarkensTissueBetweenBones() {
        // 256 x 256 slice of 0.8 mm pixels: a water disc of 90 mm radius with two bone discs
        // (1100 HU, 12 mm radius) 80 mm apart; the artefact is computed on a 128 grid.
        let n = 256, pixelMM = 0.8
        var slice = [Float](repeating: -1000, count: n * n)
        let c = Double(n - 1) / 2
        for y in 0..<n {
            for x in 0..<n {
                let dx = (Double(x) - c) * pixelMM, dy = (Double(y) - c) * pixelMM
                if dx * dx + dy * dy < 90 * 90 { slice[y * n + x] = 0 }
                for bx in [-40.0, 40] where (dx - bx) * (dx - bx) + dy * dy < 12 * 12 { slice[y * n + x] = 1100 }
            }
        }
        let before = slice
        slice.withUnsafeMutableBufferPointer {
            BeamHardening(coefficientPerMM: 0.016).apply(to: $0, columns: n, rows: n, pixelMM: pixelMM)
        }
        func change(_ dxMM: Double, _ dyMM: Double) -> Double {
            let x = Int((c + dxMM / pixelMM).rounded()), y = Int((c + dyMM / pixelMM).rounded())
            return Double(slice[y * n + x] - before[y * n + x])
        }
        // Water midway between the bones against water as far from both, off their line.
        let between = change(0, 0), offLine = change(0, 40)
        #expect(between < offLine - 2, "between \(between) HU, off the line \(offLine) HU")
        // Cupping: the bone's centre loses more than its rim.
        #expect(change(40, 0) < change(40 + 9, 0) - 2, "bone centre \(change(40, 0)), rim \(change(49, 0))")
    }

    @Test func offByDefaultOnItsOwnStreamAndInTheTruth() throws {
        var o = PhantomOptions()
        o.size = 48
        o.slices = 12
        o.vesselTerritories = 120
        o.maxNodules = 3
        o.cleanFraction = 0
        let plain = PhantomGenerator(options: o, seed: 77, context: .serial).render(case: 0)
        o.beamHardeningFraction = 0
        let zero = PhantomGenerator(options: o, seed: 77, context: .serial).render(case: 0)
        #expect(zero.volume.voxels == plain.volume.voxels)
        o.beamHardeningFraction = 1
        let hardened = PhantomGenerator(options: o, seed: 77, context: .serial).render(case: 0)
        let coefficient = try #require(hardened.phantom.beamHardening?.coefficientPerMM)
        #expect(coefficient >= 0.006 && coefficient <= 0.018)
        #expect(hardened.phantom.vesselSegments == plain.phantom.vesselSegments)
        #expect(hardened.phantom.nodules.map(\.center) == plain.phantom.nodules.map(\.center))
        // It darkens: the bone (above 300 HU in the plain scan) loses on average.
        var boneChange = 0.0, boneCount = 0
        for (i, v) in plain.volume.voxels.enumerated() where v > 300 {
            boneChange += Double(hardened.volume.voxels[i] - v)
            boneCount += 1
        }
        #expect(boneCount > 0)
        #expect(boneChange / Double(max(boneCount, 1)) < -2, "bone changed by \(boneChange / Double(max(boneCount, 1))) HU")
        // truth.json carries the coefficient, and only for a case with the artefact.
        let entry = PhantomTruth.entry(for: hardened.phantom, folder: "c", format: "dicom")
        #expect(abs((entry.beamHardening?.coefficientPerMM ?? 0) - coefficient) < 1e-5)
        let json = String(decoding: try JSONEncoder().encode(entry), as: UTF8.self)
        #expect(json.contains("\"beam_hardening\""))
        let plainJSON = String(decoding: try JSONEncoder().encode(PhantomTruth.entry(for: plain.phantom, folder: "c", format: "dicom")), as: UTF8.self)
        #expect(!plainJSON.contains("beam_hardening"))
    }

    @Test func fractionOutsideItsRangeIsRefused() {
        var o = PhantomOptions()
        o.beamHardeningFraction = 1.5
        #expect(throws: PhantomError.self) { try o.validate() }
        o.beamHardeningFraction = 0.5
        #expect(throws: Never.self) { try o.validate() }
    }
}
