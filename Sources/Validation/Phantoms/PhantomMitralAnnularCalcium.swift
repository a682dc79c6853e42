import Foundation

/// Mitral annular calcification (`PhantomOptions.mitralCalciumFraction`): with age the
/// fibrous ring that holds the mitral valve calcifies, most often along its posterior part,
/// as a dense C- or U-shaped band at the junction of the left atrium and ventricle (Abramowitz
/// et al., "Mitral annulus calcification", J Am Coll Cardiol 2015;66:1934-1941). On
/// lung-screening CT it is an "other" finding of the heart; deep in the heart, it must never
/// be a nodule.
///
/// Geometry: the annulus is a circle of 13-17 mm radius centred 1.5 mm on the ventricle's
/// side of the atrioventricular plane (`ChestAnatomy.atrioventricularU`), at the left
/// ventricle's offset across the septum. Its plane faces the apex as a real one does: the
/// normal points along the heart's long axis seen from above, 35-45 degrees below the
/// horizontal (the phantom's heart is level in revision 3 and tilted only 20-30 degrees in
/// revision 4, which would stand the ring upright, one dot per axial slice). The calcified arc
/// is centred (within 0.3 rad) on the ring's posterior-left side (the heart's +v, in the
/// ring's plane) and spans 60-240 degrees: a chain of overlapping balls of calcium (1.2-2.5 mm
/// radius, each within 30 % of the case's size; 500-1200 HU), nodular where they are larger.
enum MitralAnnularCalcium {
    /// The annulus's centre in the heart's frame.
    static func centerInHeartFrame(_ a: ChestAnatomy) -> SIMD3<Double> {
        SIMD3(a.atrioventricularU + 1.5 * a.scale, a.leftVentricleOffsetV, 0)
    }

    /// The annulus's centre (anatomy frame) and the unit normal of its plane for an elevation
    /// (radians below the horizontal).
    static func plane(_ a: ChestAnatomy, elevation: Double) -> (center: SIMD3<Double>, normal: SIMD3<Double>) {
        let c = centerInHeartFrame(a)
        let origin = a.anatomyPoint(u: 0, v: 0, w: 0)
        let longAxis = a.anatomyPoint(u: 1, v: 0, w: 0) - origin
        let level = BranchingTree.normalized(SIMD3(longAxis.x, longAxis.y, 0))
        return (a.anatomyPoint(u: c.x, v: c.y, w: c.z), level * cos(elevation) - SIMD3(0, 0, sin(elevation)))
    }

    static func draw(anatomy a: ChestAnatomy, random r: inout PhantomRandom) -> [CalciumBall] {
        let radius = r.uniform(13, 17) * a.scale
        let middle = r.uniform(-0.3, 0.3)
        let span = r.uniform(60, 240) * Double.pi / 180
        let size = r.uniform(1.2, 2.5) * a.scale
        let hu = r.uniform(500, 1200)
        let (center, normal) = plane(a, elevation: r.uniform(35, 45) * Double.pi / 180)
        // In the ring's plane: towards the heart's posterior-left (+v), and the third axis.
        let vAxis = a.anatomyPoint(u: 0, v: 1, w: 0) - a.anatomyPoint(u: 0, v: 0, w: 0)
        let posterior = BranchingTree.normalized(vAxis - (vAxis * normal).sum() * normal)
        let third = BranchingTree.cross(normal, posterior)
        var balls: [CalciumBall] = []
        var angle = middle - span / 2
        while angle <= middle + span / 2 {
            let ball = Swift.min(2.5 * a.scale, Swift.max(1.2 * a.scale, size * r.uniform(0.7, 1.3)))
            let point = center + radius * (cos(angle) * posterior + sin(angle) * third)
            balls.append(CalciumBall(center: point, radiusMM: ball, hu: hu * r.uniform(0.85, 1.0)))
            // Neighbours overlap: a continuous band (the next centre 1.1 ball radii on).
            angle += 1.1 * ball / radius
        }
        return balls
    }
}
