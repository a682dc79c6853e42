import Foundation

/// Beam-hardening artefact from bone and iodine (Joseph & Spital, "A method for correcting
/// bone induced artifacts in computed tomography scanners", J Comput Assist Tomogr 1978;
/// 2:100-108; Barrett & Keat, RadioGraphics 2004;24:1679-1691).
///
/// A scanner's beam is polychromatic: a ray through dense material loses its soft photons
/// first, so the measured attenuation grows more slowly than the path length. Scanners
/// linearise for water; what remains is an error in each ray's line integral that grows with
/// the square of the dense (bone, iodine) material it crosses. Filtered back projection
/// spreads that error along the rays: **dark bands between two dense objects** (the shoulders
/// and scapulae at the thoracic inlet, vertebra and ribs, the contrast-filled heart and the
/// spine) and a darker centre inside thick bone (cupping). Simulated the way it arises, per
/// slice on a coarse grid (about 3 mm pixels: the artefact is smooth across a few mm):
///
///     rendered slice (HU) -> dense excess rho = clamp(HU - 100, 0, 1900) / 1000 (coarse grid)
///       -> parallel projections p(theta, t) = line integrals of rho (mm)
///       -> error e = -k p^2 -> ramp-filtered back projection -> x 1000 HU, added
///
/// `k` (per mm) is drawn per case. The projections and the reconstruction are those of the
/// textbook parallel-beam geometry (Kak & Slaney, Principles of Computerized Tomographic
/// Imaging, 1988, ch. 3: Ram-Lak filter in the spatial domain).
public struct BeamHardening: Sendable, Equatable {
    /// Error coefficient k (1/mm): a ray crossing p mm of dense excess loses k p^2 of it.
    public let coefficientPerMM: Double

    static func draw(random r: inout PhantomRandom) -> BeamHardening {
        BeamHardening(coefficientPerMM: r.uniform(0.006, 0.018))
    }

    /// Coarse-grid factor for a slice of `columns` (about 128 pixels across).
    static func coarseFactor(columns: Int) -> Int { Swift.max(1, columns / 128) }

    /// Adds the artefact to `image` (`columns` x `rows`, row-major HU, square pixels of
    /// `pixelMM`).
    func apply(to image: UnsafeMutableBufferPointer<Float>, columns: Int, rows: Int, pixelMM: Double) {
        let f = BeamHardening.coarseFactor(columns: columns)
        let n = Swift.max(columns, rows) / f
        guard n >= 8 else { return }
        // Dense excess on the coarse grid (square, centred; means of f x f blocks).
        var rho = [Double](repeating: 0, count: n * n)
        let x0 = (n * f - columns) / 2, y0 = (n * f - rows) / 2
        for y in 0..<rows {
            let cy = (y + y0) / f
            guard cy >= 0 && cy < n else { continue }
            for x in 0..<columns {
                let cx = (x + x0) / f
                guard cx >= 0 && cx < n else { continue }
                // Capped at cortical bone: metal (a pacemaker) has its own streaks.
                rho[cy * n + cx] += Double(Swift.min(Swift.max(0, image[y * columns + x] - 100), 1900)) / 1000
            }
        }
        let block = Double(f * f)
        for i in rho.indices { rho[i] /= block }
        let cellMM = pixelMM * Double(f)
        let k = coefficientPerMM
        let error = BeamHardening.reconstruct(
            BeamHardening.project(rho, size: n, cellMM: cellMM).map { -k * $0 * $0 }, size: n, cellMM: cellMM)
        // Back to the slice (bilinear from the coarse cell centres), in HU.
        for y in 0..<rows {
            let gy = (Double(y + y0) + 0.5) / Double(f) - 0.5
            let iy = Swift.min(Swift.max(Int(gy.rounded(.down)), 0), n - 2)
            let wy = Swift.min(Swift.max(gy - Double(iy), 0), 1)
            for x in 0..<columns {
                let gx = (Double(x + x0) + 0.5) / Double(f) - 0.5
                let ix = Swift.min(Swift.max(Int(gx.rounded(.down)), 0), n - 2)
                let wx = Swift.min(Swift.max(gx - Double(ix), 0), 1)
                let top = error[iy * n + ix] * (1 - wx) + error[iy * n + ix + 1] * wx
                let bottom = error[(iy + 1) * n + ix] * (1 - wx) + error[(iy + 1) * n + ix + 1] * wx
                image[y * columns + x] += Float(1000 * (top * (1 - wy) + bottom * wy))
            }
        }
    }

    /// Number of projection angles over 180 degrees and detector bins for an n x n grid.
    static func geometry(size n: Int) -> (angles: Int, bins: Int) {
        (angles: n, bins: Int((Double(n) * 2.0.squareRoot()).rounded(.up)) | 1)
    }

    /// The parallel-beam geometry `project` and `reconstruct` share: the grid's centre and
    /// the central bin (in cells), and each angle's direction (cos, sin).
    private static func rays(size n: Int) -> (centre: Double, half: Double, directions: [(c: Double, s: Double)]) {
        let (angles, bins) = geometry(size: n)
        let directions = (0..<angles).map { a -> (c: Double, s: Double) in
            let theta = Double.pi * Double(a) / Double(angles)
            return (c: cos(theta), s: sin(theta))
        }
        return (centre: Double(n - 1) / 2, half: Double(bins - 1) / 2, directions: directions)
    }

    /// Parallel projections of `values` (n x n, cells of `cellMM`, centred on the grid's
    /// centre): angle-major, `bins` detector bins of one cell each, line integrals in value x mm
    /// (bilinear samples every cell along each ray).
    static func project(_ values: [Double], size n: Int, cellMM: Double) -> [Double] {
        let (angles, bins) = geometry(size: n)
        let (centre, half, directions) = rays(size: n)
        var out = [Double](repeating: 0, count: angles * bins)
        for (a, (c, s)) in directions.enumerated() {
            for b in 0..<bins {
                let t = Double(b) - half
                var sum = 0.0
                // Points t (c, s) + u (-s, c): only the u where the ray is inside the grid
                // (x = centre + t c - u s and y = centre + t s + u c both in [0, n - 1]).
                var uLow = -half, uHigh = half
                func clip(offset: Double, slope: Double) {
                    guard abs(slope) > 1e-12 else { return }
                    let a = -offset / slope, b = (Double(n - 1) - offset) / slope
                    uLow = Swift.max(uLow, Swift.min(a, b))
                    uHigh = Swift.min(uHigh, Swift.max(a, b))
                }
                clip(offset: centre + t * c, slope: -s)
                clip(offset: centre + t * s, slope: c)
                // Samples stay on the same lattice (u = -half + integer) whatever the range.
                var u = -half + Swift.max(0, (uLow + half).rounded(.up))
                while u <= uHigh {
                    let x = centre + t * c - u * s, y = centre + t * s + u * c
                    if x >= 0, y >= 0, x <= Double(n - 1), y <= Double(n - 1) {
                        let ix = Swift.min(Int(x), n - 2), iy = Swift.min(Int(y), n - 2)
                        let wx = x - Double(ix), wy = y - Double(iy)
                        let v00 = values[iy * n + ix], v01 = values[iy * n + ix + 1]
                        let v10 = values[(iy + 1) * n + ix], v11 = values[(iy + 1) * n + ix + 1]
                        sum += (v00 * (1 - wx) + v01 * wx) * (1 - wy) + (v10 * (1 - wx) + v11 * wx) * wy
                    }
                    u += 1
                }
                out[a * bins + b] = sum * cellMM
            }
        }
        return out
    }

    /// Filtered back projection of `projections` (as `project` makes them) onto the n x n
    /// grid: each projection convolved with the Ram-Lak kernel (h(0) = 1/4, h(odd m) =
    /// -1/(pi m)^2, h(even m) = 0, per cell^2), then smeared back along its rays.
    static func reconstruct(_ projections: [Double], size n: Int, cellMM: Double) -> [Double] {
        let (angles, bins) = geometry(size: n)
        var kernel = [Double](repeating: 0, count: 2 * bins - 1)
        for m in -(bins - 1)...(bins - 1) where m == 0 || m % 2 != 0 {
            kernel[m + bins - 1] = m == 0 ? 0.25 : -1 / (Double.pi * Double.pi * Double(m * m))
        }
        var filtered = [Double](repeating: 0, count: angles * bins)
        for a in 0..<angles {
            for b in 0..<bins {
                var sum = 0.0
                // Even offsets other than 0 have a zero kernel: b - j odd, or j = b.
                sum += projections[a * bins + b] * kernel[bins - 1]
                var j = (b + 1) % 2
                while j < bins {
                    sum += projections[a * bins + j] * kernel[b - j + bins - 1]
                    j += 2
                }
                filtered[a * bins + b] = sum / (cellMM * cellMM) * cellMM   // kernel per mm^2, times the bin width
            }
        }
        let (centre, half, directions) = rays(size: n)
        var image = [Double](repeating: 0, count: n * n)
        for (a, (c, s)) in directions.enumerated() {
            for y in 0..<n {
                for x in 0..<n {
                    let t = (Double(x) - centre) * c + (Double(y) - centre) * s + half
                    let i = Swift.min(Swift.max(Int(t.rounded(.down)), 0), bins - 2)
                    let w = Swift.min(Swift.max(t - Double(i), 0), 1)
                    image[y * n + x] += filtered[a * bins + i] * (1 - w) + filtered[a * bins + i + 1] * w
                }
            }
        }
        let scale = Double.pi / Double(angles)
        for i in image.indices { image[i] *= scale }
        return image
    }
}
