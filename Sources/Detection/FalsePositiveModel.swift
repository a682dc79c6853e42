import Foundation

/// False-positive reduction, trained by `triage train` on phantoms made with training seeds
/// only (scripts/train_detector.sh); parameters are committed as JSON in
/// Sources/Detection/Model/. Two classifiers on the same features:
/// - `trees` present: gradient-boosted trees (`BoostedTrees`) on the raw features; the score
///   is the sigmoid of their log-odds;
/// - otherwise: a logistic regression on standardised features fitted with L2-regularised
///   Newton/IRLS (Platt 1999: the sigmoid of a linear score fitted by maximum likelihood).
/// Both minimise the logistic loss, so the score in [0, 1] is close to a calibrated
/// probability that the candidate is a nodule.
public struct FalsePositiveModel: Codable, Sendable, Equatable {
    public static let schema = "triage.detector-model.v1"
    /// Names of the inputs, in the order `CandidateMeasurement.features` produces them.
    public static let featureNames = [
        "log1p_dot_response", "blob_sigma_mm", "roundness", "tubularity", "equivalent_diameter_mm", "elongation",
        "opened_away_fraction", "mean_hu_div100", "std_hu_div100", "solid_fraction", "distance_to_pleura_mm",
        "contrast_hu_div100", "through_plane_ratio", "inscribed_ratio", "log_volume_mm3", "axis_ratio",
        "boundary_fraction", "shell_bright_fraction", "shell_exits", "blob_smoothed_hu_div100",
        "pixel_spacing_mm", "slice_spacing_mm",
    ]

    public var schema: String
    /// "3d" or "2d".
    public var mode: String
    public var featureNames: [String]
    /// Feature standardisation: z = (x - mean) / scale.
    public var mean: [Double]
    public var scale: [Double]
    public var weights: [Double]
    public var bias: Double
    /// How the parameters were made (command, seeds, counts), for the record.
    public var training: [String: String]
    /// Boosted trees; when present they give the score and the linear part is not used.
    public var trees: BoostedTrees?

    enum CodingKeys: String, CodingKey {
        case schema, mode, mean, scale, weights, bias, training, trees
        case featureNames = "feature_names"
    }

    public init(mode: String, mean: [Double], scale: [Double], weights: [Double], bias: Double,
                training: [String: String]) {
        self.schema = Self.schema
        self.mode = mode
        self.featureNames = Self.featureNames
        self.mean = mean
        self.scale = scale
        self.weights = weights
        self.bias = bias
        self.training = training
    }

    /// Probability that the candidate is a nodule.
    public func score(_ features: [Double]) -> Double {
        if let trees { return 1 / (1 + exp(-trees.margin(features))) }
        var s = bias
        for k in 0..<min(features.count, weights.count) {
            let z = (features[k] - mean[k]) / (scale[k] > 0 ? scale[k] : 1)
            s += weights[k] * max(-8, min(8, z))
        }
        return 1 / (1 + exp(-s))
    }

    /// Checks that the parameters fit the feature list this build computes.
    public func validate() throws {
        guard schema == Self.schema else { throw DetectionError.modelUnreadable("schema \(schema)") }
        let n = Self.featureNames.count
        guard featureNames == Self.featureNames, mean.count == n, scale.count == n, weights.count == n,
              (mean + scale + weights + [bias]).allSatisfy({ $0.isFinite }) else {
            throw DetectionError.modelUnreadable("parameters do not match the \(n) features of this build")
        }
        if let trees, !trees.validate(featureCount: n) {
            throw DetectionError.modelUnreadable("malformed trees (child index, feature index or non-finite value)")
        }
    }

    /// Loads `fp-model-<mode>.json` from the module's resources; nil when absent.
    public static func bundled(mode: String) throws -> FalsePositiveModel? {
        guard let dir = Bundle.module.url(forResource: "Model", withExtension: nil) else { return nil }
        let url = dir.appendingPathComponent("fp-model-\(mode).json")
        guard let data = try? Data(contentsOf: url) else { return nil }
        let model: FalsePositiveModel
        do { model = try JSONDecoder().decode(FalsePositiveModel.self, from: data) } catch {
            throw DetectionError.modelUnreadable("\(url.lastPathComponent): \(error)")
        }
        try model.validate()
        return model
    }

    /// Used only before any model is trained (e.g. to collect training candidates): prefers
    /// round, compact, high-contrast candidates. Not used when a trained model is bundled.
    public static let prior = FalsePositiveModel(
        mode: "prior",
        mean: [3, 2, 0.4, 0.6, 6, 0.5, 0.3, -3, 1, 0.3, 5, 4, 1.5, 0.6, 4, 1.5, 0.1, 0.1, 1, -5, 0.8, 1.5],
        scale: [1, 1.5, 0.25, 0.25, 4, 0.2, 0.3, 3, 1, 0.3, 5, 3, 1, 0.3, 1.5, 0.5, 0.2, 0.1, 1, 2, 0.3, 1],
        weights: [0.8, 0, 1.5, 0, 0.3, 1, -1, 0, 0, 0, 0, 0.5, -1, 0.5, 0, -0.7, -1, -1, -0.5, 0, 0, 0],
        bias: -1, training: ["source": "hand-set prior, not trained"])

    /// Fits the model: L2-regularised logistic regression by Newton's method (IRLS) on
    /// standardised features. `labels` are 0 or 1.
    public static func fit(features: [[Double]], labels: [Double], mode: String, l2: Double = 1.0,
                           training: [String: String]) -> FalsePositiveModel {
        let n = featureNames.count
        let m = features.count
        var mean = [Double](repeating: 0, count: n), scale = [Double](repeating: 1, count: n)
        if m > 0 {
            for k in 0..<n {
                let col = features.map { $0[k] }
                let mu = col.reduce(0, +) / Double(m)
                let v = col.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(m)
                mean[k] = mu; scale[k] = v > 1e-12 ? v.squareRoot() : 1
            }
        }
        let z: [[Double]] = features.map { f in (0..<n).map { max(-8, min(8, (f[$0] - mean[$0]) / scale[$0])) } + [1] }
        var w = [Double](repeating: 0, count: n + 1)
        for _ in 0..<50 {
            var grad = [Double](repeating: 0, count: n + 1)
            var hess = [[Double]](repeating: [Double](repeating: 0, count: n + 1), count: n + 1)
            for i in 0..<m {
                var s = 0.0
                for k in 0...n { s += w[k] * z[i][k] }
                let p = 1 / (1 + exp(-s))
                let r = p * (1 - p)
                for a in 0...n {
                    grad[a] += (p - labels[i]) * z[i][a]
                    for b in a...n { hess[a][b] += r * z[i][a] * z[i][b] }
                }
            }
            for a in 0..<n { grad[a] += l2 * w[a]; hess[a][a] += l2 }  // bias unregularised
            hess[n][n] += 1e-9
            for a in 0...n { for b in 0..<a { hess[a][b] = hess[b][a] } }
            guard let step = solve(hess, grad) else { break }
            var change = 0.0
            for k in 0...n { w[k] -= step[k]; change = max(change, abs(step[k])) }
            if change < 1e-7 { break }
        }
        return FalsePositiveModel(mode: mode, mean: mean, scale: scale, weights: Array(w[0..<n]), bias: w[n],
                                  training: training)
    }

    /// Fits boosted trees, keeping the logistic fit's standardisation and weights for the
    /// record (they are what a reader can interpret; the trees give the score).
    public static func fitBoostedTrees(features: [[Double]], labels: [Double], mode: String, l2: Double = 1.0,
                                       parameters: BoostedTrees.Parameters = .init(),
                                       training: [String: String]) -> FalsePositiveModel {
        var model = fit(features: features, labels: labels, mode: mode, l2: l2, training: training)
        model.trees = BoostedTrees.fit(features: features, labels: labels, parameters: parameters)
        return model
    }

    /// Gaussian elimination with partial pivoting; nil when singular.
    static func solve(_ a: [[Double]], _ b: [Double]) -> [Double]? {
        var a = a, b = b
        let n = b.count
        for col in 0..<n {
            var piv = col
            for r in col..<n where abs(a[r][col]) > abs(a[piv][col]) { piv = r }
            guard abs(a[piv][col]) > 1e-14 else { return nil }
            a.swapAt(col, piv); b.swapAt(col, piv)
            for r in (col + 1)..<max(col + 1, n) {
                let f = a[r][col] / a[col][col]
                if f == 0 { continue }
                for c in col..<n { a[r][c] -= f * a[col][c] }
                b[r] -= f * b[col]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for r in stride(from: n - 1, through: 0, by: -1) {
            var s = b[r]
            for c in (r + 1)..<max(r + 1, n) { s -= a[r][c] * x[c] }
            x[r] = s / a[r][r]
        }
        return x
    }
}
