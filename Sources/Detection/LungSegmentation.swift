import Foundation

/// The lungs on the working grid, cropped to their bounding box (plus a margin).
struct LungMask {
    /// Size of the crop.
    var size: GridSize
    /// Grid index of the crop's voxel (0, 0, 0).
    var origin: SIMD3<Int>
    /// Closed lung mask (nodules touching the pleura included, trachea and main bronchi excluded).
    var inside: [Bool]
    /// Distance (mm) from each inside voxel to the nearest voxel outside the lungs; 0 outside.
    var distanceToPleuraMM: [Float]
    /// Lung volume in mL (closed mask).
    var volumeML: Double
    /// Voxels the trachea/main-bronchus tracking removed.
    var airwayVoxels: Int
    /// The main bronchi and their walls where step 7 took them out of the closed mask,
    /// crop-sized (empty in 2D or when there were none).
    var airwayWall: [Bool] = []
    /// Thick tissue of the mask continuous with the mediastinum (hilar vessels and bronchi,
    /// `HilarStructures`), crop-sized; empty when the rule is off or found no mediastinum.
    /// Set by the detector after segmentation.
    var hilar: [Bool] = []
    /// The tissue between the lungs (`HilarStructures.mediastinum`), crop-sized; empty when
    /// neither the hilar nor the mediastinal rule is on. Set by the detector; used by the
    /// mediastinal margin, the bump rule's base and the opacities' envelope.
    var mediastinum: [Bool] = []
    /// On the hilar voxels, the tissue's thickness in steps of `HilarStructures.thicknessStepMM`
    /// (`HilarStructures.structures`), crop-sized; empty with `hilar`.
    var hilarThickness: [UInt8] = []

    @inline(__always) func contains(gridX x: Int, y: Int, z: Int) -> Bool {
        let cx = x - origin.x, cy = y - origin.y, cz = z - origin.z
        guard cx >= 0, cy >= 0, cz >= 0, cx < size.nx, cy < size.ny, cz < size.nz else { return false }
        return inside[size.index(cx, cy, cz)]
    }

    /// Whether the grid voxel nearest fractional grid position `p` is inside the lungs.
    func containsNearest(gridPosition p: SIMD3<Double>) -> Bool {
        contains(gridX: Int(p.x.rounded()), y: Int(p.y.rounded()), z: Int(p.z.rounded()))
    }

    func distanceToPleura(gridX x: Int, y: Int, z: Int) -> Double {
        let cx = x - origin.x, cy = y - origin.y, cz = z - origin.z
        guard cx >= 0, cy >= 0, cz >= 0, cx < size.nx, cy < size.ny, cz < size.nz else { return 0 }
        return Double(distanceToPleuraMM[size.index(cx, cy, cz)])
    }

    /// Whether the voxel nearest grid position `p`, or any within `radiusMM` of it, belongs to
    /// the hilar structures (`spacingMM`: the grid's).
    func isNearHilarStructure(gridPosition p: SIMD3<Double>, radiusMM: Double, spacingMM: Double) -> Bool {
        Self.isNear(hilar, size: size, origin: origin, gridPosition: p, radiusMM: radiusMM, spacingMM: spacingMM)
    }

    /// Fraction of the voxels on a sphere of `radiusMM` around grid position `p` (a circle in
    /// 2D) that belong to the hilar structures; 0 when there are none. A trunk cut across
    /// leaves the sphere on both sides; a nodule on the mediastinal pleura ends inside it.
    /// Hilar voxels within `awayFromMediastinumMM` of the mediastinum (the base such a nodule
    /// sits on) are not counted; 0 counts them all.
    func hilarFractionOnSphere(gridPosition p: SIMD3<Double>, radiusMM: Double, spacingMM: Double,
                               awayFromMediastinumMM: Double = 0) -> Double {
        guard !hilar.isEmpty else { return 0 }
        let c = p - SIMD3(Double(origin.x), Double(origin.y), Double(origin.z))
        var onSphere = 0, marked = 0
        size.forEachVoxel(onSphereAround: c, radiusVoxels: radiusMM / spacingMM) { i, v in
            onSphere += 1
            guard hilar[i] else { return }
            if awayFromMediastinumMM > 0,
               isNearMediastinum(gridPosition: SIMD3(Double(v.x + origin.x), Double(v.y + origin.y), Double(v.z + origin.z)),
                                 radiusMM: awayFromMediastinumMM, spacingMM: spacingMM) { return }
            marked += 1
        }
        return onSphere == 0 ? 0 : Double(marked) / Double(onSphere)
    }

    /// Whether the hilar structure at grid position `p` is a ball on a neck: the hilar voxels
    /// at least `ratio` times as thick as the thickest one within 2 voxels of `p` (its radius
    /// r), flooded 6-connected from there, neither reach the mediastinum (a nodule joined to
    /// the hilum by a thinner vessel; a trunk cut across keeps its thickness, or gains it, all
    /// the way in) nor leave the radius r around `p` (a trunk behind a narrow junction: its
    /// core runs on along it). False when `p` is on no hilar voxel, or after `maximumVisited`
    /// voxels (a large trunk system: taken as a trunk).
    func isBallOnHilarNeck(gridPosition p: SIMD3<Double>, ratio: Double, spacingMM: Double,
                           maximumVisited: Int = 200_000) -> Bool {
        guard !hilar.isEmpty, hilarThickness.count == hilar.count, !mediastinum.isEmpty, ratio > 0 else { return false }
        let c = p - SIMD3(Double(origin.x), Double(origin.y), Double(origin.z))
        guard let (lo, hi) = Self.box(around: c, radius: 2, size: size) else { return false }
        var centreThickness: UInt8 = 0
        var seeds: [Int] = []
        for z in lo.z...hi.z {
            for y in lo.y...hi.y {
                for x in lo.x...hi.x where hilar[size.index(x, y, z)] {
                    seeds.append(size.index(x, y, z))
                    centreThickness = max(centreThickness, hilarThickness[size.index(x, y, z)])
                }
            }
        }
        guard !seeds.isEmpty else { return false }
        let threshold = UInt8(min(255, (ratio * Double(centreThickness)).rounded(.up)))
        var visited = Set<Int>()
        var stack = seeds.filter { hilarThickness[$0] >= threshold }
        for i in stack { visited.insert(i) }
        // The core (voxels at least that thick) of a ball lies within its radius of the centre;
        // a trunk's core runs on along the trunk.
        let n = SIMD3(c.x.rounded(), c.y.rounded(), c.z.rounded())
        let radiusVoxels = Double(centreThickness) * Double(HilarStructures.thicknessStepMM) / spacingMM
        var escapes = false
        while let i = stack.popLast(), !escapes {
            if visited.count > maximumVisited { return false }
            let q = size.position(of: i)
            let d = SIMD3(Double(q.x), Double(q.y), Double(q.z)) - n
            if (d * d).sum() > radiusVoxels * radiusVoxels { escapes = true; break }
            size.forEachFaceNeighbour(of: i) { j in
                if mediastinum[j] { escapes = true; return }
                if hilar[j], hilarThickness[j] >= threshold, visited.insert(j).inserted { stack.append(j) }
            }
        }
        return !escapes
    }

    /// Whether the voxel nearest grid position `p`, or any within `radiusMM` of it, belongs to
    /// the mediastinum (`mediastinum`).
    func isNearMediastinum(gridPosition p: SIMD3<Double>, radiusMM: Double, spacingMM: Double) -> Bool {
        Self.isNear(mediastinum, size: size, origin: origin, gridPosition: p, radiusMM: radiusMM, spacingMM: spacingMM)
    }

    /// Whether the voxel nearest grid position `p`, or any within `radiusMM` of it, belongs to
    /// the main bronchial walls taken out of the mask (`airwayWall`).
    func isNearAirwayWall(gridPosition p: SIMD3<Double>, radiusMM: Double, spacingMM: Double) -> Bool {
        Self.isNear(airwayWall, size: size, origin: origin, gridPosition: p, radiusMM: radiusMM, spacingMM: spacingMM)
    }

    /// The crop's voxels within `radius` voxels of crop position `c` along each axis (the
    /// bounding box, clamped to the crop), or nil when none.
    static func box(around c: SIMD3<Double>, radius r: Double, size: GridSize) -> (lo: SIMD3<Int>, hi: SIMD3<Int>)? {
        let low = (c - SIMD3(repeating: r)).rounded(.down), high = (c + SIMD3(repeating: r)).rounded(.up)
        let lo = pointwiseMax(SIMD3<Int>(Int(low.x), Int(low.y), Int(low.z)), SIMD3<Int>(0, 0, 0))
        let hi = pointwiseMin(SIMD3<Int>(Int(high.x), Int(high.y), Int(high.z)),
                              SIMD3<Int>(size.nx - 1, size.ny - 1, size.nz - 1))
        guard lo.x <= hi.x, lo.y <= hi.y, lo.z <= hi.z else { return nil }
        return (lo, hi)
    }

    /// Whether `region` (crop-sized; empty means nowhere) holds the voxel nearest grid
    /// position `p` or any voxel within `radiusMM` of it.
    static func isNear(_ region: [Bool], size: GridSize, origin: SIMD3<Int>, gridPosition p: SIMD3<Double>,
                       radiusMM: Double, spacingMM: Double) -> Bool {
        guard !region.isEmpty else { return false }
        let c = p - SIMD3(Double(origin.x), Double(origin.y), Double(origin.z))
        let n = SIMD3(Int(c.x.rounded()), Int(c.y.rounded()), Int(c.z.rounded()))
        if n.x >= 0, n.y >= 0, n.z >= 0, n.x < size.nx, n.y < size.ny, n.z < size.nz,
           region[size.index(n.x, n.y, n.z)] {
            return true
        }
        let r = radiusMM / spacingMM
        guard let (lo, hi) = box(around: c, radius: r, size: size) else { return false }
        for z in lo.z...hi.z {
            for y in lo.y...hi.y {
                for x in lo.x...hi.x {
                    let d = SIMD3(Double(x), Double(y), Double(z)) - c
                    if (d * d).sum() <= r * r, region[size.index(x, y, z)] { return true }
                }
            }
        }
        return false
    }
}

/// Lung segmentation by thresholding and connectivity:
/// 1. air = HU below `airThresholdHU`;
/// 2. air connected (in each slice) to the image border is outside the body and dropped;
///    padding (-1024) outside a circular field of view is air reached from the border too;
/// 3. the remaining air's connected components (6-connected; 4 in 2D) of at least
///    `minimumLungVolumeML` and at least 15% of the largest are the lungs (at most two);
/// 4. the trachea and main bronchi are followed down from the apex and removed (3D only);
/// 5. holes are filled per slice (vessels and nodules enclosed by lung in a slice), except
///    holes whose 3D stack is somewhere wider than the largest nodule: the dome of the
///    diaphragm, ringed by the costophrenic recess in the lowest axial slices, and the
///    heart or mediastinum where the lungs meet around it;
/// 6. a closing with a ball of `closingRadiusMM` adds nodules touching the pleura;
/// 7. the tracked airway, and every other air region of at least 0.2 mL (20 mm^2 in 2D) that
///    lies partly (>= 10 %) outside the closed mask, is taken out again with everything within
///    `airwayWallMM` of it: steps 5 and 6 put the main bronchi and their walls back where
///    they enter the lungs (in the phantoms, and on real CT when the airway's air is not
///    connected to the lungs' at the threshold, the trachea and main bronchi are air regions
///    of their own that step 4 never sees).
enum LungSegmentation {
    /// `superiorIsHighZ`: the grid's last slice is the most superior (head) one; nil when
    /// the slices are not axial (no airway tracking then).
    static func segment(grid: WorkingGrid, configuration: DetectorConfiguration,
                        superiorIsHighZ: Bool?, workers: Int) throws -> LungMask {
        let size = grid.size
        let g = grid.spacingMM
        let threshold = Float(configuration.airThresholdHU)
        let twoD = size.nz == 1
        var air = [Bool](repeating: false, count: size.count)
        grid.hu.withUnsafeBufferPointer { hu in
            for i in 0..<size.count { air[i] = hu[i] < threshold }
        }
        // 2. Outside air, per slice, flood-filled from the slice border.
        var outside = [Bool](repeating: false, count: size.count)
        air.withUnsafeBufferPointer { airP in
            outside.withUnsafeMutableBufferPointer { outP in
                parallelSlabs(size.nz, workers: workers) { z in
                    floodFillFromBorder(slice: z, size: size, passable: airP, into: outP)
                }
            }
        }
        var internalAir = [Bool](repeating: false, count: size.count)
        for i in 0..<size.count { internalAir[i] = air[i] && !outside[i] }
        air = []

        // 3. Connected components.
        let (labels, volumes) = label(internalAir, size: size)
        let voxelML = twoD ? g * g * 10 / 1000 : g * g * g / 1000   // a 2D pixel stands for a 10 mm slab
        let order = volumes.indices.sorted { volumes[$0] > volumes[$1] }
        guard let largest = order.first, Double(volumes[largest]) * voxelML >= configuration.minimumLungVolumeML else {
            throw DetectionError.noLungs(reason: "no enclosed air region of at least \(configuration.minimumLungVolumeML) mL")
        }
        var keep = Set<Int32>()
        for l in order.prefix(2) where Double(volumes[l]) * voxelML >= configuration.minimumLungVolumeML
            && volumes[l] * 100 >= volumes[largest] * 15 {
            keep.insert(Int32(l + 1))
        }
        // Air regions that are not lung but may end up inside the mask: the trachea, main
        // bronchi and oesophagus when they are not connected to the lungs' air (thin walls at
        // the threshold, or in 2D), and cavities or cysts within the lungs. Step 7 sorts them.
        let minimumOtherAirVoxels = Int(twoD ? 20 / (g * g) : 200 / (g * g * g))
        let isLung = -2, isIgnored = -1
        var slotOfLabel = [Int](repeating: isIgnored, count: volumes.count + 1)
        var otherAir: [[Int]] = []
        for l in volumes.indices {
            if keep.contains(Int32(l + 1)) {
                slotOfLabel[l + 1] = isLung
            } else if volumes[l] >= minimumOtherAirVoxels {
                slotOfLabel[l + 1] = otherAir.count
                otherAir.append([])
            }
        }
        var lung = [Bool](repeating: false, count: size.count)
        labels.withUnsafeBufferPointer { labelP in
            for i in 0..<size.count where labelP[i] != 0 {
                let slot = slotOfLabel[Int(labelP[i])]
                if slot == isLung { lung[i] = true } else if slot >= 0 { otherAir[slot].append(i) }
            }
        }

        // 4. Airways.
        var airway: [Int] = []
        if !twoD, let superiorHigh = superiorIsHighZ {
            airway = removeAirways(&lung, outside: outside, size: size, spacingMM: g, superiorIsHighZ: superiorHigh)
        }

        // Bounding box with a margin for the closing.
        var lo = SIMD3(Int.max, Int.max, Int.max), hi = SIMD3(-1, -1, -1)
        for z in 0..<size.nz {
            for y in 0..<size.ny {
                let row = size.index(0, y, z)
                for x in 0..<size.nx where lung[row + x] {
                    lo = pointwiseMin(lo, SIMD3(x, y, z)); hi = pointwiseMax(hi, SIMD3(x, y, z))
                }
            }
        }
        guard hi.x >= 0 else { throw DetectionError.noLungs(reason: "lung mask empty after airway removal") }
        let margin = Int((configuration.closingRadiusMM / g).rounded(.up)) + 2
        let m = SIMD3(margin, margin, twoD ? 0 : margin)
        let clo = pointwiseMax(lo &- m, SIMD3(0, 0, 0))
        let chi = pointwiseMin(hi &+ m, SIMD3(size.nx - 1, size.ny - 1, size.nz - 1))
        let crop = GridSize(nx: chi.x - clo.x + 1, ny: chi.y - clo.y + 1, nz: chi.z - clo.z + 1)
        var mask = [Bool](repeating: false, count: crop.count)
        for z in 0..<crop.nz {
            for y in 0..<crop.ny {
                let s = size.index(clo.x, clo.y + y, clo.z + z), d = crop.index(0, y, z)
                for x in 0..<crop.nx { mask[d + x] = lung[s + x] }
            }
        }
        lung = []

        // 5. Holes per slice: whatever the border flood fill of the non-lung does not reach.
        var reached = [Bool](repeating: false, count: crop.count)
        let notLung = mask.map { !$0 }
        notLung.withUnsafeBufferPointer { p in
            reached.withUnsafeMutableBufferPointer { r in
                parallelSlabs(crop.nz, workers: workers) { z in
                    floodFillFromBorder(slice: z, size: crop, passable: p, into: r)
                }
            }
        }
        fillEnclosedHoles(&mask, reached: reached, size: crop, spacingMM: g,
                          largestAreaMM2: largestHoleAreaMM2(configuration))

        // 6. Closing, each lung on its own so the closing never bridges the mediastinum
        //    between the two lungs.
        let spacing = SIMD3(g, g, g)
        mask = closeEachComponent(mask, size: crop, spacing: spacing, radiusMM: configuration.closingRadiusMM,
                                  minimumVoxels: Int(configuration.minimumLungVolumeML / voxelML / 4), workers: workers)
        // Closing can also bridge across the mediastinum; it never adds outside air.
        for z in 0..<crop.nz {
            for y in 0..<crop.ny {
                let s = size.index(clo.x, clo.y + y, clo.z + z), d = crop.index(0, y, z)
                for x in 0..<crop.nx where outside[s + x] { mask[d + x] = false }
            }
        }
        // 7. Hole filling and closing put the main bronchi back where they enter each lung;
        //    take them out again with their wall: the tracked airway, and every other air
        //    region that lies partly outside the closed mask (it runs into the mediastinum:
        //    trachea, main bronchus, oesophagus). A cavity or cyst inside the lung is
        //    wholly inside and stays.
        var airwayAndWall = airway
        for voxels in otherAir {
            var outsideMask = 0
            for i in voxels {
                let p = size.position(of: i) &- clo
                if p.x < 0 || p.y < 0 || p.z < 0 || p.x >= crop.nx || p.y >= crop.ny || p.z >= crop.nz
                    || !mask[crop.index(p.x, p.y, p.z)] {
                    outsideMask += 1
                }
            }
            if outsideMask * 10 >= voxels.count { airwayAndWall += voxels }
        }
        let closedMask = mask
        removeAirwayWall(&mask, airway: airwayAndWall, gridSize: size, crop: crop, cropOrigin: clo, spacingMM: g,
                         wallMM: configuration.airwayWallMM, workers: workers)
        var airwayWall = [Bool](repeating: false, count: crop.count)
        for i in 0..<crop.count where closedMask[i] && !mask[i] { airwayWall[i] = true }
        let d2 = DistanceTransform.squaredDistance(isFeature: mask.map { !$0 }, size: crop, spacing: spacing,
                                                   workers: workers)
        let dist = d2.map { $0.squareRoot() }
        let count = mask.reduce(0) { $0 + ($1 ? 1 : 0) }
        return LungMask(size: crop, origin: clo, inside: mask, distanceToPleuraMM: dist,
                        volumeML: Double(count) * voxelML, airwayVoxels: airway.count, airwayWall: airwayWall)
    }

    /// A hole wider than a disc of 1.25 x `maximum_diameter_mm` in some slice is anatomy
    /// (diaphragm, heart), not a nodule or vessel.
    static func largestHoleAreaMM2(_ configuration: DetectorConfiguration) -> Double {
        let r = 0.625 * configuration.maximumDiameterMM
        return Double.pi * r * r
    }

    /// Marks as lung the voxels no border flood fill `reached` (the holes of each slice),
    /// one 3D component of holes at a time, skipping components whose cross-section in some
    /// slice exceeds `largestAreaMM2`. A component is followed through the slices so that the
    /// small tip of the diaphragm's dome goes with its wide base.
    static func fillEnclosedHoles(_ mask: inout [Bool], reached: [Bool], size: GridSize, spacingMM g: Double,
                                  largestAreaMM2: Double) {
        var hole = [Bool](repeating: false, count: size.count)
        for i in 0..<size.count where !reached[i] && !mask[i] { hole[i] = true }
        let (labels, volumes) = label(hole, size: size)
        guard !volumes.isEmpty else { return }
        let limit = Int(largestAreaMM2 / (g * g))
        var tooWide = [Bool](repeating: false, count: volumes.count + 1)
        var perSlice = [Int](repeating: 0, count: volumes.count + 1)
        var touched: [Int32] = []
        let plane = size.plane
        for z in 0..<size.nz {
            for i in (z * plane)..<((z + 1) * plane) where labels[i] > 0 {
                let l = Int(labels[i])
                if perSlice[l] == 0 { touched.append(labels[i]) }
                perSlice[l] += 1
            }
            for l in touched {
                if perSlice[Int(l)] > limit { tooWide[Int(l)] = true }
                perSlice[Int(l)] = 0
            }
            touched.removeAll(keepingCapacity: true)
        }
        for i in 0..<size.count where labels[i] > 0 && !tooWide[Int(labels[i])] { mask[i] = true }
    }

    /// Closes every component of at least `minimumVoxels` separately (in its own bounding
    /// box plus the radius) and returns the union with the input.
    static func closeEachComponent(_ mask: [Bool], size: GridSize, spacing: SIMD3<Double>, radiusMM: Double,
                                   minimumVoxels: Int, workers: Int) -> [Bool] {
        guard radiusMM > 0 else { return mask }
        let (labels, volumes) = label(mask, size: size)
        var result = mask
        var lo = [SIMD3<Int>](repeating: SIMD3(Int.max, Int.max, Int.max), count: volumes.count)
        var hi = [SIMD3<Int>](repeating: SIMD3(-1, -1, -1), count: volumes.count)
        for z in 0..<size.nz { for y in 0..<size.ny { for x in 0..<size.nx {
            let l = Int(labels[size.index(x, y, z)])
            if l > 0 { lo[l - 1] = pointwiseMin(lo[l - 1], SIMD3(x, y, z)); hi[l - 1] = pointwiseMax(hi[l - 1], SIMD3(x, y, z)) }
        } } }
        let margin = SIMD3(Int((radiusMM / spacing.x).rounded(.up)) + 1, Int((radiusMM / spacing.y).rounded(.up)) + 1,
                           size.nz == 1 ? 0 : Int((radiusMM / spacing.z).rounded(.up)) + 1)
        for l in volumes.indices where volumes[l] >= max(1, minimumVoxels) {
            // The box may reach past the grid: that padding is empty (not lung), so the
            // closing behaves at the grid's edge as it does inside.
            let a = lo[l] &- margin, b = hi[l] &+ margin
            let box = GridSize(nx: b.x - a.x + 1, ny: b.y - a.y + 1, nz: b.z - a.z + 1)
            var sub = [Bool](repeating: false, count: box.count)
            let label = Int32(l + 1)
            for z in max(0, a.z)...min(size.nz - 1, b.z) { for y in max(0, a.y)...min(size.ny - 1, b.y) {
                for x in max(0, a.x)...min(size.nx - 1, b.x) {
                    sub[box.index(x - a.x, y - a.y, z - a.z)] = labels[size.index(x, y, z)] == label
                }
            } }
            let closed = DistanceTransform.close(sub, size: box, spacing: spacing, radiusMM: radiusMM, workers: workers)
            for z in max(0, a.z)...min(size.nz - 1, b.z) { for y in max(0, a.y)...min(size.ny - 1, b.y) {
                for x in max(0, a.x)...min(size.nx - 1, b.x) where closed[box.index(x - a.x, y - a.y, z - a.z)] {
                    result[size.index(x, y, z)] = true
                }
            } }
        }
        return result
    }

    /// 4-connected flood fill over `passable` voxels of slice `z`, seeded on the slice border.
    static func floodFillFromBorder(slice z: Int, size: GridSize, passable: UnsafeBufferPointer<Bool>,
                                    into filled: UnsafeMutableBufferPointer<Bool>) {
        let nx = size.nx, ny = size.ny, base = z * size.plane
        var stack: [Int32] = []
        stack.reserveCapacity(1024)
        func push(_ x: Int, _ y: Int) {
            let i = base + y * nx + x
            if passable[i] && !filled[i] { filled[i] = true; stack.append(Int32(y * nx + x)) }
        }
        for x in 0..<nx { push(x, 0); push(x, ny - 1) }
        for y in 0..<ny { push(0, y); push(nx - 1, y) }
        while let p = stack.popLast() {
            let x = Int(p) % nx, y = Int(p) / nx
            if x > 0 { push(x - 1, y) }
            if x + 1 < nx { push(x + 1, y) }
            if y > 0 { push(x, y - 1) }
            if y + 1 < ny { push(x, y + 1) }
        }
    }

    /// 6-connected (4 in 2D) component labels (1-based; 0 = background) and voxel counts
    /// (index l - 1 holds label l's count).
    static func label(_ mask: [Bool], size: GridSize) -> ([Int32], [Int]) {
        var labels = [Int32](repeating: 0, count: size.count)
        var volumes: [Int] = []
        var stack: [Int] = []
        let nx = size.nx, ny = size.ny, nz = size.nz, plane = size.plane
        for start in 0..<size.count where mask[start] && labels[start] == 0 {
            let l = Int32(volumes.count + 1)
            var n = 0
            labels[start] = l
            stack.append(start)
            while let i = stack.popLast() {
                n += 1
                let x = i % nx, y = (i / nx) % ny, z = i / plane
                if x > 0, mask[i - 1], labels[i - 1] == 0 { labels[i - 1] = l; stack.append(i - 1) }
                if x + 1 < nx, mask[i + 1], labels[i + 1] == 0 { labels[i + 1] = l; stack.append(i + 1) }
                if y > 0, mask[i - nx], labels[i - nx] == 0 { labels[i - nx] = l; stack.append(i - nx) }
                if y + 1 < ny, mask[i + nx], labels[i + nx] == 0 { labels[i + nx] = l; stack.append(i + nx) }
                if z > 0, mask[i - plane], labels[i - plane] == 0 { labels[i - plane] = l; stack.append(i - plane) }
                if z + 1 < nz, mask[i + plane], labels[i + plane] == 0 { labels[i + plane] = l; stack.append(i + plane) }
            }
            volumes.append(n)
        }
        return (labels, volumes)
    }

    /// Follows the trachea down from the most superior slice holding lung air and removes it
    /// and the main bronchi: in each slice, a small (< 6 cm^2) air region near the body's
    /// midline that overlaps the airway found one slice above. Tracking of a branch stops
    /// where its region grows large (it has entered the lung). Returns voxels removed.
    static func removeAirways(_ lung: inout [Bool], outside: [Bool], size: GridSize, spacingMM g: Double,
                              superiorIsHighZ: Bool) -> [Int] {
        let maxAreaVoxels = Int(600 / (g * g))
        let midlineToleranceMM = 30.0
        let zs: [Int] = superiorIsHighZ ? Array((0..<size.nz).reversed()) : Array(0..<size.nz)
        var previous = [Bool](repeating: false, count: size.plane)
        var removed: [Int] = []
        var started = false
        var slicesWithoutAirway = 0
        var seedSlicesLeft = Int(20 / g) + 1  // the trachea must appear within 20 mm of the apex
        for z in zs {
            let base = z * size.plane
            let sliceMask = Array(lung[base..<(base + size.plane)])
            guard sliceMask.contains(true) else {
                if started { break } else { continue }
            }
            // Body midline in this slice: centre of the voxels that are not outside air.
            var sumX = 0.0, n = 0.0
            for i in 0..<size.plane where !outside[base + i] { sumX += Double(i % size.nx); n += 1 }
            let midX = n > 0 ? sumX / n : Double(size.nx) / 2
            let sliceSize = GridSize(nx: size.nx, ny: size.ny, nz: 1)
            let (labels, areas) = label2D(sliceMask, size: sliceSize)
            var current = [Bool](repeating: false, count: size.plane)
            var found = false
            for (li, area) in areas.enumerated() where area <= maxAreaVoxels {
                let l = Int32(li + 1)
                var overlaps = false, cx = 0.0
                for i in 0..<size.plane where labels[i] == l {
                    cx += Double(i % size.nx)
                    if previous[i] { overlaps = true }
                }
                cx /= Double(area)
                let central = abs(cx - midX) * g <= midlineToleranceMM
                if (started && overlaps) || (!started && seedSlicesLeft > 0 && central) {
                    for i in 0..<size.plane where labels[i] == l { current[i] = true }
                    found = true
                }
            }
            if !started { seedSlicesLeft -= 1 }
            if found {
                started = true
                for i in 0..<size.plane where current[i] { lung[base + i] = false; removed.append(base + i) }
                previous = current
                slicesWithoutAirway = 0
            } else if started {
                slicesWithoutAirway += 1
                if slicesWithoutAirway > 0 { break }
            } else if seedSlicesLeft <= 0 {
                break
            }
        }
        return removed
    }

    /// Clears from the (cropped) `mask` the tracked airway voxels (`airway`: indices on the
    /// grid of `gridSize`) and every voxel within `wallMM` of them: the main bronchial wall,
    /// which the closing puts back inside the lungs and the dot filter answers where the
    /// bronchus leaves the mediastinum. Works in the airway's bounding box only.
    static func removeAirwayWall(_ mask: inout [Bool], airway: [Int], gridSize: GridSize, crop: GridSize,
                                 cropOrigin: SIMD3<Int>, spacingMM g: Double, wallMM: Double, workers: Int) {
        guard !airway.isEmpty else { return }
        let reach = Int((wallMM / g).rounded(.up))
        var lo = SIMD3(Int.max, Int.max, Int.max), hi = SIMD3(Int.min, Int.min, Int.min)
        for i in airway {
            let p = gridSize.position(of: i) &- cropOrigin
            lo = pointwiseMin(lo, p); hi = pointwiseMax(hi, p)
        }
        lo = pointwiseMax(lo &- reach, SIMD3(0, 0, 0))
        hi = pointwiseMin(hi &+ reach, SIMD3(crop.nx - 1, crop.ny - 1, crop.nz - 1))
        guard lo.x <= hi.x, lo.y <= hi.y, lo.z <= hi.z else { return }
        let box = GridSize(nx: hi.x - lo.x + 1, ny: hi.y - lo.y + 1, nz: hi.z - lo.z + 1)
        var isAirway = [Bool](repeating: false, count: box.count)
        for i in airway {
            let p = gridSize.position(of: i) &- cropOrigin &- lo
            guard p.x >= 0, p.y >= 0, p.z >= 0, p.x < box.nx, p.y < box.ny, p.z < box.nz else { continue }
            isAirway[box.index(p.x, p.y, p.z)] = true
        }
        let d2 = DistanceTransform.squaredDistance(isFeature: isAirway, size: box, spacing: SIMD3(g, g, g),
                                                   workers: workers)
        let limit = Float(wallMM * wallMM)
        for z in 0..<box.nz {
            for y in 0..<box.ny {
                let b = box.index(0, y, z), m = crop.index(lo.x, lo.y + y, lo.z + z)
                for x in 0..<box.nx where d2[b + x] <= limit { mask[m + x] = false }
            }
        }
    }

    static func label2D(_ mask: [Bool], size: GridSize) -> ([Int32], [Int]) {
        label(mask, size: GridSize(nx: size.nx, ny: size.ny, nz: 1))
    }
}
