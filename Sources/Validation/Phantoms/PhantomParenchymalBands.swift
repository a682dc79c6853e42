import Foundation

/// Parenchymal bands (`PhantomOptions.scarFraction`): linear scars of old infection or
/// atelectasis, common on screening CT of smokers and older patients. The Fleischner Society
/// glossary (Hansell et al., Radiology 2008;246:697-722): "an elongated opacity, usually 1-3 mm
/// thick and up to 5 cm long, that usually extends to the visceral pleura, which may be
/// thickened and retracted at the site of contact".
///
/// Why the generator draws them: a band cut obliquely, or the thickened pleura where it
/// meets the chest wall, is a short bright streak or a small juxtapleural blob in one slice,
/// a classic nodule mimic; a detector must not report them. They are not nodules, so truth.json
/// lists them under `parenchymal_bands`, and `triage evaluate` counts a finding on one as a
/// false positive, as a radiologist would.
///
/// Geometry: a polyline of 4 capsules (`TubeSegment`) within 15 degrees of the axial plane,
/// from a point on the costal pleura (extending 1.5 mm into the chest wall, so it is joined
/// to it) inwards for 15-45 mm, each joint displaced up to 1.5 mm sideways (real bands are
/// not straight), 1-3 mm thick and 40 % thinner at the inner end; at the pleura a thickening
/// of twice that radius over the outer 3 mm. Fibrous tissue, -80 to +30 HU before the point
/// spread. 1-3 bands per case, 60 % in the upper half of a lung (apical scarring is the
/// commonest), at least 8 mm from every nodule's surface and 10 mm from each other.
public struct ParenchymalBand: Sendable, Equatable {
    /// The capsules, outermost (at the pleura) first, in the anatomy frame (mm).
    public var segments: [TubeSegment]
    /// HU of the band before the point spread.
    public var hu: Double

    /// Length (mm) along the polyline.
    public var lengthMM: Double { segments.reduce(0) { $0 + $1.lengthMM } }

    /// Signed distance (mm, negative inside) to the band.
    public func signedDistance(_ p: SIMD3<Double>) -> Double {
        segments.reduce(Double.infinity) { Swift.min($0, $1.signedDistance(p)) }
    }

    /// 1-3 bands (fewer when no place fits after 300 tries each); nil when none fits.
    /// `covered` (a point, a radius) says what hides a point (fluid, consolidation, ground glass).
    static func draw(anatomy a: ChestAnatomy, nodules: [PhantomNodule], random r: inout PhantomRandom,
                     covered: (SIMD3<Double>, Double) -> Bool) -> [ParenchymalBand]? {
        var placed: [ParenchymalBand] = []
        for _ in 0..<r.int(1...3) {
            let radius = r.uniform(0.5, 1.5)
            let length = r.uniform(15, 45)
            let hu = r.uniform(-80, 30)
            let side = r.int(0...1)
            let upper = r.chance(0.6)
            let (lo, hi) = a.lungBounds(side: side)
            let mid = (lo.z + hi.z) / 2
            tries: for _ in 0..<300 {
                // An inner point deep in the lung, and a direction within 15 degrees of the
                // axial plane: on axial images a band shows as a line (steeper, it is a dot in
                // each slice, which the vessels seen end-on already give plenty of).
                let inner = SIMD3(r.uniform(lo.x, hi.x), r.uniform(lo.y, hi.y),
                                  upper ? r.uniform(mid, hi.z) : r.uniform(lo.z, mid))
                let (innerDepth, innerSide) = a.lungDistance(inner)
                guard innerSide == side, innerDepth < -(radius + 4) else { continue }
                let azimuth = r.uniform(0, 2 * Double.pi), elevation = r.uniform(-0.26, 0.26)
                let direction = SIMD3(cos(elevation) * cos(azimuth), cos(elevation) * sin(azimuth), sin(elevation))
                // March outwards to the pleura.
                var t = 0.0, pleura: SIMD3<Double>? = nil
                while t < length {
                    t += 0.5
                    let p = inner + t * direction
                    if a.lungDistance(p).distanceMM >= 0 { pleura = p; break }
                }
                // Costal pleura only: a band to the mediastinum or the diaphragm is another story.
                guard let q = pleura, t >= 15, !a.isBeyondMediastinalSurface(q + 1.0 * direction, side: side) else { continue }
                let start = q + 1.5 * direction
                let end = q - length * direction
                guard a.lungDistance(end).distanceMM < -(radius + 2) else { continue }
                // Joints displaced sideways, across the band's direction.
                var across = r.unitVector()
                across -= (across * direction).sum() * direction
                across /= Swift.max(1e-9, (across * across).sum().squareRoot())
                var points = [start]
                for k in 1...3 {
                    points.append(start + (Double(k) / 4) * (end - start) + r.uniform(-1.5, 1.5) * across)
                }
                points.append(end)
                var segments: [TubeSegment] = []
                for k in 0..<4 {
                    let r0 = radius * (1 - 0.1 * Double(k)), r1 = radius * (1 - 0.1 * Double(k + 1))
                    segments.append(TubeSegment(points[k], points[k + 1], r0, r1))
                }
                // The pleural thickening where it meets the chest wall.
                segments.insert(TubeSegment(start, q - 1.5 * direction, 2 * radius, radius), at: 0)
                let band = ParenchymalBand(segments: segments, hu: hu)
                for point in stride(from: 0.0, through: 1.0, by: 0.1).map({ start + $0 * (end - start) }) {
                    guard !covered(point, 2 * radius) else { continue tries }
                    for n in nodules {
                        let v = n.center - point
                        if (v * v).sum().squareRoot() <= n.boundingRadiusMM + 2 * radius + 8 { continue tries }
                    }
                    for other in placed where other.signedDistance(point) < 10 { continue tries }
                }
                placed.append(band)
                break
            }
        }
        return placed.isEmpty ? nil : placed
    }
}
