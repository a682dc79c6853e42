import Foundation
@testable import Phantoms

/// Sums over a planned case's vessel segments, shared by the vessel-tree tests.
extension PhantomCase {
    /// Volume (mm3) of the vessel segments at least `minimumRadiusMM` thick (mean of the
    /// segment's end radii): hilar, lobar and segmental branches for a few millimetres.
    func vesselVolume(minimumRadiusMM: Double) -> Double {
        vesselSegments.reduce(0) { sum, s in
            let r = 0.5 * (s.startRadiusMM + s.endRadiusMM)
            guard r >= minimumRadiusMM else { return sum }
            let d = s.end - s.start
            return sum + Double.pi * r * r * (d * d).sum().squareRoot()
        }
    }

    /// Length (mm) and volume (mm3) of the vessel segments whose midpoint lies `depthMM`
    /// inside the pleura.
    func vesselLengthAndVolume(depthMM: ClosedRange<Double>) -> (lengthMM: Double, volumeMM3: Double) {
        var length = 0.0, volume = 0.0
        for s in vesselSegments {
            let depth = -anatomy.lungDistance(0.5 * (s.start + s.end)).distanceMM
            guard depthMM.contains(depth) else { continue }
            let d = s.end - s.start
            let l = (d * d).sum().squareRoot()
            let r = 0.5 * (s.startRadiusMM + s.endRadiusMM)
            length += l
            volume += Double.pi * r * r * l
        }
        return (length, volume)
    }
}
