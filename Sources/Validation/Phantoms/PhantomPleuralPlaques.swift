import Foundation

/// Pleural plaques (`PhantomOptions.pleuralPlaqueFraction`): discrete, flat thickenings of the
/// parietal pleura after asbestos exposure, the commonest asbestos-related finding and frequent
/// on screening CT of older men who worked in building, shipyards or industry. Roach et al.,
/// "Asbestos: when the dust settles", RadioGraphics 2002;22:S167-S184: "discrete, well-defined
/// ... plateau-like elevations", usually bilateral, on the posterolateral chest wall along the
/// 6th-10th ribs, the lateral chest wall and the domes of the diaphragm, sparing the apices and
/// the costophrenic angles; calcified in about 10-15 % on radiographs and more often on CT.
///
/// Why the generator draws them: seen in one axial slice a plaque is a flat soft-tissue bump
/// on the pleura, a classic mimic of a nodule touching the pleura; its calcified layer, a bright
/// line or fleck. A detector must not report one, and a finding on one lies **outside the
/// lungs** (in the parietal pleura): truth.json lists plaques under `pleural_plaques`, and
/// `PhantomLungCheck` counts a finding centred inside one as outside by its depth in it.
///
/// Geometry: a footprint ellipse on the lung's surface (semi-axes 5-25 mm along the surface,
/// the long one horizontal on the chest wall, as plaques follow the ribs; any direction on
/// the dome), raised into the lung by `thicknessMM` (1.5-5 mm) with a flat top and steep
/// edges (height = thickness x sqrt(1 - rho^6), rho the footprint radius from 0 at the centre
/// to 1 at the edge), measured from the curved surface itself (`ChestAnatomy.lungDistance`),
/// so the plaque hugs the chest wall or the dome; it reaches 1.5 mm into the wall, so it is
/// joined to it. Hyalinised collagen, 30-70 HU before the point spread; in 30 % of plaques a
/// calcified layer (250-800 HU) along the parietal side, the outer 40 % of the thickness
/// within rho 0.85. 2-8 plaques per case, three quarters on the costal pleura between 25 %
/// and 70 % of the lung's height, facing anterolateral to posterior, the rest on the domes;
/// 8 mm clear of every nodule's surface, 5 mm of each other, and not under fluid,
/// consolidation or ground glass.
public struct PleuralPlaque: Sendable, Equatable {
    /// Centre of the footprint, on the lung's surface (anatomy frame, mm).
    public var center: SIMD3<Double>
    /// Unit normal of the surface there, pointing into the lung.
    public var inward: SIMD3<Double>
    /// Unit tangents along the footprint's long and short axes.
    public var longAxis: SIMD3<Double>
    public var shortAxis: SIMD3<Double>
    public var halfLengthMM: Double
    public var halfWidthMM: Double
    /// Height of the flat top above the pleura (mm).
    public var thicknessMM: Double
    /// Soft-tissue HU before the point spread.
    public var hu: Double
    /// HU of the calcified layer; nil when the plaque is not calcified.
    public var calciumHU: Double?
    /// Side (0 right, 1 left) and whether it lies on the diaphragm rather than the chest wall.
    public var side: Int
    public var onDiaphragm: Bool

    /// How far (mm) beyond the lung's surface the plaque reaches into the chest wall or the
    /// diaphragm.
    static let wallReachMM = 1.5

    /// Footprint radius of `p`: 0 at the centre, 1 on the edge of the ellipse.
    @inline(__always)
    func footprintRadius(_ p: SIMD3<Double>) -> Double {
        let d = p - center
        let u = (d * longAxis).sum() / halfLengthMM, v = (d * shortAxis).sum() / halfWidthMM
        return (u * u + v * v).squareRoot()
    }

    /// Height (mm) of the plaque above the pleura at footprint radius `rho`: a flat top that
    /// falls steeply at the edge.
    @inline(__always)
    func heightMM(footprintRadius rho: Double) -> Double {
        let r3 = rho * rho * rho
        return thicknessMM * Swift.max(0, 1 - r3 * r3).squareRoot()
    }

    /// Approximate signed distance (mm, negative inside) of `p` to the plaque, given its signed
    /// distance to the lung's surface (`ChestAnatomy.lungDistance`, negative inside the lung).
    /// Exact across the thickness, which is what the partial-volume edge needs; the footprint's
    /// edge is scaled by the short semi-axis.
    @inline(__always)
    func signedDistance(_ p: SIMD3<Double>, lungDistanceMM d: Double) -> Double {
        let rho = footprintRadius(p)
        let h = heightMM(footprintRadius: Swift.min(rho, 1))
        return Swift.max(-h - d, d - Self.wallReachMM, (rho - 1) * halfWidthMM)
    }

    /// Signed distance (mm) to the calcified layer, or infinity when there is none.
    @inline(__always)
    func calciumSignedDistance(_ p: SIMD3<Double>, lungDistanceMM d: Double) -> Double {
        guard calciumHU != nil else { return .infinity }
        let rho = footprintRadius(p)
        let h = heightMM(footprintRadius: Swift.min(rho, 1))
        return Swift.max(-0.4 * h - d, d - 0.5, (rho - 0.85) * halfWidthMM)
    }

    /// Axis-aligned box (mm) that holds the plaque.
    var bounds: (min: SIMD3<Double>, max: SIMD3<Double>) {
        let reach = halfLengthMM + thicknessMM + Self.wallReachMM + 1
        return (center - reach, center + reach)
    }

    /// Unit normal of the lung's surface at `q`, pointing into the lung (central differences
    /// of the signed distance).
    static func inwardNormal(_ a: ChestAnatomy, at q: SIMD3<Double>) -> SIMD3<Double> {
        let h = 0.5
        var g = SIMD3<Double>.zero
        for k in 0..<3 {
            var e = SIMD3<Double>.zero
            e[k] = h
            g[k] = a.lungDistance(q + e).distanceMM - a.lungDistance(q - e).distanceMM
        }
        let n = (g * g).sum().squareRoot()
        return n > 1e-9 ? -g / n : SIMD3(0, 0, -1)
    }

    /// 2-8 plaques (fewer when no place fits after 300 tries each); nil when none fits.
    /// `covered` (a point, a radius) says what hides a point (fluid, consolidation, ground glass).
    static func draw(anatomy a: ChestAnatomy, nodules: [PhantomNodule], random r: inout PhantomRandom,
                     covered: (SIMD3<Double>, Double) -> Bool) -> [PleuralPlaque]? {
        var placed: [PleuralPlaque] = []
        for _ in 0..<r.int(2...8) {
            let halfLength = r.uniform(5, 25) * a.scale
            let halfWidth = Swift.max(4 * a.scale, halfLength * r.uniform(0.4, 0.8))
            let thickness = Swift.min(r.uniform(1.5, 5), 0.6 * halfWidth)
            let hu = r.uniform(30, 70)
            let calcium: Double? = r.chance(0.3) ? r.uniform(250, 800) : nil
            let side = r.int(0...1)
            let diaphragm = r.chance(0.25)
            let spin = r.uniform(0, 2 * Double.pi)
            let (lo, hi) = a.lungBounds(side: side)
            let centreX = (lo.x + hi.x) / 2, centreY = (lo.y + hi.y) / 2
            tries: for _ in 0..<300 {
                // A start deep in the lung, then a march outwards (costal) or down (dome) to the
                // first point outside it.
                let start: SIMD3<Double>, direction: SIMD3<Double>
                if diaphragm {
                    start = SIMD3(r.uniform(lo.x, hi.x), r.uniform(lo.y, hi.y), lo.z + r.uniform(0.3, 0.45) * (hi.z - lo.z))
                    direction = SIMD3(0, 0, -1)
                } else {
                    // Anterolateral (-40 degrees) through lateral (0) to posterior (110): x is to
                    // the patient's left, so the right lung's lateral is -x; y is posterior.
                    let theta = r.uniform(-40, 110) * Double.pi / 180
                    let lateral = side == 0 ? -1.0 : 1.0
                    start = SIMD3(centreX, centreY, lo.z + r.uniform(0.25, 0.7) * (hi.z - lo.z))
                    direction = SIMD3(lateral * cos(theta), sin(theta), 0)
                }
                let (startDepth, startSide) = a.lungDistance(start)
                guard startSide == side, startDepth < -8 else { continue }
                var t = 0.0, surface: SIMD3<Double>? = nil
                while t < 250 {
                    t += 0.25
                    let p = start + t * direction
                    if a.lungDistance(p).distanceMM >= 0 { surface = p - 0.125 * direction; break }
                }
                guard let q = surface else { continue }
                let inward = inwardNormal(a, at: q)
                var longAxis: SIMD3<Double>
                if diaphragm {
                    // The top of the dome, not the recesses or the mediastinal corner.
                    guard inward.z > 0.8, !a.isBeyondMediastinalSurface(q + 1.0 * direction, side: side) else { continue }
                    longAxis = SIMD3(cos(spin), sin(spin), 0)
                } else {
                    // The costal pleura: not the mediastinum, and with lung below (no
                    // costophrenic angle) and a surface that faces sideways.
                    guard abs(inward.z) < 0.5, !a.isBeyondMediastinalSurface(q + 1.0 * direction, side: side),
                          a.lungDistance(q - 6 * direction + SIMD3(0, 0, -halfLength - 8)).distanceMM < 0 else { continue }
                    longAxis = BranchingTree.cross(inward, SIMD3(0, 0, 1))
                }
                // Tangent frame: the long axis projected onto the surface, the short one across.
                longAxis -= (longAxis * inward).sum() * inward
                longAxis /= Swift.max(1e-9, (longAxis * longAxis).sum().squareRoot())
                let shortAxis = BranchingTree.cross(inward, longAxis)
                let plaque = PleuralPlaque(center: q, inward: inward, longAxis: longAxis, shortAxis: shortAxis,
                                           halfLengthMM: halfLength, halfWidthMM: halfWidth, thicknessMM: thickness,
                                           hu: hu, calciumHU: calcium, side: side, onDiaphragm: diaphragm)
                // The footprint's rim, checked: on this lung's costal or diaphragmatic surface
                // (a rim point pushed 2 mm into the lung is in this lung), clear of nodules,
                // other plaques and pathology.
                let rim = (0..<12).map { k -> SIMD3<Double> in
                    let angle = Double(k) * Double.pi / 6
                    return q + 0.9 * (halfLength * cos(angle) * longAxis + halfWidth * sin(angle) * shortAxis)
                }
                for point in rim {
                    let (depth, rimSide) = a.lungDistance(point + 2 * inward)
                    guard rimSide == side, depth < -0.5, abs(a.lungDistance(point).distanceMM) < 3 else { continue tries }
                }
                for point in [q] + rim {
                    guard !covered(point, thickness + 2) else { continue tries }
                    for n in nodules {
                        let v = n.center - point
                        if (v * v).sum().squareRoot() <= n.boundingRadiusMM + thickness + 8 { continue tries }
                    }
                }
                for other in placed {
                    let v = other.center - q
                    if (v * v).sum().squareRoot() < other.halfLengthMM + halfLength + 5 { continue tries }
                }
                placed.append(plaque)
                break
            }
        }
        return placed.isEmpty ? nil : placed
    }
}
