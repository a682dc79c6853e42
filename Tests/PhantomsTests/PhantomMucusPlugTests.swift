import Foundation
import Testing
@testable import Phantoms

// Mucus plugs (`--mucus-plug-fraction`): opt-in, only with bronchiectasis, from their own
// stream; whole branches of the widened lobe filled with mucus down to small bronchioles,
// rendered at soft-tissue density where the open bronchus is air, and listed in truth.json.

/// Test-sized options with bronchiectasis in every case; trees dense enough (as at full
/// size) that widened bronchi reach lumens below 1 mm.
private func options(plugs: Double?, size: Int = 128) -> PhantomOptions {
    fastPhantomOptions(size: size, slices: 40).with {
        $0.vesselTerritories = 2000
        $0.bronchiectasisFraction = 1
        $0.mucusPlugFraction = plugs
    }
}

@Suite struct PhantomMucusPlugTests {
    @Test func offByDefaultNeedsBronchiectasisAndChangesOnlyTheAirways() throws {
        let before = PhantomGenerator(options: options(plugs: nil), seed: 1451).plan(case: 0)
        let zero = PhantomGenerator(options: options(plugs: 0), seed: 1451).plan(case: 0)
        #expect(before.mucusPlugs == nil && zero.mucusPlugs == nil)
        #expect(!before.airwayIsPlugged.contains(true))
        #expect(zero.airwaySegments == before.airwaySegments)
        #expect(PhantomTruth.entry(for: before, folder: "c", format: "dicom").bronchiectasis?.mucusPlugs == nil)

        let with = PhantomGenerator(options: options(plugs: 1), seed: 1451).plan(case: 0)
        let plugs = try #require(with.mucusPlugs)
        #expect((2...4).contains(plugs.count) && plugs.hu >= 5 && plugs.hu <= 35)
        // The bronchiectasis, vessels and nodules are those of before; every open airway of
        // before is still there, in the same order, and the plugged ones are added or filled.
        #expect(with.bronchiectasis == before.bronchiectasis)
        #expect(with.vesselSegments == before.vesselSegments)
        #expect(with.nodules.map(\.center) == before.nodules.map(\.center))
        let open = zip(with.airwaySegments, with.airwayIsPlugged).filter { !$0.1 }.map(\.0)
        #expect(open.allSatisfy { before.airwaySegments.contains($0) })
        #expect(with.airwaySegments.count > before.airwaySegments.count, "impacted bronchioles below 1 mm are added")

        #expect(throws: PhantomError.self) { try options(plugs: 1.5).validate() }
        #expect(throws: PhantomError.self) {
            try fastPhantomOptions(size: 64).with { $0.mucusPlugFraction = 0.5 }.validate()
        }
    }

    @Test func pluggedBranchesAreWholeSubtreesOfTheWidenedLobe() throws {
        for i in 0..<3 {
            let p = PhantomGenerator(options: options(plugs: 1, size: 256), seed: 1452).plan(case: i)
            let b = try #require(p.bronchiectasis)
            #expect(p.mucusPlugs != nil)
            let plugged = zip(p.airwaySegments, p.airwayIsPlugged).filter { $0.1 }.map(\.0)
            #expect(plugged.count >= 2, "case \(i): \(plugged.count) plugged segments")
            // In the widened lung; lumens from the root's (<= 3 mm) down to 0.6 mm.
            for s in plugged {
                #expect(b.side == 0 ? s.end.x < 0 : s.end.x > 0)
                #expect(s.maxRadiusMM <= MucusPlugs.rootLumenMM.upperBound + 1e-9)
                #expect(Swift.min(s.startRadiusMM, s.endRadiusMM) >= MucusPlugs.smallestLumenMM - 1e-9)
            }
            // A plugged segment's downstream continuation is plugged too: no open airway
            // starts where a plugged one ends (the plug fills a branch to its tips).
            let openStarts = zip(p.airwaySegments, p.airwayIsPlugged).filter { !$0.1 }.map(\.0.start)
            for s in plugged { #expect(!openStarts.contains(s.end)) }
            // Some plugged bronchioles are thinner than any open airway (1 mm lumen).
            #expect(plugged.contains { Swift.min($0.startRadiusMM, $0.endRadiusMM) < 1 })
            // truth.json lists the same segments in patient coordinates.
            let truth = try #require(PhantomTruth.entry(for: p, folder: "c", format: "dicom").bronchiectasis?.mucusPlugs)
            #expect(truth.segmentsMM.count == plugged.count && truth.branches == p.mucusPlugs?.count)
            let first = p.patientPosition(ofAnatomy: plugged[0].start)
            #expect(abs(truth.segmentsMM[0][0] - first.x) < 0.001 && abs(truth.segmentsMM[0][2] - first.z) < 0.001)
        }
    }

    @Test func aPluggedBronchusIsSoftTissueWhereTheOpenOneIsAir() throws {
        let before = PhantomGenerator(options: options(plugs: nil, size: 256), seed: 1453).plan(case: 0)
        let with = PhantomGenerator(options: options(plugs: 1, size: 256), seed: 1453).plan(case: 0)
        let plugs = try #require(with.mucusPlugs)
        // The widest plugged segment that was drawn open before, lying across the plane.
        let candidates = zip(with.airwaySegments, with.airwayIsPlugged)
            .filter { $0.1 && before.airwaySegments.contains($0.0) && Swift.min($0.0.startRadiusMM, $0.0.endRadiusMM) >= 1.5 }
            .map(\.0)
        let segment = try #require(candidates.max { $0.lengthMM < $1.lengthMM })
        let mid = 0.5 * (segment.start + segment.end)
        let k = try #require(nearestPixel(with, mid.x, mid.y))
        let open = renderPlane(before, z: mid.z)[k], filled = renderPlane(with, z: mid.z)[k]
        #expect(open < -700, "open lumen \(open) HU")
        #expect(abs(Double(filled) - plugs.hu) < 60, "plugged lumen \(filled) HU, mucus \(plugs.hu)")
    }
}
