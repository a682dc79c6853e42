/// A tapered capsule: the set of points within `radius(t)` of the segment `start -> end`,
/// where the radius goes linearly from `startRadiusMM` to `endRadiusMM`. Vessels, airways,
/// ribs and the great vessels of the mediastinum are chains of these. Coordinates are the
/// phantom's anatomy frame in mm (x to the patient's left, y posterior, z superior).
public struct TubeSegment: Sendable, Equatable {
    public var start: SIMD3<Double>
    public var end: SIMD3<Double>
    public var startRadiusMM: Double
    public var endRadiusMM: Double

    public init(_ start: SIMD3<Double>, _ end: SIMD3<Double>, _ startRadiusMM: Double, _ endRadiusMM: Double) {
        self.start = start
        self.end = end
        self.startRadiusMM = startRadiusMM
        self.endRadiusMM = endRadiusMM
    }

    public var maxRadiusMM: Double { Swift.max(startRadiusMM, endRadiusMM) }
    public var lengthMM: Double { ((end - start) * (end - start)).sum().squareRoot() }

    /// Signed distance (mm) from `p` to the capsule surface (negative inside), and the
    /// parameter of the closest axis point.
    @inline(__always)
    public func signedDistance(_ p: SIMD3<Double>) -> Double {
        let d = end - start
        let dd = (d * d).sum()
        var t = dd > 0 ? ((p - start) * d).sum() / dd : 0
        t = Swift.min(1, Swift.max(0, t))
        let q = start + t * d - p
        return (q * q).sum().squareRoot() - (startRadiusMM + (endRadiusMM - startRadiusMM) * t)
    }

    /// The capsule with both radii grown by `marginMM`.
    public func dilated(by marginMM: Double) -> TubeSegment {
        TubeSegment(start, end, startRadiusMM + marginMM, endRadiusMM + marginMM)
    }

    /// z extent (mm) of the capsule.
    public var zRange: ClosedRange<Double> {
        let r = maxRadiusMM
        return (Swift.min(start.z, end.z) - r)...(Swift.max(start.z, end.z) + r)
    }
}

/// Float copy of a capsule for the rasteriser's inner loop.
struct TubeRaster {
    var ax: Float, ay: Float, az: Float
    var dx: Float, dy: Float, dz: Float
    var invDD: Float
    var ra: Float, dr: Float
    var rMax: Float
    var zMin: Float, zMax: Float

    init(_ s: TubeSegment) {
        ax = Float(s.start.x); ay = Float(s.start.y); az = Float(s.start.z)
        dx = Float(s.end.x - s.start.x); dy = Float(s.end.y - s.start.y); dz = Float(s.end.z - s.start.z)
        let dd = dx * dx + dy * dy + dz * dz
        invDD = dd > 0 ? 1 / dd : 0
        ra = Float(s.startRadiusMM); dr = Float(s.endRadiusMM - s.startRadiusMM)
        rMax = Float(s.maxRadiusMM)
        zMin = Float(s.zRange.lowerBound); zMax = Float(s.zRange.upperBound)
    }

    /// The x/y box (mm) of the capsule's section by the plane at height `z`, or nil when it
    /// does not reach that plane.
    @inline(__always)
    func sectionBox(z: Float) -> (x0: Float, x1: Float, y0: Float, y1: Float)? {
        guard z >= zMin && z <= zMax else { return nil }
        var t0: Float = 0, t1: Float = 1
        if abs(dz) > 1e-6 {
            let u0 = (z - rMax - az) / dz, u1 = (z + rMax - az) / dz
            t0 = Swift.max(0, Swift.min(u0, u1)); t1 = Swift.min(1, Swift.max(u0, u1))
            if t0 > t1 { return nil }
        }
        let xa = ax + t0 * dx, xb = ax + t1 * dx, ya = ay + t0 * dy, yb = ay + t1 * dy
        return (Swift.min(xa, xb) - rMax, Swift.max(xa, xb) + rMax, Swift.min(ya, yb) - rMax, Swift.max(ya, yb) + rMax)
    }

    /// Signed distance (mm) from (x, y, z) to the surface.
    @inline(__always)
    func signedDistance(x: Float, y: Float, z: Float) -> Float {
        let px = x - ax, py = y - ay, pz = z - az
        var t = (px * dx + py * dy + pz * dz) * invDD
        t = Swift.min(1, Swift.max(0, t))
        let qx = px - t * dx, qy = py - t * dy, qz = pz - t * dz
        return (qx * qx + qy * qy + qz * qz).squareRoot() - (ra + t * dr)
    }
}
