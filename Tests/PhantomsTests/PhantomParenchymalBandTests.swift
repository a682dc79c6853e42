import Foundation
import Testing
@testable import Phantoms

// Parenchymal bands (`--scar-fraction`): opt-in, from their own stream, from the costal pleura
// into the lung, clear of the nodules, rendered as fibrous tissue, in truth.json.

/// Test-sized options with `--scar-fraction`.
private func options(scars: Double?, size: Int = 256) -> PhantomOptions {
    fastPhantomOptions(size: size, slices: 40).with { $0.scarFraction = scars }
}

@Suite struct PhantomParenchymalBandTests {
    @Test func offByDefaultAndDrawnFromTheirOwnStream() throws {
        let before = PhantomGenerator(options: options(scars: nil, size: 128), seed: 1431).plan(case: 0)
        let zero = PhantomGenerator(options: options(scars: 0, size: 128), seed: 1431).plan(case: 0)
        #expect(before.parenchymalBands == nil && zero.parenchymalBands == nil)
        #expect(PhantomTruth.entry(for: before, folder: "c", format: "dicom").parenchymalBands == nil)
        let with = PhantomGenerator(options: options(scars: 1, size: 128), seed: 1431).plan(case: 0)
        let bands = try #require(with.parenchymalBands)
        #expect(!bands.isEmpty)
        #expect(with.nodules.map(\.center) == before.nodules.map(\.center))
        // Above every band the plane is the plane of before; through one it is not.
        let top = bands.flatMap(\.segments).map { $0.zRange.upperBound }.max()!
        #expect(renderPlane(with, z: top + 10) == renderPlane(before, z: top + 10))
        let z = bands[0].segments[2].start.z
        #expect(renderPlane(with, z: z) != renderPlane(before, z: z))
        #expect(throws: PhantomError.self) { try options(scars: 1.5).validate() }
        // Bands only in the fraction of cases asked for.
        let g = PhantomGenerator(options: options(scars: 0.5, size: 32), seed: 1432)
        let scarred = (0..<8).filter { g.plan(case: $0).parenchymalBands != nil }.count
        #expect(scarred >= 1 && scarred <= 7, "\(scarred) of 8 with bands at 0.5")
    }

    @Test func bandsRunFromTheCostalPleuraIntoTheLungClearOfNodules() throws {
        var bandsChecked = 0
        for i in 0..<4 {
            let p = PhantomGenerator(options: options(scars: 1), seed: 1433).plan(case: i)
            let a = p.anatomy
            for band in p.parenchymalBands ?? [] {
                let axis = Array(band.segments.dropFirst())
                #expect(axis.count == 4)
                let outer = axis[0].start, inner = axis[3].end
                // The outer end lies in the chest wall, at most 2.5 mm beyond the lung's
                // surface (1.5 mm past the first point outside it, marched in 0.5 mm steps);
                // the inner end is inside the lung.
                let outerDepth = a.lungDistance(outer).distanceMM
                #expect(outerDepth >= 0 && outerDepth <= 2.5, "outer end \(outerDepth) mm from the lung's surface")
                #expect(a.lungDistance(inner).distanceMM < -2, "inner end not inside the lung")
                // Against the chest wall, not the mediastinum.
                #expect(!a.isBeyondMediastinalSurface(outer, side: 0) && !a.isBeyondMediastinalSurface(outer, side: 1))
                // 1-3 mm thick at the pleura, 15-45 mm long (plus the joints' sideways steps).
                #expect(axis[0].startRadiusMM >= 0.5 && axis[0].startRadiusMM <= 1.5)
                #expect(band.lengthMM - band.segments[0].lengthMM >= 15 && band.lengthMM - band.segments[0].lengthMM <= 47)
                // Fibrous tissue.
                #expect(band.hu >= -80 && band.hu <= 30)
                // Clear of every nodule's surface by 8 mm, along the whole axis.
                for n in p.nodules {
                    for t in stride(from: 0.0, through: 1.0, by: 0.05) {
                        let point = outer + t * (inner - outer)
                        let v = n.center - point
                        #expect((v * v).sum().squareRoot() - n.boundingRadiusMM > 6, "band within 6 mm of a nodule")
                    }
                }
                bandsChecked += 1
            }
        }
        #expect(bandsChecked >= 4)
    }

    @Test func bandsAreRenderedOverTheLungAndRecordedInTruth() throws {
        var pointsChecked = 0
        for i in 0..<2 {
            // 512 pixels (0.6-0.9 mm): a pixel centre lies within half a pixel of any point.
            let p = PhantomGenerator(options: options(scars: 1, size: 512), seed: 1434).plan(case: i)
            let without = PhantomGenerator(options: options(scars: nil, size: 512), seed: 1434).plan(case: i)
            let bands = try #require(p.parenchymalBands)
            for band in bands {
                // Midway along the first segment of the band's axis, where it is thickest.
                let s = band.segments[1]
                let point = 0.5 * (s.start + s.end)
                guard a(p).lungDistance(point).distanceMM < -1, let k = nearestPixel(p, point.x, point.y) else { continue }
                let hu = renderPlane(p, z: point.z), huWithout = renderPlane(without, z: point.z)
                let near = [-1, 0, 1].flatMap { dr in [-1, 0, 1].map { dc in k + dr * p.columns + dc } }
                // Only where lung was there before (a vessel may be denser than the band).
                guard near.allSatisfy({ huWithout[$0] < -500 }) else { continue }
                let rise = near.map { Double(hu[$0] - huWithout[$0]) }.max()!
                let expected = band.hu - Double(huWithout[k])
                #expect(rise > 0.4 * expected, "band rises \(rise) HU of \(expected)")
                pointsChecked += 1
            }
            // truth.json: one entry per band, its axis in LPS from the pleura inwards.
            let entry = PhantomTruth.entry(for: p, folder: "c", format: "dicom")
            let recorded = try #require(entry.parenchymalBands)
            #expect(recorded.count == bands.count)
            for (r, band) in zip(recorded, bands) {
                #expect(r.pointsMM.count == 5)
                let c = p.patientPosition(ofAnatomy: band.segments[1].start)
                #expect(abs(r.pointsMM[0][0] - c.x) < 0.001 && abs(r.pointsMM[0][2] - c.z) < 0.001)
                #expect(abs(r.thicknessMM - 2 * band.segments[1].startRadiusMM) < 0.001)
            }
        }
        #expect(pointsChecked >= 2)
    }

    private func a(_ p: PhantomCase) -> ChestAnatomy { p.anatomy }
}
