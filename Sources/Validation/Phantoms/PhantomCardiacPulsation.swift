import Foundation

/// Cardiac pulsation artefact of a chest CT acquired without ECG gating (Barrett & Keat,
/// "Artifacts in CT: recognition and avoidance", RadioGraphics 2004;24:1679-1691, motion
/// artefacts): the heart moves while a slice's projections are acquired, so its border and
/// the lung next to it appear at two positions at once, a blurred double contour, and vessels
/// of the lingula and the left lower lobe beside the heart are doubled (a pair of dots where
/// there is one vessel, the classic pulsation mimic of a small nodule). The left ventricle's
/// border moves most, the right atrium's least. The amount changes from slice to slice with
/// the phase of the heartbeat in which the slice was acquired: in a helical scan the table
/// travels 30-70 mm per beat, so a coronal reformat shows the heart border in steps.
///
/// Applied to each rendered plane before the point spread (`apply`): the plane becomes
/// `(1 - ghostWeight) I(p) + ghostWeight I(p - s n)`, where `n` is the in-plane part of the
/// outward normal of the heart's surface and `s` the displacement at `p` (largest at and inside
/// the heart, fading to nothing `reachMM` outside it). Truth is unchanged: the anatomy does
/// not move, its picture does.
public struct CardiacPulsation: Sendable, Equatable {
    /// Largest displacement (mm) of the left heart border between the two phases a slice shows.
    public let amplitudeMM: Double
    /// Weight of the displaced (second-phase) image, 0.3-0.5.
    public let ghostWeight: Double
    /// How far (mm) outside the heart the displacement reaches (it fades linearly to nothing).
    public let reachMM: Double
    /// Table travel (mm) per heartbeat: the period of the displacement along z.
    public let beatMM: Double
    /// Phase (radians) of the heartbeat at anatomy height 0.
    public let phase: Double

    static func draw(random r: inout PhantomRandom) -> CardiacPulsation {
        CardiacPulsation(amplitudeMM: r.uniform(2, 6), ghostWeight: r.uniform(0.3, 0.5), reachMM: r.uniform(20, 35),
                         beatMM: r.uniform(30, 70), phase: r.uniform(0, 2 * Double.pi))
    }

    /// Displacement (mm) of the left heart border in the slice at anatomy height `z`: the
    /// amplitude times a bump once per beat, `((1 + cos(2 pi z / beat + phase)) / 2)^2` (slices
    /// acquired in systole show most, those in diastole almost none).
    @inline(__always)
    public func displacementMM(z: Double) -> Double {
        let c = (1 + cos(2 * Double.pi * z / beatMM + phase)) / 2
        return amplitudeMM * c * c
    }

    /// The artefact in the plane at anatomy height `z` (`columns` x `rows`, row-major; pixel
    /// (c, r) at anatomy (originX + c px, originY + r px)). Only pixels within the heart's
    /// bounding box and `reachMM` change; `copy` is scratch of the plane's size.
    func apply(to image: UnsafeMutableBufferPointer<Float>, copy: inout [Float], columns: Int, rows: Int,
               originX: Double, originY: Double, pixelMM px: Double, z: Double, anatomy a: ChestAnatomy) {
        let shiftMM = displacementMM(z: z)
        guard shiftMM > 0.05 * px else { return }
        // The heart's extent grown by the reach; nothing beyond it moves.
        let extent = a.heartSemiAxes.max() + reachMM + shiftMM
        guard abs(z - a.heartCenter.z) < extent else { return }
        let c0 = Swift.max(0, Int(((a.heartCenter.x - extent - originX) / px).rounded(.down)))
        let c1 = Swift.min(columns - 1, Int(((a.heartCenter.x + extent - originX) / px).rounded(.up)))
        let r0 = Swift.max(0, Int(((a.heartCenter.y - extent - originY) / px).rounded(.down)))
        let r1 = Swift.min(rows - 1, Int(((a.heartCenter.y + extent - originY) / px).rounded(.up)))
        guard c0 < c1, r0 < r1 else { return }
        if copy.count != image.count { copy = [Float](repeating: 0, count: image.count) }
        for i in 0..<image.count { copy[i] = image[i] }
        let alpha = Float(ghostWeight)
        let h = 0.5 * px
        for r in r0...r1 {
            let y = originY + Double(r) * px
            for c in c0...c1 {
                let x = originX + Double(c) * px
                let d = a.heartDistance(x: x, y: y, z: z)
                guard d < reachMM else { continue }
                // In-plane part of the outward normal (the gradient of a distance has length
                // about 1; where the surface is nearly horizontal the in-plane part is small and
                // so is the displacement, as the heart moves mostly sideways there).
                let gx = (a.heartDistance(x: x + h, y: y, z: z) - a.heartDistance(x: x - h, y: y, z: z)) / (2 * h)
                let gy = (a.heartDistance(x: x, y: y + h, z: z) - a.heartDistance(x: x, y: y - h, z: z)) / (2 * h)
                let g = (gx * gx + gy * gy).squareRoot()
                guard g > 1e-6 else { continue }
                // Left border (+x, the patient's left) full, right border a tenth.
                let side = 0.55 + 0.45 * gx / g
                let fade = d <= 0 ? 1 : 1 - d / reachMM
                let s = shiftMM * side * fade
                guard s > 0.05 * px else { continue }
                // Sample s mm towards the heart (bilinear, in pixels).
                let sx = Double(c) - s * gx / px, sy = Double(r) - s * gy / px
                let ix = Int(sx.rounded(.down)), iy = Int(sy.rounded(.down))
                guard ix >= 0, iy >= 0, ix + 1 < columns, iy + 1 < rows else { continue }
                let fx = Float(sx - Double(ix)), fy = Float(sy - Double(iy))
                let i = iy * columns + ix
                let top = copy[i] + fx * (copy[i + 1] - copy[i])
                let bottom = copy[i + columns] + fx * (copy[i + columns + 1] - copy[i + columns])
                let ghost = top + fy * (bottom - top)
                let k = r * columns + c
                image[k] = (1 - alpha) * copy[k] + alpha * ghost
            }
        }
    }
}
