import Foundation
import Testing
@testable import Phantoms

/// Pericardial fat pads at the cardiophrenic angles (`--cardiophrenic-fat-fraction`).
@Suite struct PhantomCardiophrenicFatTests {
    private func plan(fraction: Double?, revision: Int? = nil, seed: UInt64 = 1300, index: Int = 0) -> PhantomCase {
        var o = fastPhantomOptions(size: 160, slices: 60)
        o.cardiophrenicFatFraction = fraction
        o.anatomyRevision = revision
        return PhantomGenerator(options: o, seed: seed).plan(case: index)
    }

    /// Points of a 2 mm grid inside the pad by more than 1 mm.
    private func inside(_ pad: CardiophrenicFatPad, _ a: ChestAnatomy) -> [SIMD3<Double>] {
        var points: [SIMD3<Double>] = []
        let lo = pad.center - pad.semiAxesMM, hi = pad.center + pad.semiAxesMM
        for x in stride(from: lo.x, through: hi.x, by: 2) {
            for y in stride(from: lo.y, through: hi.y, by: 2) {
                for z in stride(from: lo.z, through: hi.z, by: 2)
                where pad.distance(x: x, y: y, z: z, anatomy: a) < -1 {
                    points.append(SIMD3(x, y, z))
                }
            }
        }
        return points
    }

    @Test func withoutTheOptionTheScansAreUnchanged() {
        let none = plan(fraction: nil)
        let zero = plan(fraction: 0)
        #expect(none.anatomy.cardiophrenicFat.isEmpty && zero.anatomy.cardiophrenicFat.isEmpty)
        #expect(zero.vesselSegments == none.vesselSegments)
        #expect(zero.nodules.map(\.center) == none.nodules.map(\.center))
        let z = none.anatomy.heartCenter.z - 30
        #expect(renderPlaneAndLung(zero, z: z).hu == renderPlaneAndLung(none, z: z).hu)
        #expect(PhantomTruth.entry(for: none, folder: "c", format: "dicom").cardiophrenicFatPads == nil)
    }

    @Test(arguments: [3, 4])
    func padsAreFatFillingTheAngleBetweenHeartAndDiaphragm(revision: Int) {
        var lefts = 0
        for index in 0..<4 {
            let p = plan(fraction: 1, revision: revision, index: index)
            let a = p.anatomy, s = a.scale
            // The right pad always, the left one in about half the cases.
            #expect(a.cardiophrenicFat.first?.side == 0)
            lefts += a.cardiophrenicFat.filter { $0.side == 1 }.count
            for pad in a.cardiophrenicFat {
                let points = inside(pad, a)
                let volumeML = Double(points.count) * 8 / 1000
                #expect(volumeML > 2 * s * s * s, "case \(index) side \(pad.side): \(volumeML) ml")
                // Against the heart (its outline, with 3 mm of epicardial fat), on the dome,
                // in front of the heart's centre, on its own side.
                let nearestHeart = points.map { a.heartDistance(x: $0.x, y: $0.y, z: $0.z) }.min() ?? .infinity
                let lowest = points.map { $0.z - a.domeZ(side: pad.side, x: $0.x, y: $0.y) }.min() ?? .infinity
                #expect(nearestHeart < 4 * s, "case \(index) side \(pad.side): \(nearestHeart) mm from the heart")
                #expect(lowest < 4 * s, "case \(index) side \(pad.side): \(lowest) mm above the dome")
                let mean = points.reduce(SIMD3<Double>.zero, +) / Double(Swift.max(1, points.count))
                #expect(mean.y < a.heartCenter.y)
                #expect(pad.side == 0 ? mean.x < a.heartCenter.x : mean.x > a.heartCenter.x)
                // No lung in it: the lung is carved around it.
                #expect(points.allSatisfy { a.lungDistance($0).side == nil })
                // Rendered (analytic HU before blur and noise) as fat where the heart does not
                // cover it: a plane through the pad's middle height.
                let zMid = points.map(\.z).sorted()[points.count / 2]
                let hu = renderPlaneAndLung(p, z: zMid).hu
                var fat: [Float] = []
                for q in points where abs(q.z - zMid) < 1 && a.heartDistance(x: q.x, y: q.y, z: q.z) > 4 * s {
                    let c = Int(((q.x - p.gridOrigin.x) / p.pixelSpacingMM).rounded())
                    let r = Int(((q.y - p.gridOrigin.y) / p.pixelSpacingMM).rounded())
                    guard c >= 0, c < p.columns, r >= 0, r < p.rows else { continue }
                    fat.append(hu[r * p.columns + c])
                }
                fat.sort()
                #expect(fat.count > 5, "case \(index) side \(pad.side): \(fat.count) pixels")
                if !fat.isEmpty {
                    let median = fat[fat.count / 2]
                    #expect(median > -135 && median < -70, "case \(index) side \(pad.side): median \(median) HU")
                }
            }
            // truth.json: one entry per pad, its side, the visible fat's centroid (in LPS,
            // which the anatomy frame maps to) inside the pad and out of the lungs.
            let entry = PhantomTruth.entry(for: p, folder: "c", format: "dicom")
            #expect(entry.cardiophrenicFatPads?.map(\.side) == a.cardiophrenicFat.map { $0.side == 0 ? "right" : "left" })
            for (pad, recorded) in zip(a.cardiophrenicFat, entry.cardiophrenicFatPads ?? []) {
                let fat = pad.visibleFat(anatomy: a)
                let lps = p.patientPosition(ofAnatomy: fat.centroid)
                #expect(zip([lps.x, lps.y, lps.z], recorded.centerMM).allSatisfy { abs($0 - $1) < 0.01 })
                #expect(recorded.volumeML > 1 && abs(recorded.volumeML - fat.volumeMM3 / 1000) < 0.1)
                #expect(pad.distance(x: fat.centroid.x, y: fat.centroid.y, z: fat.centroid.z, anatomy: a) < 0)
                #expect(a.lungDistance(fat.centroid).side == nil)
            }
            // No nodule inside a pad.
            for n in p.nodules {
                #expect(a.cardiophrenicFat.allSatisfy { $0.distance(x: n.center.x, y: n.center.y, z: n.center.z, anatomy: a) > 0 })
            }
        }
        #expect(lefts >= 1 && lefts <= 3, "\(lefts) left pads in 4 cases")
    }

    @Test func fractionOutsideItsRangeIsRefused() {
        var o = PhantomOptions()
        o.cardiophrenicFatFraction = 1.5
        #expect(throws: PhantomError.self) { try o.validate() }
        o.cardiophrenicFatFraction = 1
        #expect(throws: Never.self) { try o.validate() }
    }
}
