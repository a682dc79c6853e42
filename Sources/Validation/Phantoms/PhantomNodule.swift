import Foundation

/// Nodule attenuation class (the names are truth.json's).
public enum PhantomNoduleType: String, Sendable, Codable, CaseIterable {
    case solid
    case partSolid = "part-solid"
    case groundGlass = "ground-glass"
}

/// Nodule shape class.
public enum PhantomNoduleShape: String, Sendable, Codable, CaseIterable {
    case spherical, ellipsoidal, lobulated
}

/// Where the nodule sits. `juxtapleural` nodules touch the costal pleura (chest wall,
/// diaphragm); `juxtamediastinal` ones the mediastinal pleura (against the heart, the great
/// vessels' fat or the hilum's side), made only on request
/// (`PhantomOptions.mediastinalNoduleFraction`).
public enum PhantomNoduleLocation: String, Sendable, Codable, CaseIterable {
    case isolated, juxtavascular, juxtapleural, juxtamediastinal
}

/// One synthetic nodule: an analytic solid (sphere, rotated ellipsoid, or sphere with
/// bumps) with an attenuation profile. Coordinates in the anatomy frame (mm).
public struct PhantomNodule: Sendable {
    public var id: String
    public var center: SIMD3<Double>
    /// Nominal radius (mm): the sphere's, the ellipsoid's geometric mean semi-axis, the lobulated base.
    public var radiusMM: Double
    public var type: PhantomNoduleType
    public var shape: PhantomNoduleShape
    public var location: PhantomNoduleLocation
    /// Ellipsoid semi-axes relative to radiusMM (product 1), and its rotation (rows = local axes).
    var semiAxes: SIMD3<Double> = SIMD3(1, 1, 1)
    var rotation: [SIMD3<Double>] = [SIMD3(1, 0, 0), SIMD3(0, 1, 0), SIMD3(0, 0, 1)]
    /// Lobulation bumps: direction and relative height.
    var lobes: [(SIMD3<Double>, Double)] = []
    /// HU of the solid part and of the ground-glass part.
    var solidHU: Double
    var groundGlassHU: Double
    /// Part-solid: radius of the solid core relative to the whole.
    var coreFraction: Double

    /// Signed distance (mm, negative inside; radial approximation) of the outer surface,
    /// with the shape scaled by `k` (1 = whole nodule, coreFraction = solid core).
    @inline(__always)
    func distance(_ p: SIMD3<Double>, k: Double = 1) -> Double {
        let d = p - center
        let r = (d * d).sum().squareRoot()
        let R = radiusMM * k
        switch shape {
        case .spherical:
            return r - R
        case .ellipsoidal:
            let u = SIMD3((rotation[0] * d).sum(), (rotation[1] * d).sum(), (rotation[2] * d).sum())
            let q = u / (semiAxes * R)
            let f = (q * q).sum().squareRoot()
            return f > 1e-12 ? r * (f - 1) / f : -R * semiAxes.min()
        case .lobulated:
            guard r > 1e-9 else { return -R }
            let dir = d / r
            var bump = 0.0
            for (u, h) in lobes {
                let c = Swift.max(0, (dir * u).sum())
                let c2 = c * c
                bump += h * c2 * c2 * c2
            }
            return r - R * (0.86 + bump)
        }
    }

    /// Largest extent from the centre (mm), for bounding boxes.
    public var boundingRadiusMM: Double {
        switch shape {
        case .spherical: return radiusMM
        case .ellipsoidal: return radiusMM * semiAxes.max()
        case .lobulated: return radiusMM * (0.86 + lobes.reduce(0) { $0 + $1.1 })
        }
    }

    /// Volume (mm^3) of the shape, integrated numerically on a fine grid (`steps` per
    /// bounding diameter; the error is well under 1% at 64).
    public func volumeMM3(steps: Int = 64) -> Double {
        let R = boundingRadiusMM * 1.02
        let h = 2 * R / Double(steps)
        var inside = 0
        for k in 0..<steps {
            let z = -R + (Double(k) + 0.5) * h
            for j in 0..<steps {
                let y = -R + (Double(j) + 0.5) * h
                for i in 0..<steps {
                    let x = -R + (Double(i) + 0.5) * h
                    if distance(center + SIMD3(x, y, z)) < 0 { inside += 1 }
                }
            }
        }
        return Double(inside) * h * h * h
    }

    /// Random nodule of the given classes and nominal diameter, centred at the origin.
    static func make(id: String, diameterMM: Double, type: PhantomNoduleType, shape: PhantomNoduleShape,
                     location: PhantomNoduleLocation, random r: inout PhantomRandom) -> PhantomNodule {
        var n = PhantomNodule(id: id, center: .zero, radiusMM: diameterMM / 2, type: type, shape: shape,
                              location: location, solidHU: r.uniform(10, 60),
                              groundGlassHU: r.uniform(-680, -480), coreFraction: r.uniform(0.35, 0.6))
        switch shape {
        case .spherical: break
        case .ellipsoidal:
            let a = r.uniform(1.1, 1.35), b = r.uniform(0.85, 1.0)
            let c = 1 / (a * b)
            n.semiAxes = SIMD3(a, b, c)
            let e0 = r.unitVector()
            var e1 = r.unitVector()
            e1 -= (e1 * e0).sum() * e0
            e1 /= (e1 * e1).sum().squareRoot()
            let e2 = SIMD3(e0.y * e1.z - e0.z * e1.y, e0.z * e1.x - e0.x * e1.z, e0.x * e1.y - e0.y * e1.x)
            n.rotation = [e0, e1, e2]
        case .lobulated:
            let count = r.int(5...8)
            n.lobes = (0..<count).map { _ in (r.unitVector(), r.uniform(0.18, 0.34)) }
        }
        return n
    }
}
