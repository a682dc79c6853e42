import Foundation
import Detection
import SeriesInput
import Volumes

/// A small chest-like axial volume for the browser test and the docs' example pictures:
/// body with a fat rim, two lungs that narrow towards the apex, a spine, vessels running
/// through the lungs and nodules at known places. Not a phantom for detection (that is
/// `triage phantom`); just enough anatomy that a rendered report looks like one.
enum ChestLikeStudy {
    struct Nodule { var center: SIMD3<Double>; var diameterMM: Double; var hu: Float }

    /// `scale` 1 gives a 160 x 160 x 40 grid of 1.6 x 1.6 x 5 mm voxels; smaller scales give
    /// the same anatomy on a coarser grid (nodule centres are given on the scale-1 grid).
    static func make(seed: UInt64, nodules: [Nodule], identity: SeriesIdentity, scale k: Double = 1) -> ImageSeries {
        let columns = Int(160 * k), rows = Int(160 * k), slices = Int(40 * k)
        let spacing = VoxelSpacing(columnMM: 1.6 / k, rowMM: 1.6 / k, sliceMM: 5.0 / k)
        var rng = seed | 1
        func random() -> Double {   // xorshift64*, deterministic per seed
            rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27
            return Double((rng &* 2685821657736338717) >> 11) / Double(1 << 53)
        }
        var voxels = [Float](repeating: -1000, count: columns * rows * slices)
        let cx = Double(columns) / 2, cy = Double(rows) / 2
        for s in 0..<slices {
            let t = Double(s) / Double(slices - 1)               // 0 = base, 1 = apex
            let lungScale = 1 - 0.55 * t * t
            for y in 0..<rows {
                for x in 0..<columns {
                    let dx = (Double(x) - cx) / k, dy = (Double(y) - cy) / k   // scale-1 pixels
                    let body = (dx / 72) * (dx / 72) + (dy / 52) * (dy / 52)
                    var hu: Float = -1000
                    if body <= 1 { hu = body > 0.85 ? -100 : 40 }
                    for side in [-1.0, 1.0] {
                        let lx = (dx - side * 30) / (24 * lungScale), ly = (dy + 2) / (38 * lungScale)
                        // Flatter medial border where the heart sits.
                        if lx * lx + ly * ly <= 1 && !(side * dx < 14 && dy > -8) { hu = -860 }
                    }
                    if (dx / 9) * (dx / 9) + ((dy - 38) / 8) * ((dy - 38) / 8) <= 1 { hu = 450 }
                    voxels[(s * rows + y) * columns + x] = hu + (hu > -1000 ? Float(random() * 24 - 12) : 0)
                }
            }
        }
        // Vessels: straight tubes from each hilum, drawn only where there is lung.
        for _ in 0..<60 {
            let side = random() < 0.5 ? -1.0 : 1.0
            let start = SIMD3(cx + side * 16 * k, cy, Double(slices) * 0.45)
            let direction = SIMD3(side * (0.3 + random()), random() * 2 - 1, (random() * 2 - 1) * 0.35)
            let radius = (0.6 + random() * 1.2) * k
            for step in 0..<Int(160 * k) {
                let p = start + direction * (Double(step) * 0.35)
                let r = radius * (1 - Double(step) / 240)
                for dz in -1...1 { for dy in -2...2 { for dx in -2...2 {
                    let q = SIMD3(Int(p.x) + dx, Int(p.y) + dy, Int(p.z) + dz)
                    guard q.x >= 0, q.y >= 0, q.z >= 0, q.x < columns, q.y < rows, q.z < slices else { continue }
                    let d = SIMD3(Double(q.x) - p.x, Double(q.y) - p.y, (Double(q.z) - p.z) * 3.1) 
                    let i = (q.z * rows + q.y) * columns + q.x
                    if (d * d).sum() <= r * r, voxels[i] < -600 { voxels[i] = 30 }
                }}}
            }
        }
        for var n in nodules {
            n.center = SIMD3(n.center.x * k, n.center.y * k, n.center.z * k)
            let r = n.diameterMM / 2
            // Only the nodule's bounding box (plus the partial-volume rim).
            let reach = SIMD3(r + 1, r + 1, r + 1) / SIMD3(spacing.columnMM, spacing.rowMM, spacing.sliceMM)
            let low = SIMD3(max(0, Int(n.center.x - reach.x)), max(0, Int(n.center.y - reach.y)), max(0, Int(n.center.z - reach.z)))
            let high = SIMD3(min(columns - 1, Int(n.center.x + reach.x) + 1), min(rows - 1, Int(n.center.y + reach.y) + 1),
                             min(slices - 1, Int(n.center.z + reach.z) + 1))
            for s in low.z...high.z { for y in low.y...high.y { for x in low.x...high.x {
                let d = SIMD3((Double(x) - n.center.x) * spacing.columnMM, (Double(y) - n.center.y) * spacing.rowMM,
                              (Double(s) - n.center.z) * spacing.sliceMM)
                let dist = (d * d).sum().squareRoot()
                let i = (s * rows + y) * columns + x
                if dist <= r { voxels[i] = n.hu } else if dist <= r + 0.8 { voxels[i] = max(voxels[i], (n.hu - 860) / 2) }
            }}}
        }
        let affine = PatientAffine(origin: SIMD3(-128, -128, -260), columnStep: SIMD3(spacing.columnMM, 0, 0),
                                   rowStep: SIMD3(0, spacing.rowMM, 0), sliceStep: SIMD3(0, 0, spacing.sliceMM))
        let volume = Volume(columns: columns, rows: rows, slices: slices, voxels: voxels, spacing: spacing, affine: affine)
        return ImageSeries(kind: .dicom, identity: identity,
                           sourcePaths: (0..<slices).map { "/archive/2026-03-14/CT\(seed)/IM\(String(format: "%04d", $0 + 1)).dcm" },
                           grouping: "SeriesInstanceUID", volume: volume, orientation: "axial", warnings: [],
                           statistics: HUStatistics(minHU: -1000, maxHU: 450, meanHU: -500, voxelCount: voxels.count,
                                                    paddingVoxelCount: 0))
    }
}
