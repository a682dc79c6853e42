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
            // A direction across the axis, and the one across both, to step round the wall.
            var across = r.unitVector()
            across -= (across * tangent).sum() * tangent
            across /= Swift.max(1e-9, (across * across).sum().squareRoot())
            let third = SIMD3(tangent.y * across.z - tangent.z * across.y,
                              tangent.z * across.x - tangent.x * across.z,
                              tangent.x * across.y - tangent.y * across.x)
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
