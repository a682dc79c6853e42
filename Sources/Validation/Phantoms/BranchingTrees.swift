import Foundation

/// Pulmonary artery, vein and bronchial trees grown into the lung by volume-filling
/// recursive partitioning (after Kitaoka et al. 1999 and Tawhai et al. 2000/2004): points
/// are scattered through the lung, each standing for the territory one terminal branch
/// supplies. A branch heads for the centroid of the points it serves, travels part of the way
/// there, then splits its points in two by a plane that CONTAINS the branch's own axis, so
/// both children keep heading outward (a partition into wedges around the branch, not into
/// near and far halves). The children's turn away from the parent is limited, so the path from
/// the hilum to the pleura is a long, gently curving line that tapers, with side branches
/// leaving it at Y-shaped forks - as pulmonary vessels look on an axial slice. Radii follow a
/// Murray-type law (r^k of a parent = sum of the children's, k = 2.5), so
/// r = rTerminal * n^(1/k) for a branch serving n points (capped at the hilum), which tapers
/// the tree from about 6 mm at the hilum to sub-millimetre twigs near the pleura.
struct BranchingTree {
    struct Node {
        var position: SIMD3<Double>
        var parent: Int
        var radiusMM: Double
        /// Number of terminal territories this branch serves.
        var load: Int
    }

    var nodes: [Node] = []

    /// r = rTerminal * n^exponent. Murray's law gives 1/3; measured pulmonary trees give
    /// diameter exponents of about 2.5-3 (Kassab 1993, Huang 1996), i.e. 0.33-0.4. The model's
    /// terminal points are far more numerous than real terminal units, and 0.4 made segmental
    /// vessels about twice as thick as on real CT; 0.34 gives ~3.5 mm radius segmental and
    /// ~2 mm subsegmental arteries.
    static let radiusExponent = 0.34

    /// Segments parent -> child with their radii.
    var segments: [TubeSegment] {
        nodes.indices.dropFirst().map { i in
            let n = nodes[i], p = nodes[n.parent]
            return TubeSegment(p.position, n.position, Swift.min(p.radiusMM, n.radiusMM * 1.08), n.radiusMM)
        }
    }

    /// Grows a tree from `root`, leaving it along `direction`, to `points`. `groups` are
    /// consecutive ranges of `points` (lobes, in order): while a branch serves more than one
    /// group, it splits off the first group (upper lobe first, as the pulmonary artery does)
    /// instead of splitting by geometry, so no branch crosses from one group to another.
    /// `loadScale` < 1 sizes a branch serving n territories as one serving n x loadScale (never
    /// below the terminal radius): a tree grown to twice the territories with 1/2 keeps the
    /// calibres of the sparser tree and adds fine vessels.
    /// `branching` 2 (`PhantomOptions.vesselTreeRevision`) caps the turn at each fork of the
    /// smaller branches at Murray's optimal angle, tapers the periphery less, and grows the last territories as spaced side branches instead of twig fans
    /// (`growSpacedStem`); its extra random draws come from `peripheralRandom`, so the tree's
    /// own stream is drawn as in revision 1. `branching` 3 also leans both halves of those side
    /// branches away from the hilum, as the larger branches are pulled (`outwardBend`).
    /// `avoiding` (vessel tree revision 3, the veins): the branches below the lobar trunks down
    /// to `VesselClearance.smallestSteeredRadiusMM` are steered away from these arteries, so
    /// the larger veins run between the bronchovascular bundles; the fine peripheral ones are
    /// not (steered, they converged into knots: `VesselClearance`).
    static func grow(root: SIMD3<Double>, direction: SIMD3<Double>, points: [SIMD3<Double>],
                     groups: [Int] = [], terminalRadiusMM: Double, maximumRadiusMM: Double,
                     loadScale: Double = 1, branching: Int = 1, peripheralRandom: PhantomRandom? = nil,
                     avoiding: VesselClearance? = nil,
                     random: inout PhantomRandom) -> BranchingTree {
        var spacedRandom = peripheralRandom ?? PhantomRandom(seed: 0)
        var tree = BranchingTree()
        // Revision 2: peripheral vessels a third thicker, the same calibre at 500 territories
        // (segmental), so the taper from hilum to pleura is gentler.
        let terminalMM = branching >= 2 ? terminalRadiusMM * BranchingTree.peripheralThickening : terminalRadiusMM
        let exponent = branching >= 2
            ? BranchingTree.radiusExponent - log(BranchingTree.peripheralThickening) / log(500)
            : BranchingTree.radiusExponent
        func radius(_ n: Int) -> Double {
            Swift.min(maximumRadiusMM, terminalMM * pow(Swift.max(1, Double(n) * loadScale), exponent))
        }
        tree.nodes.append(Node(position: root, parent: -1, radiusMM: radius(points.count), load: points.count))
        // Group boundaries as absolute indices into `points`.
        var bounds: [Int] = []
        var acc = 0
        for g in groups.dropLast() { acc += g; bounds.append(acc) }
        var work = points
        // Explicit stack: (parent node, range of `work`, the parent branch's unit direction,
        // this branch's share of its parent's load; 1 for lobar trunks).
        var stack: [(Int, Range<Int>, SIMD3<Double>, Double)] = [(0, 0..<work.count, normalized(direction), 1)]
        while let (parentIndex, range, parentDirection, share) = stack.popLast() {
            let n = range.count
            guard n > 0 else { continue }
            let from = tree.nodes[parentIndex].position
            if n == 1 {
                // Terminal twig towards its territory, but never turning back on its parent.
                let target = work[range.lowerBound]
                let length = Swift.min(((target - from) * (target - from)).sum().squareRoot(), 14 * terminalRadiusMM / 0.45)
                let outward = normalized(normalized(target - from) + 0.6 * normalized(from - root))
                let dir = limitTurn(outward, from: parentDirection, maxAngle: 0.5)
                tree.nodes.append(Node(position: from + dir * length, parent: parentIndex,
                                       radiusMM: terminalMM, load: 1))
                continue
            }
            var centroid = SIMD3<Double>.zero
            for i in range { centroid += work[i] }
            centroid /= Double(n)
            let crossesLobes = bounds.contains { $0 > range.lowerBound && $0 < range.upperBound }
            if n <= BranchingTree.stemLoad && !crossesLobes {
                if branching >= 2 {
                    tree.growSpacedStem(from: parentIndex, points: Array(work[range]), centroid: centroid, root: root,
                                        parentDirection: parentDirection, share: share, radius: radius,
                                        terminalRadiusMM: terminalMM, outwardBend: branching >= 3,
                                        random: &random, own: &spacedRandom)
                } else {
                    tree.growStem(from: parentIndex, points: Array(work[range]), centroid: centroid, root: root,
                                  parentDirection: parentDirection, share: share, radius: radius,
                                  terminalRadiusMM: terminalRadiusMM, random: &random)
                }
                continue
            }
            let toward = centroid - from
            let distance = (toward * toward).sum().squareRoot()
            // Lobar trunks may leave the hilum steeply (the upper-lobe artery rises). Otherwise
            // the turn at a fork follows the load split, as in optimal (Murray) bifurcations:
            // the child carrying most of the flow bends ~10-20 degrees, a small side branch up
            // to ~55; paths therefore run on as long, gently curving lines.
            // Sized by the lung supplied (the load scaled as the radius is), not the point count.
            let supplied = Double(n) * loadScale
            let maxTurn = share >= 1 ? 1.45
                : (supplied > 300 ? 1.2
                   : (branching >= 2 ? BranchingTree.murrayAngle(share: share) : Swift.min(1.05, 0.3 + 0.9 * (1 - share))))
            // A pull away from the hilum keeps paths radial (vessels fan out from the hilum
            // rather than wandering across the lung). It grows for small branches, whose few
            // territories give a noisy centroid: without it half of them ran back towards the
            // hilum and a slice showed short dashes in every direction.
            let radial = normalized(from - root)
            let pull = share >= 1 || parentIndex == 0 ? 0.0 : 0.3 + 1 / Double(n).squareRoot()
            var dir = limitTurn(normalized(normalized(toward) + pull * radial), from: parentDirection, maxAngle: maxTurn)
            if let avoiding, share < 1, parentIndex != 0, radius(n) >= avoiding.smallestSteeredRadiusMM {
                let ahead = Swift.min(0.4 * distance, 6 * radius(n))
                dir = limitTurn(avoiding.steer(dir, from: from, lookAheadMM: ahead, radiusMM: radius(n)),
                                from: parentDirection, maxAngle: maxTurn)
            }
            // Gentle tortuosity (a few degrees per branch, not a zigzag).
            dir = normalized(dir + random.unitVector() * 0.05)
            // Tawhai's 40% of the way to the centroid (big trunks sooner, lobar trunks within
            // 12-20%, so a lobe's first fork is near the hilum), but never past
            // the near edge of the territories (their 15% quantile along the branch), so the
            // children find their points ahead of them, not behind.
            let fraction = share >= 1 ? random.uniform(0.12, 0.2) : (supplied > 800 ? random.uniform(0.2, 0.3) : random.uniform(0.35, 0.5))
            var ahead = work[range].map { (($0 - from) * dir).sum() }
            let q = Int(Double(n - 1) * 0.15)
            let nearEdge = ahead.withUnsafeMutableBufferPointer { b -> Double in
                b.sort()
                return b[q]
            }
            let position = from + dir * Swift.max(Swift.min(distance * fraction, nearEdge), 1.5 * radius(n))
            tree.nodes.append(Node(position: position, parent: parentIndex, radiusMM: radius(n), load: n))
            let me = tree.nodes.count - 1
            // Lobe boundary inside this range: split there.
            if let b = bounds.first(where: { $0 > range.lowerBound && $0 < range.upperBound }) {
                stack.append((me, b..<range.upperBound, dir, 1))
                stack.append((me, range.lowerBound..<b, dir, 1))
                continue
            }
            // Principal axis of the points projected on the plane across the branch (power
            // iteration on their covariance), so the splitting plane contains the branch. Big
            // (lobar, segmental) territories split on their full principal axis instead: a
            // lobar trunk runs through the middle of its lobe, and wedges around it alone
            // would leave the part of the lobe behind its first fork (e.g. the upper lobe just
            // above the minor fissure) almost without vessels.
            let acrossBranch = supplied <= 300
            var cxx = 0.0, cyy = 0.0, czz = 0.0, cxy = 0.0, cxz = 0.0, cyz = 0.0
            for i in range {
                var d = work[i] - centroid
                if acrossBranch { d -= (d * dir).sum() * dir }
                cxx += d.x * d.x; cyy += d.y * d.y; czz += d.z * d.z
                cxy += d.x * d.y; cxz += d.x * d.z; cyz += d.y * d.z
            }
            var axis = normalized(SIMD3<Double>(1, 0.7, 0.3) - (SIMD3<Double>(1, 0.7, 0.3) * dir).sum() * dir)
            for _ in 0..<12 {
                let v = SIMD3(cxx * axis.x + cxy * axis.y + cxz * axis.z,
                              cxy * axis.x + cyy * axis.y + cyz * axis.z,
                              cxz * axis.x + cyz * axis.y + czz * axis.z)
                let norm = (v * v).sum().squareRoot()
                if norm < 1e-12 { break }
                axis = v / norm
            }
            // Sort the range along the axis and split unequally: mostly a small side branch
            // leaving at a wide angle while the larger child continues nearly straight (pulmonary
            // trees are strongly asymmetric), sometimes a near-even fork.
            var slice = Array(work[range])
            slice.sort { ($0 * axis).sum() < ($1 * axis).sum() }
            for (k, p) in slice.enumerated() { work[range.lowerBound + k] = p }
            var share = random.chance(0.7) ? random.uniform(0.1, 0.32) : random.uniform(0.32, 0.5)
            if random.chance(0.5) { share = 1 - share }   // which side the side branch leaves on
            let split = Swift.max(1, Swift.min(n - 1, Int((Double(n) * share).rounded())))
            stack.append((me, range.lowerBound..<(range.lowerBound + split), dir, Double(split) / Double(n)))
            stack.append((me, (range.lowerBound + split)..<range.upperBound, dir, Double(n - split) / Double(n)))
        }
        return tree
    }

    /// Revision 2's terminal radius over revision 1's.
    static let peripheralThickening = 4.0 / 3

    /// Branches serving at most this many territories end as a stem with side twigs.
    static let stemLoad = 8

    /// The last few territories of a branch: instead of more forks between blob-like groups
    /// of points (whose centroids point anywhere, which drew short dashes in every direction),
    /// a straight stem runs on outwards past them and gives off one twig per territory at
    /// 40-65 degrees, ending at the farthest one - the fine peripheral vessels seen on CT.
    mutating func growStem(from parentIndex: Int, points: [SIMD3<Double>], centroid: SIMD3<Double>,
                           root: SIMD3<Double>, parentDirection: SIMD3<Double>, share: Double,
                           radius: (Int) -> Double, terminalRadiusMM: Double, random: inout PhantomRandom) {
        let from = nodes[parentIndex].position
        let n = points.count
        let (dir, sorted, bendAxis, curvature) = stemCourse(from: from, points: points, centroid: centroid, root: root,
                                                            parentDirection: parentDirection,
                                                            maxTurn: Swift.min(1.05, 0.3 + 0.9 * (1 - share)),
                                                            random: &random)
        let twigCap = 30 * terminalRadiusMM
        var along = 0.0
        var stem = parentIndex
        for (k, p) in sorted.enumerated() {
            if k == n - 1 {
                // The stem ends at (towards) the last territory.
                appendTwig(from: stem, toward: p, axis: dir, maxAngle: 0.35, capMM: twigCap, minimumMM: 0.5,
                           radiusMM: terminalRadiusMM)
                break
            }
            let (projection, lateral) = BranchingTree.offset(of: p - from, along: dir)
            // The fork sits before the point's projection, so the twig leaves at an acute angle.
            along = Swift.max(along + 1.0, projection - 1.0 * lateral)
            nodes.append(Node(position: from + dir * along + bendAxis * (0.5 * curvature * along * along),
                              parent: stem, radiusMM: radius(n - k), load: n - k))
            stem = nodes.count - 1
            appendTwig(from: stem, toward: p, axis: dir, maxAngle: 0.9, capMM: twigCap, minimumMM: 0.5,
                       radiusMM: terminalRadiusMM)
        }
    }

    /// Appends a terminal-calibre segment from node `parent` towards `target`, turned at most
    /// `maxAngle` from `axis`, as long as the distance but at most `capMM` and at least
    /// `minimumMM`.
    private mutating func appendTwig(from parent: Int, toward target: SIMD3<Double>, axis: SIMD3<Double>,
                                     maxAngle: Double, capMM: Double, minimumMM: Double, radiusMM: Double) {
        let base = nodes[parent].position
        let d = target - base
        let len = Swift.min((d * d).sum().squareRoot(), capMM)
        let direction = BranchingTree.limitTurn(BranchingTree.normalized(d), from: axis, maxAngle: maxAngle)
        nodes.append(Node(position: base + direction * Swift.max(len, minimumMM), parent: parent,
                          radiusMM: radiusMM, load: 1))
    }

    /// `v` split into its length along the unit `axis` and its distance from it.
    private static func offset(of v: SIMD3<Double>, along axis: SIMD3<Double>) -> (projection: Double, lateral: Double) {
        let projection = (v * axis).sum()
        let sideways = v - projection * axis
        return (projection, (sideways * sideways).sum().squareRoot())
    }

    /// A stem's direction (towards its territories and away from the hilum, turned at most
    /// `maxTurn` from its parent), its territories in order along it, and its gentle bend
    /// (an arc of 80-250 mm radius in a random plane: perfectly straight stems looked like
    /// needles in the reformats). The two draws of the tree's stream are those of every stem.
    func stemCourse(from: SIMD3<Double>, points: [SIMD3<Double>], centroid: SIMD3<Double>, root: SIMD3<Double>,
                    parentDirection: SIMD3<Double>, maxTurn: Double, random: inout PhantomRandom)
        -> (direction: SIMD3<Double>, sorted: [SIMD3<Double>], bendAxis: SIMD3<Double>, curvature: Double) {
        let dir = BranchingTree.limitTurn(BranchingTree.normalized(BranchingTree.normalized(centroid - from)
                                              + 0.8 * BranchingTree.normalized(from - root)),
                                          from: parentDirection, maxAngle: maxTurn)
        let sorted = points.sorted { (($0 - from) * dir).sum() < (($1 - from) * dir).sum() }
        var bendAxis = random.unitVector()
        bendAxis = BranchingTree.normalized(bendAxis - (bendAxis * dir).sum() * dir)
        let curvature = 1 / random.uniform(80, 250)
        return (dir, sorted, bendAxis, curvature)
    }

    /// The angle (rad) between a parent and the child carrying `share` of its flow at a
    /// bifurcation of minimum work (Murray 1926; Zamir 1976), with radii r ~ flow^(1/3):
    /// cos(theta) = (1 + s^(4/3) - (1 - s)^(4/3)) / (2 s^(2/3)). The child carrying 80 % bends
    /// 19 degrees, an even fork 37 degrees each, a side branch with 10 % 66 degrees, so the
    /// main path runs on as a long, nearly straight line.
    static func murrayAngle(share: Double) -> Double {
        let s = Swift.min(Swift.max(share, 0.02), 0.98)
        let c = (1 + pow(s, 4.0 / 3) - pow(1 - s, 4.0 / 3)) / (2 * pow(s, 2.0 / 3))
        return acos(Swift.min(1, Swift.max(-1, c)))
    }

    /// Revision 2 of the last territories (`growStem` is revision 1): the stem runs on as the
    /// branch's main line, tapering, and gives off one side branch per territory at forks at
    /// least 3-6 mm apart (at full size; real peripheral arteries fork every few millimetres,
    /// not in fans), each leaving at Murray's angle for its share and bending half-way towards
    /// its territory, so a slice shows curving, branching lines rather than small stars.
    /// Draws the tree's stream (`random`) exactly as `growStem` does; its own geometry uses
    /// `own`. `outwardBend` (revision 3) adds a pull away from the hilum to both halves of each
    /// side branch.
    mutating func growSpacedStem(from parentIndex: Int, points: [SIMD3<Double>], centroid: SIMD3<Double>,
                                 root: SIMD3<Double>, parentDirection: SIMD3<Double>, share: Double,
                                 radius: (Int) -> Double, terminalRadiusMM: Double,
                                 outwardBend: Bool = false,
                                 random: inout PhantomRandom, own: inout PhantomRandom) {
        let from = nodes[parentIndex].position
        let n = points.count
        let (dir, sorted, bendAxis, curvature) = stemCourse(from: from, points: points, centroid: centroid, root: root,
                                                            parentDirection: parentDirection,
                                                            maxTurn: BranchingTree.murrayAngle(share: share),
                                                            random: &random)
        let scale = terminalRadiusMM / (0.45 * BranchingTree.peripheralThickening)
        let farthest = ((sorted[n - 1] - from) * dir).sum()
        let twigCap = 30 * 0.45 * scale
        var along = 0.0
        var stem = parentIndex
        for (k, p) in sorted.enumerated() {
            if k == n - 1 {
                appendTwig(from: stem, toward: p, axis: dir, maxAngle: 0.3, capMM: twigCap, minimumMM: 2 * scale,
                           radiusMM: terminalRadiusMM)
                break
            }
            let (projection, lateral) = BranchingTree.offset(of: p - from, along: dir)
            // Spaced forks, but the stem does not run on past its farthest territory (it
            // would meet the pleura): the spacing shrinks when the room ahead runs out.
            let room = (farthest - along) / Double(n - k)
            let spacing = Swift.min(own.uniform(3, 6) * scale, Swift.max(room, 1.0 * scale))
            along = Swift.max(along + spacing, projection - 1.2 * lateral)
            nodes.append(Node(position: from + dir * along + bendAxis * (0.5 * curvature * along * along),
                              parent: stem, radiusMM: radius(n - k), load: n - k))
            stem = nodes.count - 1
            let stemPosition = nodes[stem].position
            // The side branch: out at Murray's angle for one territory of the n - k left, then
            // a bend towards the territory.
            let t = p - stemPosition
            let len = Swift.min((t * t).sum().squareRoot(), twigCap)
            // Revision 3: both halves of the side branch lean away from the hilum.
            let out = outwardBend
                ? BranchingTree.normalized(BranchingTree.normalized(t) + 0.5 * BranchingTree.normalized(stemPosition - root))
                : BranchingTree.normalized(t)
            let first = BranchingTree.limitTurn(out, from: dir,
                                                maxAngle: BranchingTree.murrayAngle(share: 1 / Double(n - k)))
            let middle = stemPosition + first * Swift.max(0.5 * len, 1.5 * scale)
            nodes.append(Node(position: middle, parent: stem, radiusMM: terminalRadiusMM, load: 1))
            // The bend towards the territory also pulls away from the hilum (the territory
            // often lies behind the fork, and in revision 2 most of these halves ran back
            // towards the hilum).
            let bend = outwardBend
                ? BranchingTree.normalized(BranchingTree.normalized(p - middle) + 1.0 * BranchingTree.normalized(middle - root))
                : BranchingTree.normalized(p - middle)
            let towards = BranchingTree.limitTurn(bend, from: first, maxAngle: own.uniform(0.15, 0.45))
            nodes.append(Node(position: middle + towards * Swift.max(0.5 * len, 1.5 * scale),
                              parent: nodes.count - 1, radiusMM: terminalRadiusMM, load: 1))
        }
    }

    /// Cross product a x b.
    @inline(__always)
    static func cross(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
    }

    @inline(__always)
    static func normalized(_ v: SIMD3<Double>) -> SIMD3<Double> {
        let n = (v * v).sum().squareRoot()
        return n > 1e-12 ? v / n : SIMD3(1, 0, 0)
    }

    /// `dir` rotated towards `reference` so the angle between them is at most `maxAngle` (rad).
    static func limitTurn(_ dir: SIMD3<Double>, from reference: SIMD3<Double>, maxAngle: Double) -> SIMD3<Double> {
        let c = (dir * reference).sum()
        if c >= cos(maxAngle) { return dir }
        var perp = dir - c * reference
        let pn = (perp * perp).sum().squareRoot()
        if pn < 1e-9 {
            // Straight back: pick any perpendicular.
            perp = abs(reference.x) < 0.9 ? SIMD3(1, 0, 0) : SIMD3(0, 1, 0)
            perp = normalized(perp - (perp * reference).sum() * reference)
        } else {
            perp /= pn
        }
        return reference * cos(maxAngle) + perp * sin(maxAngle)
    }
}
