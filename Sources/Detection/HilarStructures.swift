import Foundation

/// Thick soft tissue inside the lung mask that is continuous with the mediastinum: the
/// pulmonary arteries, veins and main bronchial walls where they run from the mediastinum
/// through the hilum. In the slices they cross, lung surrounds them, so the per-slice hole
/// filling puts them inside the lung mask, and a 15-30 mm trunk cut across answers the dot
/// filter like a large nodule. They are not lung parenchyma: a finding centred on them is a
/// finding outside the lungs.
///
/// How (on the working grid, in the lung mask's crop, within `bandHalfWidthMM` of its centre
/// column, which lies between the lungs):
/// 1. the *mediastinum*: in each row (fixed y and z), the run of non-lung voxels through the
///    centre column that has lung at both ends (the tissue between the lungs: heart, great
///    vessels, oesophagus, spine);
/// 2. *tissue*: voxels of the lung mask or the mediastinum at or above the air threshold;
/// 3. a morphological opening of the tissue with a ball of `radiusMM`: what remains is
///    thicker than the ball's diameter (mediastinum, hilar trunks, large nodules);
/// 4. the part of the opening connected (6-neighbours) to the mediastinum, inside the lung
///    mask.
/// A vessel thinner than the ball's diameter breaks the connection, so the peripheral trees,
/// and the nodules on them, are not marked; a nodule pressed against a hilar trunk over
/// more than the ball's diameter is (the price of the rule, measured in docs/detection.md).
enum HilarStructures {
    /// Half-width (mm) of the band around the midline searched: the hila lie 40-70 mm from
    /// the midline, so thick tissue beyond this cannot be a hilar trunk.
    static let bandHalfWidthMM = 90.0

    /// The mediastinum of the lung mask's crop (crop-sized): in each row (fixed y and z),
    /// the run of voxels outside the mask through the crop's centre column that has lung at
    /// both ends. The crop is the lungs' bounding box with equal margins, so its centre column
    /// lies between the lungs. Rows where the column is lung, or the run reaches the crop's
    /// edge (above, below or in front of a lung), have none.
    static func mediastinum(lungs: LungMask) -> [Bool] {
        let lung = lungs.inside, size = lungs.size
        let midX = size.nx / 2
        var result = [Bool](repeating: false, count: size.count)
        for z in 0..<size.nz {
            for y in 0..<size.ny {
                let row = size.index(0, y, z)
                guard !lung[row + midX] else { continue }
                var a = midX, b = midX
                while a > 0, !lung[row + a - 1] { a -= 1 }
                while b < size.nx - 1, !lung[row + b + 1] { b += 1 }
                if a > 0, b < size.nx - 1 {
                    for x in a...b { result[row + x] = true }
                }
            }
        }
        return result
    }

    /// Thickness is stored in steps of this (mm), as a byte: up to 63.75 mm, more than any
    /// hilar trunk's radius.
    static let thicknessStepMM: Float = 0.25

    /// The marked voxels of `lungs.inside`, crop-sized (`mediastinum`: `mediastinum(lungs:)`;
    /// empty when `radiusMM` is 0), and, with `withThickness`, on them the tissue's thickness:
    /// the distance (mm) to the nearest voxel that is neither tissue of the lung mask nor of
    /// the mediastinum, in steps of `thicknessStepMM` (0 elsewhere; empty without), for
    /// `LungMask.isBallOnHilarNeck`.
    static func structures(lungs: LungMask, mediastinum: [Bool], grid: WorkingGrid, airThresholdHU: Float,
                           radiusMM: Double, withThickness: Bool = true,
                           workers: Int) -> (hilar: [Bool], thickness: [UInt8]) {
        guard radiusMM > 0 else { return ([], []) }
        let lung = lungs.inside, size = lungs.size, origin = lungs.origin, gridSize = grid.size
        let midX = size.nx / 2
        let halfBand = Int((bandHalfWidthMM / grid.spacingMM).rounded(.up))
        let x0 = max(0, midX - halfBand), x1 = min(size.nx - 1, midX + halfBand)
        let band = GridSize(nx: x1 - x0 + 1, ny: size.ny, nz: size.nz)
        var tissue = [Bool](repeating: false, count: band.count)
        var bandMediastinum = [Bool](repeating: false, count: band.count)
        grid.hu.withUnsafeBufferPointer { hu in
            for z in 0..<size.nz {
                for y in 0..<size.ny {
                    let row = size.index(0, y, z), bandRow = band.index(0, y, z)
                    let gridRow = gridSize.index(origin.x, origin.y + y, origin.z + z)
                    // Air outside the body in the mediastinum's run is not tissue, so it is
                    // never marked.
                    for x in x0...x1 {
                        bandMediastinum[bandRow + x - x0] = mediastinum[row + x]
                        if (lung[row + x] || mediastinum[row + x]) && hu[gridRow + x] >= airThresholdHU {
                            tissue[bandRow + x - x0] = true
                        }
                    }
                }
            }
        }
        // Opening: erode (distance to non-tissue > r), then the voxels within r of the eroded set.
        let spacing = SIMD3(repeating: grid.spacingMM)
        let r2 = Float(radiusMM * radiusMM)
        var isFeature = [Bool](repeating: false, count: band.count)
        for i in 0..<band.count { isFeature[i] = !tissue[i] }
        let toNonTissue = DistanceTransform.squaredDistance(isFeature: isFeature, size: band, spacing: spacing,
                                                            workers: workers)
        for i in 0..<band.count { isFeature[i] = toNonTissue[i] > r2 }
        let toEroded = DistanceTransform.squaredDistance(isFeature: isFeature, size: band, spacing: spacing,
                                                         workers: workers)
        // Flood the opening from the mediastinum.
        var marked = [Bool](repeating: false, count: band.count)
        var stack: [Int] = []
        for i in 0..<band.count where bandMediastinum[i] && tissue[i] && toEroded[i] <= r2 {
            marked[i] = true
            stack.append(i)
        }
        while let i = stack.popLast() {
            band.forEachFaceNeighbour(of: i) { j in
                if !marked[j], tissue[j], toEroded[j] <= r2 { marked[j] = true; stack.append(j) }
            }
        }
        // Back to the crop, inside the lung mask only.
        var result = [Bool](repeating: false, count: size.count)
        var thickness = [UInt8](repeating: 0, count: withThickness ? size.count : 0)
        let step = Self.thicknessStepMM
        for z in 0..<size.nz {
            for y in 0..<size.ny {
                let row = size.index(0, y, z), bandRow = band.index(0, y, z)
                for x in x0...x1 where marked[bandRow + x - x0] && lung[row + x] {
                    result[row + x] = true
                    guard withThickness else { continue }
                    thickness[row + x] = UInt8(min(255, (toNonTissue[bandRow + x - x0].squareRoot() / step).rounded()))
                }
            }
        }
        return (result, thickness)
    }
}
