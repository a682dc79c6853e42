import Foundation
import Testing
@testable import Phantoms

/// `PhantomOptions.vesselDensity`: more fine peripheral vessels, the same calibres.
@Suite struct PhantomVesselDensityTests {
    /// Half size keeps the trees (about 1,800 territories a tree at density 1) fast in debug builds.
    private func plan(density: Double?, territories: Int? = nil, seed: UInt64 = 1300) -> PhantomCase {
        var o = PhantomOptions()
        o.size = 256
        o.slices = 150
        o.maxNodules = 8
        o.cleanFraction = 0.1
        o.vesselTerritories = territories
        o.vesselDensity = density
        return PhantomGenerator(options: o, seed: seed).plan(case: 0)
    }

    @Test func densityOneIsTheEarlierTree() {
        let earlier = plan(density: nil)
        let one = plan(density: 1)
        #expect(one.vesselSegments == earlier.vesselSegments)
        #expect(one.nodules.map(\.center) == earlier.nodules.map(\.center))
    }

    @Test func densityTwoAddsPeripheralVesselsAndKeepsCalibres() {
        let one = plan(density: 1)
        let two = plan(density: 2)
        // The same number of territories without the calibre scaling: every branch serves
        // twice the points and is 2^0.34 = 1.27 times as thick.
        let base = Int(4500 * pow(256.0 / 512, 1.3))   // the default at size 256
        let unscaled = plan(density: nil, territories: 2 * base)
        let terminal = one.vesselSegments.map(\.endRadiusMM).min() ?? 0
        let twigsOne = one.vesselSegments.filter { $0.endRadiusMM <= terminal * 1.0001 }.count
        let twigsTwo = two.vesselSegments.filter { $0.endRadiusMM <= terminal * 1.0001 }.count
        let twigRatio = Double(twigsTwo) / Double(twigsOne)
        // Twice the twigs, and the last stem pieces (serving 2 territories, sized as 1) too.
        #expect(twigRatio > 1.8 && twigRatio < 3, "terminal-calibre segments \(twigsOne) -> \(twigsTwo)")
        let peripheralRatio = two.vesselLengthAndVolume(depthMM: 5...20).lengthMM / one.vesselLengthAndVolume(depthMM: 5...20).lengthMM
        #expect(peripheralRatio > 1.4, "vessel length 5-20 mm inside the pleura x\(peripheralRatio)")
        let thickOne = one.vesselVolume(minimumRadiusMM: 1.5)
        let thickTwo = two.vesselVolume(minimumRadiusMM: 1.5)
        let thickUnscaled = unscaled.vesselVolume(minimumRadiusMM: 1.5)
        #expect(abs(thickTwo / thickOne - 1) < 0.15, "thick vessels \(thickOne) -> \(thickTwo) mm3")
        #expect(thickUnscaled / thickOne > 1.3, "unscaled \(thickUnscaled) mm3")
    }

    @Test func densityOutsideItsRangeIsRefused() {
        var o = PhantomOptions()
        o.vesselDensity = 0.5
        #expect(throws: PhantomError.self) { try o.validate() }
        o.vesselDensity = 3.5
        #expect(throws: PhantomError.self) { try o.validate() }
        o.vesselDensity = 2
        #expect(throws: Never.self) { try o.validate() }
    }
}
