import Foundation

/// Calcified plaque in the wall of the thoracic aorta (`PhantomOptions.aorticCalciumFraction`).
///
/// Most smokers over 55 have some: curvilinear specks and plates of calcium along the
/// intima of the aortic arch and the descending aorta, less often the ascending aorta; on
/// lung-screening CT the radiologist reports it as a significant other ("S") finding. The
/// descending aorta runs against the left lower lobe's mediastinal pleura and the arch
/// against the left upper lobe, so a plaque in the lung-facing wall is a bright speck at the
/// lung's edge: outside the lungs, and not to be reported as a nodule.
///
/// Geometry: the aorta is `ChestAnatomy.mediastinalTubes` 4-7 (ascending, arch, arch to
/// descending, descending). A plaque is a row of 1-4 balls of calcium (0.8-2 mm radius,
/// 300-1100 HU) round the circumference, centred at 0.92 of the wall's radius from the axis
/// (the intima, inside the lumen's edge); 2-12 plaques per case, each of the arch's and
/// the descending aorta's three segments four times as likely as the ascending aorta.
enum AorticCalcium {
    /// Indices of the aortic segments in `ChestAnatomy.mediastinalTubes`.
    static let aortaTubes = 4...7
    /// Centre of a plaque ball, as a fraction of the wall's radius from the axis.
    static let intimaFraction = 0.92

    /// A random unit direction across the unit vector `axis`, and the one across both: a
    /// frame to step round a vessel's wall.
    static func acrossAxis(_ axis: SIMD3<Double>, random r: inout PhantomRandom) -> (SIMD3<Double>, SIMD3<Double>) {
        var across = r.unitVector()
        across -= (across * axis).sum() * axis
        across /= Swift.max(1e-9, (across * across).sum().squareRoot())
        return (across, BranchingTree.cross(axis, across))
    }

    static func draw(anatomy a: ChestAnatomy, random r: inout PhantomRandom) -> [CalciumBall] {
        let segments = aortaTubes.map { a.mediastinalTubes[$0].segment }
        // The ascending aorta (segment 0) a quarter as likely as each of the others.
        let weights = [0.25, 1, 1, 1]
        var balls: [CalciumBall] = []
        for _ in 0..<r.int(2...12) {
            var pick = r.uniform(0, weights.reduce(0, +)), k = 0
            while k < weights.count - 1, pick >= weights[k] { pick -= weights[k]; k += 1 }
            let seg = segments[k]
            let t = r.uniform(0.05, 0.95)
            let axisPoint = seg.start + t * (seg.end - seg.start)
            let along = seg.end - seg.start
            let tangent = along / Swift.max(1e-9, (along * along).sum().squareRoot())
            let (across, third) = acrossAxis(tangent, random: &r)
            let wall = seg.startRadiusMM + t * (seg.endRadiusMM - seg.startRadiusMM)
            let radius = r.uniform(0.8, 2.0) * a.scale
            let hu = r.uniform(300, 1100)
            let count = r.int(1...4)
            for j in 0..<count {
                // Adjacent balls overlap: a curved plate along the circumference.
                let angle = Double(j) * 1.2 * radius / (intimaFraction * wall)
                let direction = cos(angle) * across + sin(angle) * third
                balls.append(CalciumBall(center: axisPoint + intimaFraction * wall * direction, radiusMM: radius, hu: hu))
            }
        }
        return balls
    }
}

/// Calcification of the aortic valve (`PhantomOptions.valveCalciumFraction`): in older adults
/// the cusps of the aortic valve calcify (aortic sclerosis, and in aortic stenosis large
/// clumps); on lung-screening CT it is a significant other ("S") finding the radiologist
/// mentions, and in the heart, far from the lungs, it must never be a nodule.
///
/// Geometry: the valve sits in the aortic root, `rootDepthMM` (8 mm at scale 1) back inside
/// the heart's outline along the ascending aorta's axis (`ChestAnatomy.mediastinalTubes` 4;
/// the aorta leaves the heart there). Its three cusps are 120 degrees apart round the axis;
/// each is calcified with chance 0.6 (at least one): 1-3 balls of calcium (1-2.5 mm radius,
/// 400-1200 HU) at 0.35-0.85 of the root's radius from the axis, within 0.3 rad of the
/// cusp's middle, 0-4 mm downstream of the valve plane (in the cusp and its sinus).
enum AorticValveCalcium {
    /// How far (mm at scale 1) back inside the heart's outline the valve plane lies.
    static let rootDepthMM = 8.0

    /// The valve's centre and the ascending aorta's unit direction (away from the heart), and
    /// the root's radius; nil when the ascending aorta never leaves the heart.
    static func valve(_ a: ChestAnatomy) -> (center: SIMD3<Double>, axis: SIMD3<Double>, radiusMM: Double)? {
        let seg = a.mediastinalTubes[AorticCalcium.aortaTubes.lowerBound].segment
        let along = seg.end - seg.start
        let length = (along * along).sum().squareRoot()
        guard length > 1e-9 else { return nil }
        let axis = along / length
        // Where the axis leaves the heart (0.25 mm steps), then back into it.
        var t = 0.0
        while t < length, a.heartDistance(x: seg.start.x + t * axis.x, y: seg.start.y + t * axis.y,
                                          z: seg.start.z + t * axis.z) < 0 { t += 0.25 }
        guard t > 0, t < length else { return nil }
        let back = Swift.max(0, t - rootDepthMM * a.scale)
        return (seg.start + back * axis, axis, seg.startRadiusMM)
    }

    static func draw(anatomy a: ChestAnatomy, random r: inout PhantomRandom) -> [CalciumBall]? {
        guard let (center, axis, rootRadius) = valve(a) else { return nil }
        let (across, third) = AorticCalcium.acrossAxis(axis, random: &r)
        let firstCusp = r.uniform(0, 2 * Double.pi)
        var calcified = (0..<3).map { _ in r.chance(0.6) }
        if !calcified.contains(true) { calcified[r.int(0...2)] = true }
        var balls: [CalciumBall] = []
        for cusp in 0..<3 where calcified[cusp] {
            for _ in 0..<r.int(1...3) {
                let angle = firstCusp + Double(cusp) * 2 * Double.pi / 3 + r.uniform(-0.3, 0.3)
                let radial = r.uniform(0.35, 0.85) * rootRadius
                let downstream = r.uniform(0, 4) * a.scale
                let direction = cos(angle) * across + sin(angle) * third
                balls.append(CalciumBall(center: center + radial * direction + downstream * axis,
                                         radiusMM: r.uniform(1, 2.5) * a.scale, hu: r.uniform(400, 1200)))
            }
        }
        return balls
    }
}
