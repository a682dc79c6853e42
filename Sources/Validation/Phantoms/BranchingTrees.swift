import Foundation

/// Pulmonary artery, vein and bronchial trees grown into the lung by recursive space
/// partitioning: points are scattered through the lung (each stands for the territory one
/// terminal branch supplies); a branch heads for the centroid of the points it serves,
/// then splits them (unequally, across their principal axis) between two children. Radii
/// follow a Murray-type law (r^k of a parent = sum of the children's, k = 2.5), so
/// r = rTerminal * n^(1/k) for a branch serving n points (capped at the hilum), which tapers the tree from about 5 mm at the hilum to
/// sub-millimetre twigs near the pleura. This is a simplified form of constrained
/// constructive optimisation (Schreiner & Buxbaum 1993) / space colonisation
/// (Runions et al. 2007), which both give space-filling trees.
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
    /// diameter exponents of about 2.5-2.7 (Kassab 1993, Huang 1996), i.e. 0.37-0.4, which
    /// keeps mid-sized (1-3 mm) vessels as plentiful as on real CT.
    static let radiusExponent = 0.4

    /// Segments parent -> child with their radii.
    var segments: [TubeSegment] {
        nodes.indices.dropFirst().map { i in
            let n = nodes[i], p = nodes[n.parent]
            return TubeSegment(p.position, n.position, Swift.min(p.radiusMM, n.radiusMM * 1.08), n.radiusMM)
        }
    }

    /// Grows a tree from `root` to `points`, terminal radius `terminalRadiusMM`.
    static func grow(root: SIMD3<Double>, points: [SIMD3<Double>], terminalRadiusMM: Double,
                     maximumRadiusMM: Double, random: inout PhantomRandom) -> BranchingTree {
        var tree = BranchingTree()
        let exponent = BranchingTree.radiusExponent
        let rootRadius = Swift.min(maximumRadiusMM, terminalRadiusMM * pow(Double(points.count), exponent))
        tree.nodes.append(Node(position: root, parent: -1, radiusMM: rootRadius, load: points.count))
        var work = points
        // Explicit stack: (parent node, range of `work`).
        var stack: [(Int, Range<Int>)] = [(0, 0..<work.count)]
        while let (parentIndex, range) = stack.popLast() {
            let n = range.count
            guard n > 0 else { continue }
            let from = tree.nodes[parentIndex].position
            let radius = Swift.min(maximumRadiusMM, terminalRadiusMM * pow(Double(n), exponent))
            if n == 1 {
                tree.nodes.append(Node(position: work[range.lowerBound], parent: parentIndex,
                                       radiusMM: terminalRadiusMM, load: 1))
                continue
            }
            var centroid = SIMD3<Double>.zero
            for i in range { centroid += work[i] }
            centroid /= Double(n)
            let toward = centroid - from
            // Large branches travel a smaller fraction of the way (the trunk splits early);
            // small ones go most of the way to their territory.
            let fraction = n > 200 ? random.uniform(0.3, 0.45) : random.uniform(0.45, 0.7)
            var step = toward * fraction
            let len = (step * step).sum().squareRoot()
            if len > 1e-6 {
                // A little tortuosity.
                let jitter = random.unitVector() * len * 0.12
                step += jitter - (jitter * step).sum() / (len * len) * step
            }
            let position = from + step
            tree.nodes.append(Node(position: position, parent: parentIndex, radiusMM: radius, load: n))
            let me = tree.nodes.count - 1
            // Principal axis of the points by power iteration on their covariance.
            var cxx = 0.0, cyy = 0.0, czz = 0.0, cxy = 0.0, cxz = 0.0, cyz = 0.0
            for i in range {
                let d = work[i] - centroid
                cxx += d.x * d.x; cyy += d.y * d.y; czz += d.z * d.z
                cxy += d.x * d.y; cxz += d.x * d.z; cyz += d.y * d.z
            }
            var axis = SIMD3<Double>(1, 0.7, 0.3)
            for _ in 0..<12 {
                let v = SIMD3(cxx * axis.x + cxy * axis.y + cxz * axis.z,
                              cxy * axis.x + cyy * axis.y + cyz * axis.z,
                              cxz * axis.x + cyz * axis.y + czz * axis.z)
                let norm = (v * v).sum().squareRoot()
                if norm < 1e-12 { break }
                axis = v / norm
            }
            // Sort the range along the axis, split unequally (monopodial-ish branching).
            var slice = Array(work[range])
            slice.sort { ($0 * axis).sum() < ($1 * axis).sum() }
            for (k, p) in slice.enumerated() { work[range.lowerBound + k] = p }
            let split = Swift.max(1, Swift.min(n - 1, Int((Double(n) * random.uniform(0.28, 0.72)).rounded())))
            stack.append((me, range.lowerBound..<(range.lowerBound + split)))
            stack.append((me, (range.lowerBound + split)..<range.upperBound))
        }
        return tree
    }
}
