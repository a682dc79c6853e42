import Foundation

/// Coronary arteries and their calcified plaques (`PhantomOptions.coronaryCalciumFraction`).
///
/// On the non-contrast low-dose CT of lung screening the coronary arteries are soft-tissue
/// tubes of 1-4 mm in the epicardial fat of the heart's grooves, and in most smokers over 55
/// some of them carry calcified plaque: bright specks and streaks along the proximal
/// arteries that the radiologist reports as a significant other finding (Lung-RADS "S"
/// modifier; coronary calcium on screening CT predicts cardiac events, Hecht et al., "CAC
/// scoring on non-gated chest CT", J Cardiovasc Comput Tomogr 2017;11:74-84). Without them
/// the heart is a smooth ball in fat. They lie outside the lungs, so the detector must not
/// report them.
///
/// Geometry, on the heart ellipsoid (`ChestAnatomy.heartDistance`'s frame: u along the long
/// axis, apex at +u; v across it in the axial plane; w the third axis):
/// - the atrioventricular groove, a ring round the heart a third of the way from base to
///   apex, carries the right coronary artery on one side and the circumflex on the other;
/// - the anterior interventricular groove carries the left anterior descending artery from
///   that ring to the apex, the posterior one the posterior descending artery two thirds of
///   the way; each runs on the myocardium's surface in a sleeve of fat that indents the
///   myocardium (the groove) and fills out the epicardial fat, tapering from 1.8 to 0.8 mm
///   radius.
/// Plaques: 1-12 balls of calcium (0.7-2 mm radius, 300-1000 HU) on the wall of the
/// proximal 60 % of the three main arteries.
public struct CoronaryArteries: Sendable, Equatable {
    /// Right coronary, circumflex, left anterior descending and posterior descending
    /// arteries, each a chain of capsules (anatomy frame, mm).
    public let arteries: [[TubeSegment]]
    /// Calcified plaques (empty: arteries without calcium).
    public let plaques: [CalciumBall]
    /// Box (anatomy frame) holding every artery with its fat sleeve.
    public let lo: SIMD3<Double>
    public let hi: SIMD3<Double>
    /// Fat round each artery, mm beyond its radius.
    static let sleeveMM = 2.2

    /// The arteries of `a`'s heart; plaques in the proportion `calcified` asks for.
    static func draw(anatomy a: ChestAnatomy, calcified: Bool, random r: inout PhantomRandom) -> CoronaryArteries {
        let axes = a.heartSemiAxes
        // Heart frame (u, v, w) -> anatomy frame, the inverse of `heartDistance`'s rotation.
        func point(u: Double, theta: Double, outMM: Double) -> SIMD3<Double> {
            let rho = (1 - Swift.min(0.98, (u / axes.x) * (u / axes.x))).squareRoot()
            let v = axes.y * rho * cos(theta), w = axes.z * rho * sin(theta)
            // Outwards along the ellipse's normal in the (v, w) plane.
            var n = SIMD2(cos(theta) / axes.y, sin(theta) / axes.z)
            n /= (n * n).sum().squareRoot()
            let vo = v + n.x * outMM, wo = w + n.y * outMM
            let u0 = a.heartTiltCos * u + a.heartTiltSin * wo
            let dz = -a.heartTiltSin * u + a.heartTiltCos * wo
            return a.heartCenter + SIMD3(a.heartCos * u0 + a.heartSin * vo, -a.heartSin * u0 + a.heartCos * vo, dz)
        }
        func chain(_ points: [SIMD3<Double>], from r0: Double, to r1: Double) -> [TubeSegment] {
            let n = Double(points.count - 1)
            return (0..<points.count - 1).map { k in
                TubeSegment(points[k], points[k + 1], (r0 + (r1 - r0) * Double(k) / n) * a.scale,
                            (r0 + (r1 - r0) * Double(k + 1) / n) * a.scale)
            }
        }
        let out = 0.5 * a.scale
        let uGroove = -axes.x * r.uniform(0.25, 0.4)
        // -v faces forwards (`ChestAnatomy`'s heart angle turns the apex left and anterior).
        let anterior = Double.pi + r.uniform(-0.25, 0.25)
        let crux = r.uniform(-0.25, 0.25)
        let steps = 12
        let right = (0...steps).map { k in
            point(u: uGroove, theta: anterior + Double(k) / Double(steps) * (2 * .pi + crux - anterior), outMM: out)
        }
        let left = (0...steps).map { k in point(u: uGroove, theta: anterior - Double(k) / Double(steps) * (anterior - crux), outMM: out) }
        let lad = (0...steps).map { k in
            point(u: uGroove + Double(k) / Double(steps) * (0.92 * axes.x - uGroove), theta: anterior + 0.15 * Double(k) / Double(steps), outMM: out)
        }
        let pda = (0...8).map { k in point(u: uGroove + Double(k) / 8 * (0.6 * axes.x - uGroove), theta: crux, outMM: out) }
        let arteries = [chain(right, from: 1.8, to: 1.0), chain(left, from: 1.7, to: 1.0),
                        chain(lad, from: 1.8, to: 0.8), chain(pda, from: 1.1, to: 0.8)]
        var plaques: [CalciumBall] = []
        if calcified {
            for _ in 0..<r.int(1...12) {
                let artery = arteries[r.int(0...2)]
                let seg = artery[r.int(0...(artery.count * 6 / 10))]
                let t = r.uniform(0, 1)
                let axis = seg.start + t * (seg.end - seg.start)
                var dir = r.unitVector()
                let along = seg.end - seg.start
                dir -= (dir * along).sum() / Swift.max(1e-9, (along * along).sum()) * along
                dir /= Swift.max(1e-9, (dir * dir).sum().squareRoot())
                let wall = seg.startRadiusMM + t * (seg.endRadiusMM - seg.startRadiusMM)
                plaques.append(CalciumBall(center: axis + dir * 0.7 * wall, radiusMM: r.uniform(0.7, 2.0) * a.scale,
                                      hu: r.uniform(300, 1000)))
            }
        }
        let reach = (1.8 + sleeveMM + 0.5) * a.scale
        let all = arteries.flatMap { $0.flatMap { [$0.start, $0.end] } }
        let lo = all.reduce(SIMD3(repeating: Double.infinity)) { pointwiseMin($0, $1) } - SIMD3(repeating: reach)
        let hi = all.reduce(SIMD3(repeating: -Double.infinity)) { pointwiseMax($0, $1) } + SIMD3(repeating: reach)
        return CoronaryArteries(arteries: arteries, plaques: plaques, lo: lo, hi: hi)
    }
}
