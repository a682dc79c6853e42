import Foundation

/// Gradient-boosted decision trees for binary classification with the logistic loss, fitted
/// by second-order (Newton) boosting as in Chen & Guestrin, "XGBoost: A Scalable Tree
/// Boosting System", KDD 2016, with split candidates taken from per-feature quantile bins
/// (the histogram method of Ke et al., "LightGBM", NeurIPS 2017).
///
/// Why trees and not only a linear model: the candidate features interact (a large, bright
/// candidate is a nodule when it is round and a vessel junction when it is not), and trees
/// learn such interactions without hand-made feature crosses. The output `margin` is the
/// log-odds; `sigmoid(margin)` is the probability, which the logistic loss keeps close to
/// calibrated. Deterministic: no row or column subsampling.
public struct BoostedTrees: Codable, Sendable, Equatable {
    /// One node; a leaf has `feature == -1` and its output in `value`.
    public struct Node: Codable, Sendable, Equatable {
        public var feature: Int
        /// Goes left when `x[feature] < threshold`.
        public var threshold: Double
        public var left: Int
        public var right: Int
        /// Leaf output (log-odds contribution, learning rate already applied).
        public var value: Double
    }

    public var trees: [[Node]]
    /// Log-odds before any tree (the training set's base rate).
    public var baseMargin: Double

    /// Hyperparameters of `fit`.
    public struct Parameters: Sendable {
        public var rounds = 300
        public var maximumDepth = 3
        public var learningRate = 0.08
        /// L2 penalty on leaf outputs (XGBoost's lambda).
        public var l2 = 2.0
        /// Smallest sum of hessians p(1-p) in a leaf (XGBoost's min_child_weight).
        public var minimumChildWeight = 1.0
        /// Quantile bins per feature for split candidates.
        public var bins = 48
        public init() {}
    }

    /// Log-odds that the feature vector is a positive. Features missing from `x` are 0.
    public func margin(_ x: [Double]) -> Double {
        var s = baseMargin
        for tree in trees {
            var k = 0
            // The node count bounds the walk even on a malformed (cyclic) tree.
            for _ in 0..<tree.count {
                let node = tree[k]
                if node.feature < 0 { s += node.value; break }
                let v = node.feature < x.count ? x[node.feature] : 0
                k = v < node.threshold ? node.left : node.right
            }
        }
        return s
    }

    /// Structural check for parameters read from a file: child indices inside the tree and
    /// pointing forward (no cycles), features inside the feature list, finite numbers.
    public func validate(featureCount: Int) -> Bool {
        guard baseMargin.isFinite else { return false }
        for tree in trees {
            guard !tree.isEmpty else { return false }
            for (k, n) in tree.enumerated() {
                guard n.threshold.isFinite || n.feature < 0, n.value.isFinite else { return false }
                if n.feature >= 0 {
                    guard n.feature < featureCount, n.left > k, n.right > k, n.left < tree.count, n.right < tree.count
                    else { return false }
                }
            }
        }
        return true
    }

    /// Fits the trees to `labels` (0 or 1) by Newton boosting on the logistic loss.
    public static func fit(features: [[Double]], labels: [Double], parameters p: Parameters = Parameters()) -> BoostedTrees {
        let m = features.count
        guard m > 0, let nFeatures = features.first?.count, nFeatures > 0 else { return BoostedTrees(trees: [], baseMargin: 0) }
        let positives = labels.reduce(0, +)
        let rate = min(1 - 1e-6, max(1e-6, positives / Double(m)))
        let base = log(rate / (1 - rate))

        // Quantile bin edges per feature, and each row's bin index (UInt8: at most 255 bins).
        let binCount = max(2, min(255, p.bins))
        var edges: [[Double]] = []
        var binned = [UInt8](repeating: 0, count: m * nFeatures)
        for f in 0..<nFeatures {
            let column = features.map { $0[f] }.sorted()
            var e: [Double] = []
            for b in 1..<binCount {
                let v = column[min(m - 1, b * m / binCount)]
                if e.last.map({ v > $0 }) ?? true { e.append(v) }
            }
            edges.append(e)
            for i in 0..<m {
                // Number of edges <= x: rows in bin b satisfy edges[b-1] <= x < edges[b].
                var lo = 0, hi = e.count
                let x = features[i][f]
                while lo < hi { let mid = (lo + hi) / 2; if e[mid] <= x { lo = mid + 1 } else { hi = mid } }
                binned[i * nFeatures + f] = UInt8(lo)
            }
        }

        var marginOf = [Double](repeating: base, count: m)
        var grad = [Double](repeating: 0, count: m), hess = [Double](repeating: 0, count: m)
        var trees: [[Node]] = []
        for _ in 0..<p.rounds {
            for i in 0..<m {
                let q = 1 / (1 + exp(-marginOf[i]))
                grad[i] = q - labels[i]
                hess[i] = max(q * (1 - q), 1e-12)
            }
            var tree: [Node] = []
            // Breadth-first growth: (node index, rows, depth).
            var work: [(Int, [Int], Int)] = []
            tree.append(Node(feature: -1, threshold: 0, left: -1, right: -1, value: 0))
            work.append((0, Array(0..<m), 0))
            var leafOfRow = [Int](repeating: 0, count: m)
            while !work.isEmpty {
                let (nodeIndex, rows, depth) = work.removeFirst()
                var G = 0.0, H = 0.0
                for i in rows { G += grad[i]; H += hess[i] }
                let leafValue = -G / (H + p.l2) * p.learningRate
                var bestGain = 1e-9, bestFeature = -1, bestBin = 0
                if depth < p.maximumDepth && H >= 2 * p.minimumChildWeight {
                    let parentScore = G * G / (H + p.l2)
                    for f in 0..<nFeatures where !edges[f].isEmpty {
                        let nb = edges[f].count + 1
                        var gSum = [Double](repeating: 0, count: nb), hSum = [Double](repeating: 0, count: nb)
                        for i in rows {
                            let b = Int(binned[i * nFeatures + f])
                            gSum[b] += grad[i]; hSum[b] += hess[i]
                        }
                        var gl = 0.0, hl = 0.0
                        for b in 0..<(nb - 1) {
                            gl += gSum[b]; hl += hSum[b]
                            let gr = G - gl, hr = H - hl
                            guard hl >= p.minimumChildWeight, hr >= p.minimumChildWeight else { continue }
                            let gain = gl * gl / (hl + p.l2) + gr * gr / (hr + p.l2) - parentScore
                            if gain > bestGain { bestGain = gain; bestFeature = f; bestBin = b }
                        }
                    }
                }
                if bestFeature < 0 {
                    tree[nodeIndex].value = leafValue
                    for i in rows { leafOfRow[i] = nodeIndex }
                    continue
                }
                // Split between bin bestBin and bestBin + 1: x < edges[bestBin] goes left.
                let threshold = edges[bestFeature][bestBin]
                var leftRows: [Int] = [], rightRows: [Int] = []
                for i in rows {
                    if Int(binned[i * nFeatures + bestFeature]) <= bestBin { leftRows.append(i) } else { rightRows.append(i) }
                }
                let l = tree.count, r = tree.count + 1
                tree.append(Node(feature: -1, threshold: 0, left: -1, right: -1, value: 0))
                tree.append(Node(feature: -1, threshold: 0, left: -1, right: -1, value: 0))
                tree[nodeIndex] = Node(feature: bestFeature, threshold: threshold, left: l, right: r, value: 0)
                work.append((l, leftRows, depth + 1))
                work.append((r, rightRows, depth + 1))
            }
            for i in 0..<m { marginOf[i] += tree[leafOfRow[i]].value }
            trees.append(tree)
        }
        return BoostedTrees(trees: trees, baseMargin: base)
    }
}
