import Foundation

/// The learned order of the faint candidates (3D): gradient-boosted trees (`BoostedTrees`)
/// that give each faint maximum of the dot filter the log-odds that it lies within a nodule,
/// from what the filter already knows about it (response, scale, smoothed HU at its centre,
/// roundness, tubularity). `BlobFilter.select` takes the faint candidates in this order
/// instead of `BlobFilter.faintRank`'s HU mass.
///
/// Why: a lung holds 12,000-22,000 faint maxima (noise and vessel twigs), and the maxima of
/// ground-glass nodules under 10 mm ranked 1,000th-4,000th by HU mass, beyond the 200 faint
/// candidates measured (docs/detection.md, "Where the CPM gap is"). The same idea as the
/// first stage of a detection cascade (Viola & Jones, "Rapid object detection using a
/// boosted cascade of simple features", CVPR 2001): a cheap classifier on cheap features
/// decides which candidates get the expensive measurement.
///
/// Trained by `triage train-prior` on the maxima of training-seed phantoms
/// (scripts/train_detector.sh); committed as Sources/Detection/Model/faint-prior-3d.json.
public struct FaintCandidatePrior: Codable, Sendable, Equatable {
    public static let schema = "triage.faint-candidate-prior.v1"
    /// Inputs, in the order `features(_:)` produces them.
    public static let featureNames = ["log1p_dot_response", "blob_sigma_mm", "blob_smoothed_hu_div100", "roundness",
                                      "tubularity"]

    public var schema: String
    public var featureNames: [String]
    public var trees: BoostedTrees
    /// How the parameters were made (command, seeds, counts), for the record.
    public var training: [String: String]

    enum CodingKeys: String, CodingKey {
        case schema, trees, training
        case featureNames = "feature_names"
    }

    public init(trees: BoostedTrees, training: [String: String]) {
        schema = Self.schema
        featureNames = Self.featureNames
        self.trees = trees
        self.training = training
    }

    /// The prior's inputs for one maximum of the dot filter.
    static func features(response: Double, sigmaMM: Double, smoothedHU: Double, roundness: Double,
                         tubularity: Double) -> [Double] {
        [log1p(max(0, response)), sigmaMM, smoothedHU / 100, roundness, tubularity]
    }

    static func features(_ c: BlobCandidate) -> [Double] {
        features(response: c.response, sigmaMM: c.sigmaMM, smoothedHU: c.smoothedHU, roundness: c.roundness,
                 tubularity: c.tubularity)
    }

    /// Log-odds that the maximum lies within a nodule (up to the constant that the training's
    /// subsampled negatives add: only the order is used).
    public func margin(_ features: [Double]) -> Double { trees.margin(features) }

    func margin(_ c: BlobCandidate) -> Double { trees.margin(Self.features(c)) }

    /// Checks parameters read from a file.
    public func validate() throws {
        guard schema == Self.schema else { throw DetectionError.modelUnreadable("schema \(schema), expected \(Self.schema)") }
        guard featureNames == Self.featureNames else {
            throw DetectionError.modelUnreadable("features \(featureNames) are not this build's \(Self.featureNames)")
        }
        guard trees.validate(featureCount: Self.featureNames.count) else {
            throw DetectionError.modelUnreadable("malformed trees (child index, feature index or non-finite value)")
        }
    }

    /// Name of the bundled file in Sources/Detection/Model/.
    public static let bundledFileName = "faint-prior-3d.json"

    /// Loads the bundled prior; nil when there is none.
    public static func bundled() throws -> FaintCandidatePrior? {
        guard let dir = Bundle.module.url(forResource: "Model", withExtension: nil) else { return nil }
        let url = dir.appendingPathComponent(bundledFileName)
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try decode(data, name: bundledFileName)
    }

    /// Decodes and checks a prior file.
    public static func decode(_ data: Data, name: String) throws -> FaintCandidatePrior {
        let prior: FaintCandidatePrior
        do { prior = try JSONDecoder().decode(FaintCandidatePrior.self, from: data) } catch {
            throw DetectionError.modelUnreadable("\(name): \(error)")
        }
        do { try prior.validate() } catch let DetectionError.modelUnreadable(reason) {
            throw DetectionError.modelUnreadable("\(name): \(reason)")
        }
        return prior
    }
}

/// A faint maximum of the dot filter before the candidates are chosen, with the prior's
/// inputs: the training material of `triage train-prior` (`NoduleDetector.faintMaxima`).
public struct FaintMaximum: Sendable {
    /// Position in patient coordinates (LPS, mm).
    public var centerMM: SIMD3<Double>
    /// `FaintCandidatePrior.featureNames`, in order.
    public var features: [Double]
    /// `BlobFilter.faintRank`: the hand-made order the prior replaces (for comparison).
    public var huMassRank: Double
}

extension FaintMaximum {
    /// Columns of the faint-maxima table (`triage train-prior --maxima-csv`, the training
    /// material of scripts/train_faint_network.py): the scan, the LPS centre, the features,
    /// `faintRank`'s key, and the index of the truth nodule the maximum lies in (-1: none).
    public static let tableHeader = (["seed", "case", "x_mm", "y_mm", "z_mm"] + FaintCandidatePrior.featureNames
                                     + ["hu_mass_rank", "nodule"]).joined(separator: ",")

    /// One table row per maximum, each ending in a newline. Numbers in Swift's shortest
    /// round-trip form; a comma in the case id (the phantom's own, "case-003") is dropped.
    public static func tableRows(_ maxima: [FaintMaximum], truth: [TruthNodule], seed: UInt64,
                                 caseID: String) -> String {
        let caseColumn = caseID.replacingOccurrences(of: ",", with: "")
        var text = ""
        for m in maxima {
            let nodule = FaintPriorTrainingSet.nodule(at: m.centerMM, truth: truth) ?? -1
            let values = [m.centerMM.x, m.centerMM.y, m.centerMM.z] + m.features + [m.huMassRank]
            text += "\(seed),\(caseColumn)," + values.map { "\($0)" }.joined(separator: ",") + ",\(nodule)\n"
        }
        return text
    }
}

/// Labelled faint maxima for `triage train-prior`. A maximum is positive when it lies within
/// the radius (at least 1.5 mm) of a truth nodule, the rule of `TrainingSet.add` and LUNA16.
/// A scan holds about a hundred times more negatives than positives; every
/// `negativeStride`-th negative is kept (deterministically), which shifts the log-odds by a
/// constant and leaves the order, the only thing the prior is used for, as it was.
public struct FaintPriorTrainingSet: Sendable {
    public var features: [[Double]] = []
    public var labels: [Double] = []
    public let negativeStride: Int
    /// Maxima seen (before the negatives were thinned), positives among them, scans added.
    public private(set) var maximaSeen = 0
    public private(set) var positives = 0
    public private(set) var scans = 0
    private var negativesSeen = 0

    public init(negativeStride: Int) {
        self.negativeStride = max(1, negativeStride)
    }

    public mutating func add(_ maxima: [FaintMaximum], truth: [TruthNodule]) {
        for m in maxima {
            let positive = Self.nodule(at: m.centerMM, truth: truth) != nil
            maximaSeen += 1
            if positive {
                positives += 1
            } else {
                negativesSeen += 1
                if (negativesSeen - 1) % negativeStride != 0 { continue }
            }
            features.append(m.features)
            labels.append(positive ? 1 : 0)
        }
        scans += 1
    }

    /// Index of the first truth nodule whose radius (at least 1.5 mm) holds `p`, or nil.
    public static func nodule(at p: SIMD3<Double>, truth: [TruthNodule]) -> Int? {
        truth.firstIndex { $0.contains(p) }
    }

    /// Per truth nodule, whether one of the `budget` maxima ranked highest by `keys` (highest
    /// first; ties in the maxima's order) lies within its radius: how a faint order fills a
    /// fixed budget, without the suppression of `BlobFilter.select`.
    public static func nodulesReached(by keys: [Double], maxima: [FaintMaximum], truth: [TruthNodule],
                                      budget: Int) -> [Bool] {
        precondition(keys.count == maxima.count)
        let order = maxima.indices.sorted { keys[$0] > keys[$1] || (keys[$0] == keys[$1] && $0 < $1) }
        var reached = [Bool](repeating: false, count: truth.count)
        for i in order.prefix(max(0, budget)) {
            if let k = nodule(at: maxima[i].centerMM, truth: truth) { reached[k] = true }
        }
        return reached
    }
}

extension FaintCandidatePrior {
    /// Fits the prior's trees on a labelled set of faint maxima.
    public static func fit(_ set: FaintPriorTrainingSet, parameters: BoostedTrees.Parameters,
                           training: [String: String]) -> FaintCandidatePrior {
        FaintCandidatePrior(trees: BoostedTrees.fit(features: set.features, labels: set.labels, parameters: parameters),
                            training: training)
    }
}
