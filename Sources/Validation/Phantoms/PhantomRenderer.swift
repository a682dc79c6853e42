import Foundation
import Kernels
import Volumes

/// Renders a `PhantomCase` into a HU volume (generation order: slice 0 most inferior).
///
/// Acquisition model: every structure is evaluated analytically with an anti-aliased edge
/// (coverage = clamp(0.5 - signedDistance / pixelSpacing)), several sub-slices are averaged
/// per slice (the slice sensitivity profile, so thin vessels crossing a thick slice are
/// partial-volumed as on a scanner), then an in-plane Gaussian point spread function is
/// applied and correlated noise (white Gaussian noise through a small Gaussian, scaled to
/// the case's noise level) is added. Slices are rendered in parallel; each structure is only
/// evaluated inside its bounding box.
public struct PhantomRenderer {
    public let phantom: PhantomCase

    public init(_ phantom: PhantomCase) { self.phantom = phantom }

    /// HU outside the circular reconstruction field of view is left to the storage step.
    public func render(context: KernelContext = .default) -> Volume {
        let ph = phantom
        let cols = ph.columns, rows = ph.rows, slices = ph.slices
        var voxels = [Float](repeating: -1000, count: cols * rows * slices)
        let scene = Scene(ph)
        let psf = GaussianKernel1D(sigmaVoxels: Swift.max(0.05, ph.psfSigmaMM / ph.pixelSpacingMM), order: 0).weights
        let noiseKernel = GaussianKernel1D(sigmaVoxels: 0.75, order: 0).weights
        let noiseGain = Float(ph.noiseHU) / noiseKernel.reduce(0) { $0 + $1 * $1 }
        voxels.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            context.parallelFor(slices) { k in
                var scratch = SliceScratch(count: cols * rows)
                let dst = UnsafeMutableBufferPointer(start: base + k * cols * rows, count: cols * rows)
                scene.renderSlice(k, into: dst, scratch: &scratch)
                if let pulsation = ph.cardiacPulsation {
                    // The blur's scratch plane holds the unmoved copy (the blur comes after).
                    pulsation.apply(to: dst, copy: &scratch.temp, columns: cols, rows: rows, originX: ph.gridOrigin.x,
                                    originY: ph.gridOrigin.y, pixelMM: ph.pixelSpacingMM, z: ph.sliceCentreZ(k),
                                    anatomy: ph.anatomy)
                }
                blur2D(dst, columns: cols, rows: rows, weights: psf, temp: &scratch.temp)
                // Beam hardening is computed from the reconstructed (blurred) densities.
                ph.beamHardening?.apply(to: dst, columns: cols, rows: rows, pixelMM: ph.pixelSpacingMM)
                // Correlated noise, from a per-slice stream so threads do not change the result.
                var random = PhantomRandom(seed: ph.seed, stream: UInt64(ph.index) << 20 | UInt64(k) | 1 << 62)
                var i = 0
                while i < cols * rows {
                    let u1 = Swift.max(random.unit(), 1e-300), u2 = random.unit()
                    let m = (-2 * log(u1)).squareRoot()
                    scratch.noise[i] = Float(m * cos(2 * .pi * u2))
                    if i + 1 < cols * rows { scratch.noise[i + 1] = Float(m * sin(2 * .pi * u2)) }
                    i += 2
                }
                blur2D(scratch.noise.withUnsafeMutableBufferPointer { $0 }, columns: cols, rows: rows,
                       weights: noiseKernel, temp: &scratch.temp)
                for j in 0..<(cols * rows) { dst[j] += noiseGain * scratch.noise[j] }
                ph.streaks?.apply(to: dst, columns: cols, rows: rows, z: ph.sliceCentreZ(k), slice: k,
                                  seed: ph.seed, caseIndex: ph.index)
                ph.cardiacDevice?.apply(to: dst, columns: cols, rows: rows, originX: ph.gridOrigin.x,
                                        originY: ph.gridOrigin.y, pixelMM: ph.pixelSpacingMM,
                                        z: ph.sliceCentreZ(k), slice: k, seed: ph.seed, caseIndex: ph.index)
            }
        }
        let g = ph.gridToPatient
        let affine = PatientAffine(origin: g.origin, columnStep: g.column, rowStep: g.row, sliceStep: g.slice)
        return Volume(columns: cols, rows: rows, slices: slices, voxels: voxels,
                      spacing: VoxelSpacing(columnMM: ph.pixelSpacingMM, rowMM: ph.pixelSpacingMM,
                                            sliceMM: ph.sliceSpacingMM),
                      affine: affine)
    }
}

/// Separable in-plane correlation with clamped edges (the PSF and the noise shaping; the
/// Kernels module's 3-D Gaussian works on whole volumes, this runs per slice inside the
/// renderer's slice loop).
func blur2D(_ img: UnsafeMutableBufferPointer<Float>, columns: Int, rows: Int, weights: [Float], temp: inout [Float]) {
    let radius = weights.count / 2
    if radius == 0 { return }
    weights.withUnsafeBufferPointer { w in
        temp.withUnsafeMutableBufferPointer { t in
            for r in 0..<rows {
                let row = r * columns
                for c in 0..<columns {
                    var s: Float = 0
                    for j in -radius...radius {
                        let cc = Swift.min(columns - 1, Swift.max(0, c + j))
                        s += w[j + radius] * img[row + cc]
                    }
                    t[row + c] = s
                }
            }
            for r in 0..<rows {
                for c in 0..<columns {
                    var s: Float = 0
                    for j in -radius...radius {
                        let rr = Swift.min(rows - 1, Swift.max(0, r + j))
                        s += w[j + radius] * t[rr * columns + c]
                    }
                    img[r * columns + c] = s
                }
            }
        }
    }
}

struct SliceScratch {
    var sub: [Float]
    var lung: [Float]
    var vessel: [Float]
    var vesselHU: [Float]
    var wall: [Float]
    var lumen: [Float]
    /// Coverage by mucus-filled lumens (`MucusPlugs`).
    var mucus: [Float]
    var temp: [Float]
    var noise: [Float]
    init(count: Int) {
        sub = [Float](repeating: 0, count: count)
        lung = sub; vessel = sub; vesselHU = sub; wall = sub; lumen = sub; mucus = sub; temp = sub; noise = sub
    }
}

/// A capsule prepared for rasterising, with what to paint.
struct PaintTube {
    var raster: TubeRaster
    var hu: Float
    /// Thin vessels are only drawn where there is lung (so trees never poke out of it).
    var needsLung: Bool
    /// An airway holding fluid up to a level (a bronchial cyst's air-fluid level): the
    /// anatomy-frame y (mm, posterior: dependent in a supine patient) behind which its lumen
    /// is fluid (`hu`) and in front of which air; nil: all `hu`.
    var fluidLevelY: Float? = nil
}

/// Precomputed, read-only description of what to draw, shared by the slice workers.
final class Scene: @unchecked Sendable {
    let ph: PhantomCase
    let a: ChestAnatomy
    let px: Double
    let s: Double
    let vessels: [PaintTube]
    let airways: [PaintTube]          // raster = lumen; wall thickness in `airwayWalls`
    let airwayWalls: [Float]
    /// HU of the mucus in plugged airways (`PhantomCase.mucusPlugs`).
    let airwayMucusHU: Float
    let ribs: [PaintTube]
    let ribCartilage: [Bool]
    let mediastinal: [(PaintTube, ChestAnatomy.TubeKind)]
    /// Per output slice: indices into each list that reach that slice.
    let vesselBuckets: [[Int32]]
    let airwayBuckets: [[Int32]]
    let ribBuckets: [[Int32]]
    let arteryHU: Float, veinHU: Float
    /// Thickness (mm) of one sub-slice of the slice profile.
    let subSliceMM: Double
    /// Mediastinal fat (and the fat margin around the great vessels), HU.
    let mediastinalFatHU = -100.0

    init(_ ph: PhantomCase) {
        self.ph = ph
        subSliceMM = ph.sliceSpacingMM / Double(ph.subSlices)
        a = ph.anatomy
        px = ph.pixelSpacingMM
        s = a.scale
        let blood: Float = a.contrast ? 230 : 42
        arteryHU = blood
        veinHU = a.contrast ? 160 : 40
        let anatomy = ph.anatomy
        let veinBlood: Float = anatomy.contrast ? 160 : 40
        vessels = ph.vesselSegments.enumerated().map { i, seg in
            PaintTube(raster: TubeRaster(seg), hu: ph.vesselIsVein[i] ? veinBlood : blood,
                      needsLung: seg.maxRadiusMM < 2.2 * anatomy.scale)
        }
        // An airway's `hu` is its lumen's: air, or mucus where plugged.
        airwayMucusHU = Float(ph.mucusPlugs?.hu ?? ph.bronchialCysts?.fluidHU ?? 0)
        let mucusHU = airwayMucusHU
        // Bronchial cysts: spheres (capsules of no length) painted as airways, air or fluid.
        let cysts = ph.bronchialCysts?.cysts ?? []
        airways = zip(ph.airwaySegments, ph.airwayIsPlugged).map {
            PaintTube(raster: TubeRaster($0), hu: $1 ? mucusHU : -1000, needsLung: true)
        } + cysts.map {
            PaintTube(raster: TubeRaster(TubeSegment($0.center, $0.center, $0.radiusMM, $0.radiusMM)),
                      hu: $0.fluidFraction > 0 ? mucusHU : -1000, needsLung: true,
                      fluidLevelY: $0.fluidFraction > 0 && $0.fluidFraction < 1 ? Float($0.fluidLevelY) : nil)
        }
        airwayWalls = ph.airwayWallMM.map { Float($0) } + cysts.map { Float($0.wallMM) }
        ribs = ph.ribSegments.map { PaintTube(raster: TubeRaster($0), hu: 750, needsLung: false) }
        ribCartilage = ph.ribIsCartilage
        mediastinal = anatomy.mediastinalTubes.map { (PaintTube(raster: TubeRaster($0.segment), hu: Float($0.hu), needsLung: false), $0.kind) }
        let z0 = ph.gridOrigin.z, dz = ph.sliceSpacingMM, n = ph.slices
        let motion = ph.respiratoryMotion
        func buckets(_ tubes: [PaintTube], margin: Float) -> [[Int32]] {
            var b = [[Int32]](repeating: [], count: n)
            for (i, t) in tubes.enumerated() {
                let lo = Int(((Double(t.raster.zMin - margin) - z0) / dz - 0.5).rounded(.down))
                let hi = Int(((Double(t.raster.zMax + margin) - z0) / dz + 0.5).rounded(.up))
                let l = Swift.max(0, lo), h = Swift.min(n - 1, hi)
                if l <= h { for k in l...h where motion?.shiftMM(slice: k) ?? 0 == 0 { b[k].append(Int32(i)) } }
            }
            // The breathing artefact's slices show other heights: their own buckets.
            if let motion {
                for k in motion.firstSlice...motion.lastSlice {
                    let zc = ph.sliceCentreZ(k)
                    for (i, t) in tubes.enumerated()
                    where Double(t.raster.zMax + margin) >= zc - dz && Double(t.raster.zMin - margin) <= zc + dz {
                        b[k].append(Int32(i))
                    }
                }
            }
            return b
        }
        vesselBuckets = buckets(vessels, margin: 1)
        airwayBuckets = buckets(airways, margin: 3)
        ribBuckets = buckets(ribs, margin: 1)
    }

    /// 64 well-mixed bits for lattice point (i, j, k) (a spatial hash finished with the
    /// MurmurHash3 64-bit mixer): value noise's corner values, cellular texture's sites.
    @inline(__always)
    static func latticeHash(_ i: Int64, _ j: Int64, _ k: Int64, seed: UInt64) -> UInt64 {
        var v = UInt64(bitPattern: i &* 73_856_093 ^ j &* 19_349_663 ^ k &* 83_492_791) ^ seed
        v = (v ^ (v >> 33)) &* 0xff51_afd7_ed55_8ccd
        v = (v ^ (v >> 33)) &* 0xc4ce_b9fe_1a85_ec53
        v ^= v >> 33
        return v
    }

    /// Smooth value noise in [-1, 1] (hashed lattice, trilinear), for tissue texture.
    @inline(__always)
    static func valueNoise(_ x: Double, _ y: Double, _ z: Double, seed: UInt64) -> Double {
        let fx = x.rounded(.down), fy = y.rounded(.down), fz = z.rounded(.down)
        let ix = Int64(fx), iy = Int64(fy), iz = Int64(fz)
        let tx = x - fx, ty = y - fy, tz = z - fz
        let sx = tx * tx * (3 - 2 * tx), sy = ty * ty * (3 - 2 * ty), sz = tz * tz * (3 - 2 * tz)
        @inline(__always) func h(_ i: Int64, _ j: Int64, _ k: Int64) -> Double {
            Double(latticeHash(i, j, k, seed: seed) >> 11) * 0x1.0p-52 - 1
        }
        let c00 = h(ix, iy, iz) + (h(ix + 1, iy, iz) - h(ix, iy, iz)) * sx
        let c10 = h(ix, iy + 1, iz) + (h(ix + 1, iy + 1, iz) - h(ix, iy + 1, iz)) * sx
        let c01 = h(ix, iy, iz + 1) + (h(ix + 1, iy, iz + 1) - h(ix, iy, iz + 1)) * sx
        let c11 = h(ix, iy + 1, iz + 1) + (h(ix + 1, iy + 1, iz + 1) - h(ix, iy + 1, iz + 1)) * sx
        let c0 = c00 + (c10 - c00) * sy, c1 = c01 + (c11 - c01) * sy
        return c0 + (c1 - c0) * sz
    }

    @inline(__always)
    func coverage(_ sd: Double) -> Double { Swift.min(1, Swift.max(0, 0.5 - sd / px)) }
    @inline(__always)
    func coverageF(_ sd: Float) -> Float { Swift.min(1, Swift.max(0, 0.5 - sd / Float(px))) }

    /// Renders output slice `k` (averaging the sub-slices) into `dst`.
    func renderSlice(_ k: Int, into dst: UnsafeMutableBufferPointer<Float>, scratch: inout SliceScratch) {
        let n = ph.subSlices
        for i in 0..<dst.count { dst[i] = 0 }
        let zc = ph.sliceCentreZ(k)
        for j in 0..<n {
            let z = zc + ((Double(j) + 0.5) / Double(n) - 0.5) * ph.sliceSpacingMM
            renderPlane(z: z, slice: k, scratch: &scratch)
            let w = 1 / Float(n)
            for i in 0..<dst.count { dst[i] += w * scratch.sub[i] }
        }
    }

    // swiftlint:disable:next function_body_length
    func renderPlane(z: Double, slice k: Int, scratch sc: inout SliceScratch) {
        let cols = ph.columns, rows = ph.rows
        let ox = ph.gridOrigin.x, oy = ph.gridOrigin.y
        let seed = ph.textureSeed
        let sections = [a.lungSection(side: 0, z: z), a.lungSection(side: 1, z: z)]
        let section = a.bodySection(z: z)
        let fatWeight = Scene.smooth((a.lungHeightMM - 10 * s - z) / (30 * s))
        let tableY = section.posterior + 14 * s
        let vertebraPhase = (z / a.vertebraPitch - (z / a.vertebraPitch).rounded(.down))
        let isDisc = vertebraPhase < 0.2
        let canalY = a.spineY + a.vertebralRadius + 9 * s
        let sternumOn = z > 0.05 * a.lungHeightMM && z < 0.8 * a.lungHeightMM
        let sternumY = a.sternumCenterY
        let heartOn = abs(z - a.heartCenter.z) < a.heartSemiAxes.max() + 6 * s
        // Coronary segments and plaques that reach this plane (with the arteries' fat sleeve).
        let coronaries = ph.coronaries.flatMap { cor in z > cor.lo.z && z < cor.hi.z ? cor : nil }
        let sleeve = CoronaryArteries.sleeveMM * s
        let coronarySegments = coronaries?.arteries.joined().filter {
            Swift.min($0.start.z, $0.end.z) - $0.maxRadiusMM - sleeve - px < z
                && z < Swift.max($0.start.z, $0.end.z) + $0.maxRadiusMM + sleeve + px
        } ?? []
        let bloodHU = Double(arteryHU)
        let scapulae = [a.scapula(side: 0, z: z), a.scapula(side: 1, z: z)]

        // Pass 1: the analytic layers, pixel by pixel.
        for r in 0..<rows {
            let y = oy + Double(r) * px
            for c in 0..<cols {
                let x = ox + Double(c) * px
                let idx = r * cols + c
                var v = -1000.0
                var lungCover = 0.0
                // Table: two curved carbon plates under the patient.
                let ty = tableY + x * x / 1400
                if abs(x) < 210 * s {
                    let d1 = abs(y - ty) - 2.5, d2 = abs(y - ty - 26 * s) - 1.5
                    v += (220 - v) * coverage(d1)
                    v += (120 - v) * coverage(d2)
                }
                let sdMuscle = section.fatInnerDistance(x: x, y: y)
                let sdBody = a.skinDistance(x: x, y: y, z: z, section: section, muscleDistance: sdMuscle)
                if sdBody < px {
                    v += (-100 - v) * coverage(sdBody)
                    // Skin.
                    v += (30 - v) * coverage(Swift.max(sdBody, -(sdBody + 1.8)))
                    // Fibroglandular breast tissue: strands in the fat.
                    let gland = a.breastGland(x: x, y: y, z: z, section: section)
                    if gland > 0 {
                        let strands = Scene.valueNoise(x / 4, y / 4, z / 4, seed: seed &+ 11)
                        v += (20 - v) * Swift.min(1, Swift.max(0, gland * 2 + strands * 1.5 - 0.4))
                    }
                    if sdMuscle < px {
                        v += (48 - v) * coverage(sdMuscle)
                        // Inner thoracic cage, at least 4 mm inside the muscle layer's surface.
                        let sdCavity = Swift.max(a.cavityDistance(x: x, y: y), sdMuscle + 4 * s)
                        // Intermuscular fat planes (pectoral / serratus / latissimus layers): a
                        // ~1.8 mm sheet about 40% of the way into thick chest-wall muscle, in
                        // patches along the circumference that drift with height.
                        let thickness = sdCavity - sdMuscle
                        if sdCavity > 0 && sdMuscle < 0 && thickness > 14 * s {
                            let dPlane = abs(-sdMuscle / thickness - 0.42) * thickness - 0.9 * s
                            if dPlane < px {
                                let patch = Scene.valueNoise(atan2(y, x) * 3 + 10, z / (45 * s), 0.5, seed: seed &+ 23)
                                let w = Scene.smooth((patch + 0.15) * 3)
                                if w > 0 { v += (-90 - v) * coverage(dPlane) * w }
                            }
                        }
                        if sdCavity < px {
                            let side = x < 0 ? 0 : 1
                            let below = z < a.domeZ(side: side, x: x, y: y) - 2 * s
                            let fill: Double
                            if below { fill = side == 0 ? 58 : 44 }
                            else {
                                // Mediastinal fat around the great vessels (with faint strands),
                                // fading into soft tissue towards the chest wall, behind the
                                // vertebral bodies and above the apices.
                                let w = fatWeight * Scene.smooth((52 * s - abs(x)) / (14 * s))
                                    * Scene.smooth((a.spineY + 0.5 * a.vertebralRadius - y) / (10 * s))
                                if w > 0 {
                                    let fat = mediastinalFatHU + 12 * Scene.valueNoise(x / 3, y / 3, z / 3, seed: seed &+ 17)
                                    fill = 25 + (fat - 25) * w
                                } else { fill = 25 }
                            }
                            v += (fill - v) * coverage(sdCavity)
                        }
                        // Fat plane around each erector spinae (an oval in the groove beside the
                        // spinous process, on the transverse processes and rib angles), which
                        // sets the paraspinal muscles apart from the trapezius and latissimus.
                        if y > canalY - 6 * s && abs(x) < 60 * s {
                            let ex = (abs(x) - 31 * s) / (24 * s), ey = (y - canalY - 13 * s) / (21 * s)
                            let f = (ex * ex + ey * ey).squareRoot()
                            if f > 0.7 && f < 1.4 {
                                let d = abs(f - 1) * 22 * s - 0.8 * s
                                if d < px { v += (-90 - v) * coverage(d) * coverage(sdMuscle + 2 * s) }
                            }
                        }
                        // Scapula (in the posterior chest-wall muscles, outside the ribs).
                        if y > 0, let sc = scapulae[x < 0 ? 0 : 1] {
                            let p = sc.points
                            let d = Swift.min(Scene.segmentDistance2D(x, y, p[0].x, p[0].y, p[1].x, p[1].y),
                                              Scene.segmentDistance2D(x, y, p[1].x, p[1].y, p[2].x, p[2].y)) - sc.halfThicknessMM
                            if d < px {
                                v += (620 - v) * coverage(d)
                                v += (260 - v) * coverage(d + 1.1 * s)
                            }
                        }
                    }
                }
                // Arms at the sides: skin, fat, muscle, humerus (cortex, fatty marrow).
                if a.armsAtSides && abs(x) > section.halfWidth * 0.8 {
                    let (sdArm, armX) = a.armDistance(x: x, y: y, section: section)
                    if sdArm < px {
                        v += (-100 - v) * coverage(sdArm)
                        v += (30 - v) * coverage(Swift.max(sdArm, -(sdArm + 1.8)))
                        v += (50 - v) * coverage(sdArm + 9 * s)
                        let hx = x - armX * 0.98, hy = y - a.armY - 4 * s
                        let dHumerus = (hx * hx + hy * hy).squareRoot() - 11 * s
                        v += (900 - v) * coverage(dHumerus)
                        v += (20 - v) * coverage(dHumerus + 3 * s)
                    }
                }
                // Pericardial fat pads in the cardiophrenic angles (the lungs are carved around
                // them; the heart, painted after, covers their medial part).
                for pad in a.cardiophrenicFat {
                    let d = pad.distance(x: x, y: y, z: z, anatomy: a)
                    if d < px {
                        let fat = pad.hu + 12 * Scene.valueNoise(x / 3, y / 3, z / 3, seed: seed &+ 17)
                        v += (fat - v) * coverage(d)
                    }
                }
                // Lungs.
                for side in 0..<2 {
                    guard let sec = sections[side] else { continue }
                    let dx = x - sec.cx, dy = y - sec.cy
                    if abs(dx) > sec.a + 2 * px || dy < -sec.bA - 2 * px || dy > sec.bP + 2 * px { continue }
                    let sd = a.lungShapeDistance(side: side, x: x, y: y, z: z, section: sec)
                    let cov = coverage(sd)
                    if cov > 0 {
                        let dep = Swift.min(1, Swift.max(0, (dy + sec.bA) / (sec.bA + sec.bP)))
                        let tex = 14 * Scene.valueNoise(x / 5, y / 5, z / 5, seed: seed &+ 2)
                            + 9 * Scene.valueNoise(x / 1.8, y / 1.8, z / 1.8, seed: seed &+ 3)
                        var hu = a.parenchymaHU + a.dependentHU * dep * dep * dep + tex
                        if ph.emphysemaSeverity > 0 { hu = emphysema(hu, x: x, y: y, z: z, depthMM: -sd, seed: seed) }
                        if ph.atelectasisSeverity > 0 {
                            hu = atelectasis(hu, x: x, y: y, z: z, depthMM: -sd, posterior: dep, seed: seed)
                        }
                        if let fibrosis = ph.interstitialFibrosis {
                            let lateral = (side == 0 ? -dx : dx) / sec.a
                            hu = interstitialFibrosis(hu, fibrosis, x: x, y: y, z: z, depthMM: -sd,
                                                      lateral: lateral, posterior: dep)
                        }
                        // Fissures: two pleural layers (~0.3 mm) partial-volumed over the pixel and
                        // the sub-slice, so a steep fissure is a faint thin line and a nearly
                        // horizontal one a faint band; incomplete (patchy) as real fissures are.
                        let o = a.obliqueFissure(side: side, x: x, y: y)
                        let on = (1 + o.dx * o.dx + o.dy * o.dy).squareRoot()
                        let od = (z - o.z) / on
                        hu += fissureSheet(distance: od, normalZ: 1 / on, hu: hu, x: x, y: y, z: z)
                        if side == 0 && od > 0 {
                            let m = a.minorFissure(x: x, y: y)
                            let mn = (1 + m.dx * m.dx + m.dy * m.dy).squareRoot()
                            hu += fissureSheet(distance: (z - m.z) / mn, normalZ: 1 / mn, hu: hu, x: x, y: y, z: z)
                        }
                        if let cons = ph.consolidation, cons.side == side {
                            hu = consolidation(hu, cons, x: x, y: y, z: z, seed: seed)
                        }
                        if let ggo = ph.groundGlass {
                            for patch in ggo.patches { hu = groundGlass(hu, patch, x: x, y: y, z: z, seed: seed) }
                        }
                        var aerated = cov
                        if let effusion = ph.pleuralEffusion {
                            let t = effusion.thicknessMM(side: side, z: z, posterior: dep)
                            if t > 0.2 {
                                let fluid = pleuralFluid(&hu, effusion, thicknessMM: t, depthMM: -sd, x: x, y: y, z: z, seed: seed)
                                aerated = cov * (1 - fluid)
                            }
                        }
                        v += (hu - v) * cov
                        lungCover = Swift.max(lungCover, aerated)
                    }
                }
                // Heart: epicardial fat, myocardium, blood pool.
                if heartOn && abs(x - a.heartCenter.x) < a.heartSemiAxes.max() + 8 * s
                    && abs(y - a.heartCenter.y) < a.heartSemiAxes.max() + 8 * s {
                    let sd = a.heartDistance(x: x, y: y, z: z)
                    if sd < 4 * s + px {
                        let fatCov = coverage(sd - 3 * s)
                        v += (-90 - v) * fatCov
                        lungCover *= 1 - fatCov
                        v += ((a.contrast ? 110 : 42) - v) * coverage(sd)
                        if a.contrast && a.revision >= 4 {
                            // Four chambers: the right heart as the pulmonary arteries, the
                            // left as the pulmonary veins that fill it.
                            let chamber = a.chamberBloodDistance(x: x, y: y, z: z, outlineMM: sd)
                            v += ((chamber.rightHeart ? bloodHU : Double(veinHU)) - v) * coverage(chamber.distanceMM)
                        } else if a.contrast {
                            v += (bloodHU - v) * coverage(sd + 11 * s)
                        }
                    }
                }
                // Coronary arteries in the epicardial fat (their plaque comes last, below).
                if let cor = coronaries, !coronarySegments.isEmpty, x > cor.lo.x, x < cor.hi.x, y > cor.lo.y, y < cor.hi.y {
                    let p = SIMD3(x, y, z)
                    var d = Double.infinity
                    for seg in coronarySegments { d = Swift.min(d, seg.signedDistance(p)) }
                    if d < sleeve + px {
                        let fat = coverage(d - sleeve)
                        v += (-90 - v) * fat
                        lungCover *= 1 - fat
                        v += ((a.contrast ? bloodHU : 40) - v) * coverage(d)
                    }
                }
                // Spine: vertebral body (or disc), canal, arch, processes.
                let sy = y - a.spineY
                if abs(x) < 60 * s && sy > -a.vertebralRadius - 4 && sy < 70 * s {
                    let dBody = (x * x / 1.2 + sy * sy).squareRoot() - a.vertebralRadius
                    if isDisc {
                        v += (85 - v) * coverage(dBody)
                    } else {
                        v += (700 - v) * coverage(dBody)
                        v += (230 - v) * coverage(dBody + 1.6 * s)
                        let cy2 = y - canalY
                        let dCanal = (x * x + cy2 * cy2).squareRoot()
                        let dArch = Swift.max(dCanal - 13 * s, 8 * s - dCanal)
                        v += (650 - v) * coverage(cy2 > -6 * s ? dArch : 1e9)
                        // Spinous process and transverse processes (2-D capsules).
                        let spin = Scene.segmentDistance2D(x, y, 0, canalY + 11 * s, 0, canalY + 34 * s) - 4 * s
                        v += (650 - v) * coverage(spin)
                        let tx = abs(x)
                        let trans = Scene.segmentDistance2D(tx, y, 10 * s, canalY - 2 * s, 34 * s, canalY - 4 * s) - 4.5 * s
                        v += (650 - v) * coverage(trans)
                    }
                    v += (15 - v) * coverage((x * x + (y - canalY) * (y - canalY)).squareRoot() - 8 * s)
                }
                // Sternum.
                if sternumOn && abs(x) < 25 * s && abs(y - sternumY) < 12 * s {
                    let nx = x / (16 * s), ny = (y - sternumY) / (6 * s)
                    let f = (nx * nx + ny * ny).squareRoot()
                    let rr = (x * x + (y - sternumY) * (y - sternumY)).squareRoot()
                    let sd = f > 1e-9 ? rr * (f - 1) / f : -6 * s
                    v += (600 - v) * coverage(sd)
                    v += (220 - v) * coverage(sd + 1.5 * s)
                }
                sc.sub[idx] = Float(v)
                sc.lung[idx] = Float(lungCover)
            }
        }

        let zf = Float(z)
        let fox = Float(ox), foy = Float(oy), fpx = Float(px)
        // Pixel range of a tube's section box.
        @inline(__always) func range(_ b: (x0: Float, x1: Float, y0: Float, y1: Float)) -> (Int, Int, Int, Int)? {
            let c0 = Swift.max(0, Int(((b.x0 - fox) / fpx - 1).rounded(.down)))
            let c1 = Swift.min(cols - 1, Int(((b.x1 - fox) / fpx + 1).rounded(.up)))
            let r0 = Swift.max(0, Int(((b.y0 - foy) / fpx - 1).rounded(.down)))
            let r1 = Swift.min(rows - 1, Int(((b.y1 - foy) / fpx + 1).rounded(.up)))
            return c0 <= c1 && r0 <= r1 ? (c0, c1, r0, r1) : nil
        }

        // Pixel range of a ball of radius R (plus a pixel) around `center`, nil off this plane.
        @inline(__always) func ballBox(_ center: SIMD3<Double>, _ radius: Double) -> (Int, Int, Int, Int)? {
            let R = radius + px
            guard abs(z - center.z) < R else { return nil }
            let c0 = Swift.max(0, Int(((center.x - R - ox) / px).rounded(.down)))
            let c1 = Swift.min(cols - 1, Int(((center.x + R - ox) / px).rounded(.up)))
            let r0 = Swift.max(0, Int(((center.y - R - oy) / px).rounded(.down)))
            let r1 = Swift.min(rows - 1, Int(((center.y + R - oy) / px).rounded(.up)))
            return c0 <= c1 && r0 <= r1 ? (c0, c1, r0, r1) : nil
        }

        // Mediastinal tubes: a fat/pleura margin (carving the lung), then the tube.
        for (tube, kind) in mediastinal {
            let t = tube.raster
            let margin: Float = Float(2.5 * s)
            var grown = t; grown.ra += margin; grown.rMax += margin; grown.zMin -= margin; grown.zMax += margin
            guard let box = grown.sectionBox(z: zf), let (c0, c1, r0, r1) = range(box) else { continue }
            let wall = Float(2 * s)
            for r in r0...r1 {
                let y = foy + Float(r) * fpx
                for c in c0...c1 {
                    let x = fox + Float(c) * fpx
                    let idx = r * cols + c
                    let sd = t.signedDistance(x: x, y: y, z: zf)
                    if sd > margin + fpx { continue }
                    var v = sc.sub[idx]
                    if kind != .bone {
                        let cm = coverageF(sd - margin)
                        v += (Float(mediastinalFatHU) - v) * cm
                        sc.lung[idx] *= 1 - cm
                    }
                    let cv = coverageF(sd)
                    switch kind {
                    case .vessel, .bone: v += (tube.hu - v) * cv
                    case .airway:
                        v += (45 - v) * cv
                        v += (-1000 - v) * coverageF(sd + wall)
                    case .esophagus:
                        v += (40 - v) * cv
                        v += (-950 - v) * coverageF(sd + t.ra - Float(2 * s))
                    }
                    sc.sub[idx] = v
                }
            }
        }

        // Lymph nodes in the mediastinal fat (outside the lungs by construction).
        for node in a.lymphNodes {
            guard let (c0, c1, r0, r1) = ballBox(node.center, node.boundingRadiusMM) else { continue }
            for r in r0...r1 {
                let y = oy + Double(r) * px
                for c in c0...c1 {
                    let x = ox + Double(c) * px
                    let d = node.distance(SIMD3(x, y, z))
                    if d > px { continue }
                    let idx = r * cols + c
                    let cv = coverage(d)
                    sc.sub[idx] += Float(node.hu - Double(sc.sub[idx])) * Float(cv)
                    sc.lung[idx] *= Float(1 - cv)
                }
            }
        }

        // Ribs (cortex and marrow; cartilage anteriorly).
        for i in ribBuckets[k] {
            let tube = ribs[Int(i)]
            let t = tube.raster
            guard let box = t.sectionBox(z: zf), let (c0, c1, r0, r1) = range(box) else { continue }
            let cart = ribCartilage[Int(i)]
            for r in r0...r1 {
                let y = foy + Float(r) * fpx
                for c in c0...c1 {
                    let x = fox + Float(c) * fpx
                    let idx = r * cols + c
                    let sd = t.signedDistance(x: x, y: y, z: zf)
                    if sd > fpx { continue }
                    var v = sc.sub[idx]
                    if cart {
                        v += (120 - v) * coverageF(sd)
                    } else {
                        v += (780 - v) * coverageF(sd)
                        v += (240 - v) * coverageF(sd + 1.3)
                    }
                    sc.sub[idx] = v
                }
            }
        }

        // Vessel trees: union of the capsules (max coverage), thin ones only inside lung.
        let total = cols * rows
        for i in 0..<total { sc.vessel[i] = 0 }
        var touched = (Int.max, -1, Int.max, -1)
        for i in vesselBuckets[k] {
            let tube = vessels[Int(i)]
            let t = tube.raster
            guard let box = t.sectionBox(z: zf), let (c0, c1, r0, r1) = range(box) else { continue }
            touched = (Swift.min(touched.0, c0), Swift.max(touched.1, c1), Swift.min(touched.2, r0), Swift.max(touched.3, r1))
            for r in r0...r1 {
                let y = foy + Float(r) * fpx
                for c in c0...c1 {
                    let x = fox + Float(c) * fpx
                    let idx = r * cols + c
                    let sd = t.signedDistance(x: x, y: y, z: zf)
                    if sd > fpx { continue }
                    var cv = coverageF(sd)
                    if tube.needsLung { cv *= Swift.min(1, sc.lung[idx] * 1.5) }
                    if cv > sc.vessel[idx] { sc.vessel[idx] = cv; sc.vesselHU[idx] = tube.hu }
                }
            }
        }
        if touched.1 >= 0 {
            for r in touched.2...touched.3 {
                for c in touched.0...touched.1 {
                    let idx = r * cols + c
                    let cv = sc.vessel[idx]
                    if cv > 0 { sc.sub[idx] += (sc.vesselHU[idx] - sc.sub[idx]) * cv }
                }
            }
        }

        // Airways: wall then lumen.
        for i in 0..<total { sc.wall[i] = 0; sc.lumen[i] = 0; sc.mucus[i] = 0 }
        touched = (Int.max, -1, Int.max, -1)
        for i in airwayBuckets[k] {
            let tube = airways[Int(i)]
            let t = tube.raster
            let w = airwayWalls[Int(i)]
            var outer = t; outer.ra += w; outer.rMax += w; outer.zMin -= w; outer.zMax += w
            guard let box = outer.sectionBox(z: zf), let (c0, c1, r0, r1) = range(box) else { continue }
            touched = (Swift.min(touched.0, c0), Swift.max(touched.1, c1), Swift.min(touched.2, r0), Swift.max(touched.3, r1))
            for r in r0...r1 {
                let y = foy + Float(r) * fpx
                for c in c0...c1 {
                    let x = fox + Float(c) * fpx
                    let idx = r * cols + c
                    let sd = t.signedDistance(x: x, y: y, z: zf)
                    if sd > w + fpx { continue }
                    let gate = Swift.min(1, sc.lung[idx] * 1.5)
                    sc.wall[idx] = Swift.max(sc.wall[idx], coverageF(sd - w) * gate)
                    if tube.hu > -1000 {
                        // Fluid behind its level, air in front (partial volume across it).
                        let fluid = tube.fluidLevelY.map { coverageF($0 - y) } ?? 1
                        let cover = coverageF(sd) * gate
                        sc.mucus[idx] = Swift.max(sc.mucus[idx], cover * fluid)
                        if fluid < 1 { sc.lumen[idx] = Swift.max(sc.lumen[idx], cover * (1 - fluid)) }
                    } else {
                        sc.lumen[idx] = Swift.max(sc.lumen[idx], coverageF(sd) * gate)
                    }
                }
            }
        }
        if touched.1 >= 0 {
            for r in touched.2...touched.3 {
                for c in touched.0...touched.1 {
                    let idx = r * cols + c
                    var v = sc.sub[idx]
                    v += (30 - v) * sc.wall[idx]
                    v += (-990 - v) * sc.lumen[idx]
                    v += (airwayMucusHU - v) * sc.mucus[idx]
                    sc.sub[idx] = v
                }
            }
        }

        // Nodules.
        for nod in ph.nodules {
            guard let (c0, c1, r0, r1) = ballBox(nod.center, nod.boundingRadiusMM) else { continue }
            for r in r0...r1 {
                let y = oy + Double(r) * px
                for c in c0...c1 {
                    let x = ox + Double(c) * px
                    let p = SIMD3(x, y, z)
                    let sd = nod.distance(p)
                    if sd > px { continue }
                    let idx = r * cols + c
                    let old = Double(sc.sub[idx])
                    let tex = Scene.valueNoise(x / 1.5, y / 1.5, z / 1.5, seed: seed &+ 9)
                    var v = old
                    switch nod.type {
                    case .solid:
                        v += (nod.solidHU + 15 * tex - v) * coverage(sd)
                    case .groundGlass:
                        v += (nod.groundGlassHU + 70 * tex - v) * coverage(sd)
                    case .partSolid:
                        v += (nod.groundGlassHU + 70 * tex - v) * coverage(sd)
                        v += (nod.solidHU + 15 * tex - v) * coverage(nod.distance(p, k: nod.coreFraction))
                    }
                    sc.sub[idx] = Float(Swift.max(old, v))
                }
            }
        }

        // Parenchymal bands (scars): fibrous tissue over the parenchyma and its vessels, joined
        // to the chest wall (drawn only where they are denser than what is there).
        for band in ph.parenchymalBands ?? [] {
            var lo = SIMD3<Double>(repeating: .infinity), hi = SIMD3<Double>(repeating: -.infinity)
            for segment in band.segments {
                let r = segment.maxRadiusMM
                lo = pointwiseMin(lo, pointwiseMin(segment.start, segment.end) - r)
                hi = pointwiseMax(hi, pointwiseMax(segment.start, segment.end) + r)
            }
            guard z >= lo.z - px, z <= hi.z + px,
                  let (c0, c1, r0, r1) = ballBox((lo + hi) / 2, 0.5 * ((hi - lo) * (hi - lo)).sum().squareRoot()) else { continue }
            for r in r0...r1 {
                let y = oy + Double(r) * px
                for c in c0...c1 {
                    let x = ox + Double(c) * px
                    let sd = band.signedDistance(SIMD3(x, y, z))
                    if sd > px { continue }
                    let idx = r * cols + c
                    let old = Double(sc.sub[idx])
                    let v = old + (band.hu - old) * coverage(sd)
                    sc.sub[idx] = Float(Swift.max(old, v))
                }
            }
        }

        // Pleural plaques: fibrous tissue on the pleura. Inside the lung it replaces what is
        // there (a vessel ends at the pleura); beyond the surface it only raises what is
        // darker (fat), so a rib stays bone. The calcified layer over both.
        for plaque in ph.pleuralPlaques ?? [] {
            let (lo, hi) = plaque.bounds
            guard z >= lo.z - px, z <= hi.z + px,
                  let (c0, c1, r0, r1) = ballBox(SIMD3(plaque.center.x, plaque.center.y, z), 0.5 * (hi.x - lo.x)) else { continue }
            let edgeRho = 1 + 2 * px / plaque.halfWidthMM
            for r in r0...r1 {
                let y = oy + Double(r) * px
                for c in c0...c1 {
                    let x = ox + Double(c) * px
                    let p = SIMD3(x, y, z)
                    guard plaque.footprintRadius(p) < edgeRho else { continue }
                    let d = a.lungDistance(p).distanceMM
                    let sd = plaque.signedDistance(p, lungDistanceMM: d)
                    if sd > px { continue }
                    let idx = r * cols + c
                    let old = Double(sc.sub[idx])
                    var v = old + (plaque.hu - old) * coverage(sd)
                    if d > 0 { v = Swift.max(old, v) }
                    if let calcium = plaque.calciumHU {
                        v += (calcium - v) * coverage(plaque.calciumSignedDistance(p, lungDistanceMM: d))
                    }
                    sc.sub[idx] = Float(v)
                }
            }
        }

        // Calcified granulomas in the parenchyma, calcified coronary and aortic plaque: calcium,
        // over everything drawn before (the great vessels' fat margins reach the coronary
        // origins).
        for ball in (ph.granulomas?.granulomas ?? []) + (ph.coronaries?.plaques ?? []) + (ph.aorticPlaques ?? [])
            + (ph.valveCalcium ?? []) + (ph.mitralCalcium ?? []) {
            let center = ball.center, radius = ball.radiusMM, hu = ball.hu
            guard let (c0, c1, r0, r1) = ballBox(center, radius) else { continue }
            for r in r0...r1 {
                let y = oy + Double(r) * px
                for c in c0...c1 {
                    let x = ox + Double(c) * px
                    let d = SIMD3(x, y, z) - center
                    let sd = (d * d).sum().squareRoot() - radius
                    if sd > px { continue }
                    let idx = r * cols + c
                    let old = Double(sc.sub[idx])
                    sc.sub[idx] = Float(Swift.max(old, old + (hu - old) * coverage(sd)))
                }
            }
        }

        // Pacemaker metal, over everything (its streaks are added after the blur, `render`).
        if let device = ph.cardiacDevice, device.zRange.contains(z) {
            let reach = device.generatorHalfExtents.max() + px
            let pad = CardiacDevice.leadRadiusMM * s + px   // a lead's reach, as coverage counts it
            for r in 0..<rows {
                let y = oy + Double(r) * px
                for c in 0..<cols {
                    let x = ox + Double(c) * px
                    let dg = device.generatorCenter - SIMD3(x, y, z)
                    // Quick rejection: far from the generator and from every lead's box.
                    if abs(dg.x) > reach || abs(dg.y) > reach {
                        var near = false
                        if !device.sternalWireZ.isEmpty && abs(x) < device.wireLoopSemiAxes.x + pad
                            && abs(y - device.sternumY) < device.wireLoopSemiAxes.y + 3 + pad { near = true }
                        for chain in device.leads {
                            for t in chain where Swift.min(t.start.x, t.end.x) - pad < x && x < Swift.max(t.start.x, t.end.x) + pad
                                && Swift.min(t.start.y, t.end.y) - pad < y && y < Swift.max(t.start.y, t.end.y) + pad { near = true }
                        }
                        if !near { continue }
                    }
                    let sd = device.distance(SIMD3(x, y, z))
                    if sd > px { continue }
                    let idx = r * cols + c
                    let cv = coverage(sd)
                    sc.sub[idx] += Float((CardiacDevice.metalHU - Double(sc.sub[idx])) * cv)
                    sc.lung[idx] *= Float(1 - cv)
                }
            }
        }
    }

    /// HU to add for a fissure sheet at signed `distance` (mm) whose unit normal has z
    /// component `normalZ`: the sheet's tissue spread over the width it covers in a pixel and
    /// a sub-slice, faded out where the fissure is incomplete.
    @inline(__always)
    func fissureSheet(distance: Double, normalZ: Double, hu: Double, x: Double, y: Double, z: Double) -> Double {
        let width = Swift.max(px, abs(normalZ) * subSliceMM)
        guard abs(distance) < width else { return 0 }
        let gaps = Scene.valueNoise(x / 18, y / 18, z / 18, seed: ph.textureSeed &+ 13)
        let visible = Swift.min(1, Swift.max(0, (gaps + 2 * a.fissureCompleteness - 1) * 4 + 0.5))
        guard visible > 0 else { return 0 }
        let fraction = 0.2 / width * (1 - abs(distance) / width) * visible
        return fraction * (20 - hu)
    }

    /// Parenchyma HU `hu` with emphysema (the Fleischner Society's CT classification, Lynch
    /// et al., Radiology 2015;277:192-205):
    /// - *centrilobular*: lucencies of a few mm without visible walls (the vessel trees,
    ///   drawn later, keep their centrilobular arteries in them), patchy, upper-zone
    ///   predominant; how much of the lung they take grows with `emphysemaSeverity`;
    /// - *paraseptal* (when the case has it): subpleural lucencies of 5-15 mm in one row
    ///   along the pleura, bounded by thin walls.
    /// Both are level sets of smooth value noise; `depthMM` is the distance to the pleura.
    @inline(__always)
    func emphysema(_ hu: Double, x: Double, y: Double, z: Double, depthMM: Double, seed: UInt64) -> Double {
        let severity = ph.emphysemaSeverity
        let upper = Scene.smooth((z / a.lungHeightMM - 0.3) / 0.45)
        let patch = Scene.valueNoise(x / 22, y / 22, z / 22, seed: seed &+ 31)
        let density = severity * (0.3 + 0.7 * upper) * (0.65 + 0.35 * patch)
        var out = hu
        let lobular = Scene.valueNoise(x / 3.2, y / 3.2, z / 3.2, seed: seed &+ 37)
        out += (-985 - out) * Scene.smooth((lobular - (0.6 - density)) / 0.08)
        if ph.paraseptalEmphysema && depthMM < 12 {
            let w = 1 - Swift.max(0, depthMM) / 12
            let m = Scene.valueNoise(x / 6, y / 6, z / 6, seed: seed &+ 41)
            let level = 0.75 - 0.5 * severity * (0.4 + 0.6 * upper) * w
            out += (-990 - out) * Scene.smooth((m - level) / 0.04)
            // The wall: a band of the noise just below the level, about 1 mm thick (the
            // noise changes by about 1 per 6 mm).
            let wall = (m - level + 0.07) / 0.05
            out += (-300 - out) * 0.7 * w * Foundation.exp(-wall * wall)
        }
        return out
    }

    /// Parenchyma HU `hu` with dependent atelectasis (subsegmental collapse of the most
    /// dependent lung in a supine patient; Fleischner Society glossary, Hansell et al.,
    /// Radiology 2008;246:697-722): a subpleural band along the posterior lower lobes, up to
    /// about 9 mm thick at `atelectasisSeverity` 1, of soft-tissue density (-60 HU) with a
    /// ground-glass fringe 2-3 mm wide, patchy along the pleura and fading towards the middle
    /// zones and anteriorly. Radiologists do not call it a nodule, and neither may a detector,
    /// though it touches the pleura as juxtapleural nodules do. `depthMM` is the distance to the
    /// pleura, `posterior` 0 at the front of the lung and 1 at the back.
    @inline(__always)
    func atelectasis(_ hu: Double, x: Double, y: Double, z: Double, depthMM: Double, posterior: Double,
                     seed: UInt64) -> Double {
        let lower = 1 - Scene.smooth((z / a.lungHeightMM - 0.15) / 0.4)
        let back = Scene.smooth((posterior - 0.55) / 0.3)
        let weight = lower * back
        guard weight > 0, depthMM < 14 else { return hu }
        let patch = 0.5 + 0.5 * Scene.valueNoise(x / 14, y / 14, z / 14, seed: seed &+ 53)
        let thicknessMM = 9 * ph.atelectasisSeverity * weight * (0.3 + 0.7 * patch)
        guard thicknessMM > 0.2 else { return hu }
        var out = hu
        out += (-560 - out) * 0.8 * Scene.smooth((thicknessMM + 2.5 - depthMM) / 1.5)
        out += (-60 - out) * Scene.smooth((thicknessMM - depthMM) / 0.8)
        return out
    }

    /// Parenchyma HU `hu` with fibrotic interstitial lung disease `f` (`InterstitialFibrosis`):
    /// within the subpleural reach (`maximumDepthMM` times the basal/posterior weight) a
    /// ground-glass background, the septal network (lobular cells, walls `septalThicknessMM`
    /// towards -250 HU) and fainter intralobular lines, fading in over 3 mm; with honeycombing,
    /// air cysts with 1 mm walls within `honeycombDepthMM` (times the weight) of the pleura.
    /// `depthMM` is the distance to the pleura, `lateral` -1 at the medial and 1 at the lateral
    /// edge of the lung's section, `posterior` 0 at its front and 1 at its back. Partial volume
    /// is drawn as a Gaussian wall profile.
    @inline(__always)
    func interstitialFibrosis(_ hu: Double, _ f: InterstitialFibrosis, x: Double, y: Double, z: Double,
                              depthMM: Double, lateral: Double, posterior: Double) -> Double {
        let weight = InterstitialFibrosis.weight(heightFraction: z / a.lungHeightMM, lateral: lateral,
                                                 posterior: posterior)
        let reach = f.maximumDepthMM * weight
        guard reach > 1, depthMM < reach + 3 else { return hu }
        let seed = f.textureSeed
        let patch = 0.5 + 0.5 * Scene.valueNoise(x / 16, y / 16, z / 16, seed: seed &+ 1)
        let w = Scene.smooth((reach - depthMM) / 3) * (0.7 + 0.3 * patch)
        guard w > 0.01 else { return hu }
        var out = hu
        out += (-700 - out) * 0.25 * f.severity * w
        let t = f.septalThicknessMM
        let septum = InterstitialFibrosis.cellWallDistance(x / f.lobuleMM, y / f.lobuleMM, z / f.lobuleMM,
                                                          seed: seed &+ 2) * f.lobuleMM
        out += (-250 - out) * 0.7 * w * Foundation.exp(-(septum * septum) / (t * t))
        let line = InterstitialFibrosis.cellWallDistance(x / 3.5, y / 3.5, z / 3.5, seed: seed &+ 3) * 3.5
        out += (-450 - out) * 0.45 * w * f.severity * Foundation.exp(-(line * line) / (0.35 * 0.35))
        let honeycomb = f.honeycombDepthMM * weight
        if honeycomb > 2 && depthMM < honeycomb + 1 {
            let h = Scene.smooth((honeycomb - depthMM) / 1.5)
            let wall = InterstitialFibrosis.cellWallDistance(x / f.cystMM, y / f.cystMM, z / f.cystMM,
                                                             seed: seed &+ 4) * f.cystMM
            let inWall = Foundation.exp(-(wall * wall) / (0.5 * 0.5))
            out += (-985 - out) * h * (1 - inWall)
            out += (-60 - out) * h * inWall
        }
        return out
    }

    /// Parenchyma HU `hu` inside or near consolidation `cons` (`Consolidation`): its
    /// airless core at the case's HU with a faint texture, and a ground-glass margin that
    /// fades out over `Consolidation.marginMM`. Skips the work outside its bounding ball.
    @inline(__always)
    func consolidation(_ hu: Double, _ cons: Consolidation, x: Double, y: Double, z: Double, seed: UInt64) -> Double {
        let p = SIMD3(x, y, z)
        let q = p - cons.center
        let reach = cons.boundingRadiusMM
        guard (q * q).sum() < reach * reach else { return hu }
        let sd = cons.signedDistance(p, anatomy: a, seed: seed)
        let margin = Consolidation.marginMM
        guard sd < margin + px else { return hu }
        var out = hu
        out += (-420 - out) * 0.75 * Scene.smooth((margin - sd) / margin)
        // Patchy inside: airless lung with ground-glass islands (partly filled acini), denser
        // towards the centre.
        let patch = Scene.valueNoise(x / 7, y / 7, z / 7, seed: seed &+ 67)
        let depth = Scene.smooth(-sd / 8)
        let solid = Scene.smooth((patch + 0.2 + 0.5 * depth) / 0.35)
        let texture = 14 * Scene.valueNoise(x / 2.5, y / 2.5, z / 2.5, seed: seed &+ 69)
        let level = -330 + (cons.hu + 330) * solid + texture
        out += (level - out) * coverage(sd)
        return out
    }

    /// Parenchyma HU `hu` in or near ground-glass patch `patch` (`GroundGlassOpacities`):
    /// hazy lung at the patch's HU, uneven (lobules more or less filled), fading into normal
    /// lung over `GroundGlassOpacities.edgeMM`; with crazy paving, 1 mm septal lines about a
    /// secondary lobule (10-20 mm) apart over it. Skips the work outside its bounding ball.
    @inline(__always)
    func groundGlass(_ hu: Double, _ patch: GroundGlassOpacities.Patch, x: Double, y: Double, z: Double,
                     seed: UInt64) -> Double {
        let p = SIMD3(x, y, z)
        let q = p - patch.center
        let reach = patch.boundingRadiusMM
        guard (q * q).sum() < reach * reach else { return hu }
        let sd = patch.signedDistance(p, seed: seed)
        let edge = GroundGlassOpacities.edgeMM
        guard sd < edge else { return hu }
        let inside = Scene.smooth((edge - sd) / (2 * edge))
        // Uneven: some lobules more filled than others, a few spared.
        let lobules = Scene.valueNoise(x / 6, y / 6, z / 6, seed: seed &+ 83)
        let filled = inside * Scene.smooth((lobules + 0.75) / 0.5)
        let uneven = 60 * lobules + 30 * Scene.valueNoise(x / 2, y / 2, z / 2, seed: seed &+ 87)
        var out = hu + (patch.hu + uneven - hu) * filled
        if patch.crazyPaving {
            // Zero crossings of a smooth noise: curved, closed lines, roughly polygonal cells.
            let n = abs(Scene.valueNoise(x / 7, y / 7, z / 7, seed: seed &+ 89))
            let septum = Scene.smooth((0.09 - n) / 0.04)
            out += (-200 - out) * 0.85 * septum * filled
        }
        return out
    }

    /// Mixes pleural fluid into lung HU `hu` at `depthMM` below the lung's surface where the
    /// effusion is `thicknessMM` deep: the compressed lung along the fluid becomes airless
    /// (soft tissue, with a ground-glass fringe on the aerated side), and the fluid itself is
    /// written into `hu`. Returns the fluid's coverage, which is not lung.
    @inline(__always)
    func pleuralFluid(_ hu: inout Double, _ effusion: PleuralEffusion, thicknessMM t: Double, depthMM: Double,
                      x: Double, y: Double, z: Double, seed: UInt64) -> Double {
        let rim = PleuralEffusion.rimMM(thicknessMM: t)
        guard depthMM < t + rim + 2.5 + px else { return 0 }
        hu += (-520 - hu) * 0.7 * Scene.smooth((t + rim + 2.5 - depthMM) / 2.5)
        hu += ((a.contrast ? 70 : 30) - hu) * coverage(depthMM - t - rim)
        let fluid = coverage(depthMM - t)
        let water = effusion.fluidHU + 4 * Scene.valueNoise(x / 6, y / 6, z / 6, seed: seed &+ 71)
        hu += (water - hu) * fluid
        return fluid
    }

    /// Smoothstep of t clamped to [0, 1].
    @inline(__always)
    static func smooth(_ t: Double) -> Double {
        let c = Swift.min(1, Swift.max(0, t))
        return c * c * (3 - 2 * c)
    }

    @inline(__always)
    static func segmentDistance2D(_ x: Double, _ y: Double, _ ax: Double, _ ay: Double, _ bx: Double, _ by: Double) -> Double {
        let dx = bx - ax, dy = by - ay
        var t = ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)
        t = Swift.min(1, Swift.max(0, t))
        let qx = ax + t * dx - x, qy = ay + t * dy - y
        return (qx * qx + qy * qy).squareRoot()
    }
}
