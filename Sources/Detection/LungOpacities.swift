import Foundation

/// Opacities of the lung thicker than its vessels: connected regions of opaque lung that a
/// ball of `radiusMM` fits in everywhere (a consolidation, a mass, a thick atelectatic band,
/// a nodule of more than twice the radius). One opacity is one finding: a lobar
/// consolidation answers the dot filter at a dozen places along its edge, and each piece
/// measures like a solid or part-solid nodule against the pleura, so without this a
/// pneumonia fills the worklist with "nodules" (development seed 1300 with
/// `--consolidation-fraction 0.5`: 11-22 false positives per consolidation, docs/detection.md).
///
/// A consolidation that reaches the pleura is continuous with the chest wall, so the lung
/// mask leaves it out, as it leaves out the wall: the opacities are looked for in the lungs'
/// *envelope*, the lung mask closed with a ball of `envelopeRadiusMM`, which fills such a
/// bite out of the lung but not the chest wall around it (the lung is convex there).
///
/// How (on a grid of about `coarseSpacingMM`, blocks of the working grid, in the lung mask's
/// crop; the opacities are large, so the coarse grid loses nothing that matters and keeps
/// the step cheap):
/// 1. *envelope*: the blocks holding lung, closed with a ball of `envelopeRadiusMM` (on a
///    grid padded by the radius, `DistanceTransform.closePadded`: the lung mask's crop
///    leaves only `closing_radius_mm` around the lungs), without the mediastinum
///    (`HilarStructures.mediastinum`, when the detector traced it);
/// 2. *opaque*: envelope blocks whose mean HU is at or above `thresholdHU`
///    (`opacity_threshold_hu`, default -500 HU: dense lung; -700 would take in ground glass,
///    see `DetectorConfiguration.opacityThresholdHU` for why it is not the default);
/// 3. a morphological opening with a ball of `radiusMM`: vessels and airway walls thinner
///    than the ball's diameter, and nodules smaller than it, go;
/// 4. connected components (6-neighbours) of what remains, labelled 1, 2, ...
/// Two nodules joined by a vessel fall apart in step 3 unless the vessel is as thick as the
/// ball; two nodules pressed together stay one opacity (then the weaker one is not reported,
/// the price of the rule).
struct LungOpacities {
    /// Component label per coarse block (0: not in an opacity).
    var labels: [Int32]
    /// Coarse grid size, and working-grid voxels per block along (x, y, z).
    var size: GridSize
    var block: SIMD3<Int>
    /// Grid index of the crop's voxel (0, 0, 0).
    var origin: SIMD3<Int>
    /// Number of opacities.
    var count: Int
    /// Largest extent (mm, along x, y or z of its blocks' bounding box) of opacity `label`,
    /// at index `label - 1`.
    var extentsMM: [Double] = []

    /// Block size of the coarse grid (mm).
    static let coarseSpacingMM = 2.5
    /// Closing radius of the lungs' envelope (mm): fills a bite of up to about twice this
    /// across.
    static let envelopeRadiusMM = 30.0

    /// No opacities (the rule off).
    static let none = LungOpacities(labels: [], size: GridSize(nx: 0, ny: 0, nz: 0), block: SIMD3(1, 1, 1),
                                    origin: .zero, count: 0)

    static func find(grid: WorkingGrid, lungs: LungMask, thresholdHU: Float, radiusMM: Double,
                     workers: Int) -> LungOpacities {
        guard radiusMM > 0 else { return .none }
        let crop = lungs.size, origin = lungs.origin, gridSize = grid.size
        let k = max(1, Int((coarseSpacingMM / grid.spacingMM).rounded()))
        let block = SIMD3(k, k, crop.nz == 1 ? 1 : k)
        let size = GridSize(nx: (crop.nx + k - 1) / k, ny: (crop.ny + k - 1) / k,
                            nz: (crop.nz + block.z - 1) / block.z)
        // Per block: any lung, mean HU, mostly mediastinum.
        var hasLung = [Bool](repeating: false, count: size.count)
        var sumHU = [Float](repeating: 0, count: size.count)
        var voxels = [Int32](repeating: 0, count: size.count)
        var mediastinal = [Int32](repeating: 0, count: size.count)
        let mediastinum = lungs.mediastinum
        grid.hu.withUnsafeBufferPointer { hu in
            for z in 0..<crop.nz {
                for y in 0..<crop.ny {
                    let row = crop.index(0, y, z)
                    let gridRow = gridSize.index(origin.x, origin.y + y, origin.z + z)
                    let blockRow = size.index(0, y / block.y, z / block.z)
                    for x in 0..<crop.nx {
                        let b = blockRow + x / block.x
                        if lungs.inside[row + x] { hasLung[b] = true }
                        if !mediastinum.isEmpty && mediastinum[row + x] { mediastinal[b] += 1 }
                        sumHU[b] += hu[gridRow + x]
                        voxels[b] += 1
                    }
                }
            }
        }
        let spacing = SIMD3(Double(block.x), Double(block.y), Double(block.z)) * grid.spacingMM
        let envelope = DistanceTransform.closePadded(hasLung, size: size, spacing: spacing, radiusMM: envelopeRadiusMM,
                                        workers: workers)
        var notDense = [Bool](repeating: true, count: size.count)
        for b in 0..<size.count where envelope[b] && 2 * mediastinal[b] < voxels[b]
            && sumHU[b] >= thresholdHU * Float(voxels[b]) {
            notDense[b] = false
        }
        // Opening: erode (distance to non-dense > r), then the dense blocks within r of the
        // eroded set.
        let r2 = Float(radiusMM * radiusMM)
        let toNotDense = DistanceTransform.squaredDistance(isFeature: notDense, size: size, spacing: spacing,
                                                           workers: workers)
        let eroded = toNotDense.map { $0 > r2 }
        var labels = [Int32](repeating: 0, count: size.count)
        guard eroded.contains(true) else {
            return LungOpacities(labels: labels, size: size, block: block, origin: origin, count: 0)
        }
        let toEroded = DistanceTransform.squaredDistance(isFeature: eroded, size: size, spacing: spacing,
                                                         workers: workers)
        var count: Int32 = 0
        var stack: [Int] = []
        var extents: [Double] = []
        for seed in 0..<size.count where labels[seed] == 0 && eroded[seed] {
            count += 1
            labels[seed] = count
            stack.append(seed)
            var lo = size.position(of: seed), hi = lo
            while let i = stack.popLast() {
                let p = size.position(of: i)
                lo = pointwiseMin(lo, p)
                hi = pointwiseMax(hi, p)
                size.forEachFaceNeighbour(of: i) { j in
                    if labels[j] == 0 && !notDense[j] && toEroded[j] <= r2 { labels[j] = count; stack.append(j) }
                }
            }
            let blocks = hi &- lo &+ 1
            extents.append((SIMD3(Double(blocks.x), Double(blocks.y), Double(blocks.z)) * spacing).max())
        }
        return LungOpacities(labels: labels, size: size, block: block, origin: origin, count: Int(count),
                             extentsMM: extents)
    }

    /// The opacity holding the block of the grid voxel nearest grid position `p`, else one
    /// touching that block (a finding on an opacity's edge, just outside what the opening
    /// kept); 0: none. A wider search joined small juxtapleural nodules to opacities 50-60 mm
    /// away on development seeds (measured with the first, unpadded envelope), so it stays at
    /// one block.
    func label(atGridPosition p: SIMD3<Double>) -> Int {
        guard !labels.isEmpty else { return 0 }
        let x = Int(p.x.rounded()) - origin.x, y = Int(p.y.rounded()) - origin.y, z = Int(p.z.rounded()) - origin.z
        guard x >= 0, y >= 0, z >= 0 else { return 0 }
        let b = SIMD3(x / block.x, y / block.y, z / block.z)
        guard b.x < size.nx, b.y < size.ny, b.z < size.nz else { return 0 }
        if labels[size.index(b.x, b.y, b.z)] != 0 { return Int(labels[size.index(b.x, b.y, b.z)]) }
        let lo = pointwiseMax(b &- 1, SIMD3(0, 0, 0))
        let hi = pointwiseMin(b &+ 1, SIMD3(size.nx - 1, size.ny - 1, size.nz - 1))
        for bz in lo.z...hi.z {
            for by in lo.y...hi.y {
                for bx in lo.x...hi.x where labels[size.index(bx, by, bz)] != 0 {
                    return Int(labels[size.index(bx, by, bz)])
                }
            }
        }
        return 0
    }
}
