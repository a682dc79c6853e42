import Foundation

/// Splits a segmented region where it narrows: a marker watershed on the Euclidean distance
/// map (Beucher & Meyer, "The morphological approach to segmentation: the watershed
/// transformation", 1993; flooding in the order of Vincent & Soille, IEEE PAMI 13(6), 1991),
/// with basins merged across broad saddles so that an ellipsoidal or lobulated nodule stays
/// whole (the h-maxima idea, as a ratio).
///
/// Why: a nodule pressed against a vessel as thick as itself survives the vessel-cutting
/// opening together with the vessel (the ball that would cut the vessel would also erase
/// the nodule). In the distance map the two are two peaks joined by a saddle at the narrow
/// contact; the nodule is the basin of the peak at the candidate.
///
/// ```
///   distance:  peak (nodule) ── saddle (contact) ── peak (vessel)
///   kept:      the candidate's basin, plus every basin whose saddle with it is at least
///              `saddleRatio` x the smaller of the two peaks (a broad join: one object)
/// ```
enum DistanceWatershed {
    /// The part of `region` that belongs with voxel `core`.
    ///
    /// - Parameters:
    ///   - region: the mask, `size`-shaped.
    ///   - squaredDistance: squared distance (mm^2) from each region voxel to the nearest voxel
    ///     outside it (`DistanceTransform.squaredDistance` of the complement), or of a superset
    ///     of the region.
    ///   - core: a voxel of the region, normally the centre of the largest inscribed ball.
    ///   - saddleRatio: basins are merged when the distance at their saddle is at least this
    ///     fraction of the smaller peak distance; 0 merges everything (no split), 1 splits at
    ///     any narrowing.
    /// - Returns: the kept voxels (`size`-shaped), `core` among them; `region` itself when
    ///   nothing splits off.
    static func basin(of core: Int, region: [Bool], squaredDistance: [Float], size: GridSize,
                      saddleRatio: Double) -> [Bool] {
        guard saddleRatio > 0, region.indices.contains(core), region[core] else { return region }
        var voxels: [Int] = []
        for i in 0..<size.count where region[i] { voxels.append(i) }
        // Flood from the highest distance down; each voxel joins the basin of its highest
        // labelled neighbour (steepest ascent) or, with none, starts a basin of its own.
        voxels.sort { squaredDistance[$0] != squaredDistance[$1] ? squaredDistance[$0] > squaredDistance[$1] : $0 < $1 }
        var label = [Int32](repeating: -1, count: size.count)
        var peak: [Float] = []
        // Highest saddle (squared distance) between two basins, keyed by the pair.
        var saddle: [Pair: Float] = [:]
        let nx = size.nx, ny = size.ny, nz = size.nz, plane = size.plane
        for v in voxels {
            let x = v % nx, y = (v / nx) % ny, z = v / plane
            var bestLabel: Int32 = -1, bestD: Float = -1
            var seen: [Int32] = []
            for dz in -1...1 {
                let zz = z + dz
                guard zz >= 0, zz < nz else { continue }
                for dy in -1...1 {
                    let yy = y + dy
                    guard yy >= 0, yy < ny else { continue }
                    for dx in -1...1 {
                        let xx = x + dx
                        guard xx >= 0, xx < nx, dx != 0 || dy != 0 || dz != 0 else { continue }
                        let j = zz * plane + yy * nx + xx
                        let l = label[j]
                        guard l >= 0 else { continue }
                        if !seen.contains(l) { seen.append(l) }
                        if squaredDistance[j] > bestD { bestD = squaredDistance[j]; bestLabel = l }
                    }
                }
            }
            if bestLabel < 0 {
                label[v] = Int32(peak.count)
                peak.append(squaredDistance[v])
                continue
            }
            label[v] = bestLabel
            for l in seen where l != bestLabel {
                let key = Pair(bestLabel, l)
                // Descending order: the first meeting is the highest saddle.
                if saddle[key] == nil { saddle[key] = squaredDistance[v] }
            }
        }
        guard peak.count > 1 else { return region }
        // Merge across broad saddles, broadest first (Kruskal order), with union-find.
        var parent = Array(0..<peak.count)
        var groupPeak = peak
        func find(_ a: Int) -> Int {
            var a = a
            while parent[a] != a { parent[a] = parent[parent[a]]; a = parent[a] }
            return a
        }
        let ratio2 = Float(saddleRatio * saddleRatio)
        for (pair, s) in saddle.sorted(by: { $0.value > $1.value }) {
            let a = find(Int(pair.a)), b = find(Int(pair.b))
            guard a != b else { continue }
            if s >= ratio2 * min(groupPeak[a], groupPeak[b]) {
                parent[b] = a
                groupPeak[a] = max(groupPeak[a], groupPeak[b])
            }
        }
        let kept = find(Int(label[core]))
        var out = [Bool](repeating: false, count: size.count)
        for v in voxels where find(Int(label[v])) == kept { out[v] = true }
        return out
    }

    /// An unordered pair of basin labels.
    private struct Pair: Hashable {
        let a: Int32, b: Int32
        init(_ x: Int32, _ y: Int32) { a = min(x, y); b = max(x, y) }
    }
}
