import Foundation
import Kernels
import Volumes

/// A small 3D convolutional network that looks at a candidate's neighbourhood and says how
/// nodule-like it is: the second opinion beside the boosted trees, whose hand-made features
/// confuse small ground-glass and juxtavascular nodules with vessel branchings
/// (docs/detection.md, "Patch network").
///
/// After the false-positive reduction networks of LUNA16 (Setio et al., "Validation,
/// comparison, and combination of algorithms for automatic detection of pulmonary nodules in
/// computed tomography images: the LUNA16 challenge", Med. Image Anal. 42, 2017; Dou et al.,
/// "Multilevel contextual 3-D CNNs for false positive reduction in pulmonary nodule
/// detection", IEEE TBME 64(7), 2017), much smaller so it runs on two cores:
///
///     HU cube, patchSize^3 at stepMM (CandidatePatch), window -> [0, 1]
///       -> [conv 3^3 + ReLU -> max pool 2] x 3 -> conv 3^3 + ReLU -> global max
///       -> dense + ReLU -> dense -> logit
///
/// The convolutions run on the Kernels filter bank (`Convolution3D`, batch normalisation
/// folded into their weights by the training script). Trained by `scripts/train_patch_network.py`
/// on the candidates of the trees' training scans and three more training seeds; the weights are
/// `Sources/Detection/Model/patch-network-3d.json`.
public struct PatchNetwork: Sendable {
    public static let schema = "triage.patch-network.v1"

    /// Samples per axis of the input cube and their spacing in mm.
    public let patchSize: Int
    public let stepMM: Double
    /// HU window mapped to [0, 1] (values outside are clamped).
    public let windowHU: ClosedRange<Float>
    /// Convolution layers, each followed by a max pool of `poolSizes[k]` (1 = none).
    let convolutions: [Conv3DLayer]
    let poolSizes: [Int]
    /// Dense layers after the global max: weights `[out][in]`, ReLU on all but the last.
    let dense: [(weights: [Float], bias: [Float], inputs: Int, outputs: Int)]
    /// How the network's logit joins the trees' (`combinedScore`).
    public let combination: Combination
    public let training: [String: String]

    /// `score = sigmoid(treesLogit + weight * (networkLogit - offset))`, for candidates the trees
    /// score at least `treeScoreFloor`; below it the trees' score stands (the network is not
    /// run: it costs one or two milliseconds of CPU per candidate, and over 80 % of candidates
    /// are below).
    public struct Combination: Codable, Sendable, Equatable {
        public var weight: Double
        public var offset: Double
        public var treeScoreFloor: Double
        enum CodingKeys: String, CodingKey {
            case weight, offset
            case treeScoreFloor = "tree_score_floor"
        }
    }

    /// The network's logit for a candidate centred at `centerMM` (LPS) in `volume`.
    public func logit(volume: Volume, centerMM: SIMD3<Double>) -> Double {
        logit(patchHU: CandidatePatch.sample(volume: volume, centerMM: centerMM, size: patchSize, stepMM: stepMM))
    }

    /// The network's logit for a sampled HU cube (`patchSize`^3, `[z][y][x]`).
    public func logit(patchHU: [Float]) -> Double {
        precondition(patchHU.count == patchSize * patchSize * patchSize, "patch must be \(patchSize)^3")
        let lo = windowHU.lowerBound, width = windowHU.upperBound - windowHU.lowerBound
        var x = FeatureVolume(channels: 1, slices: patchSize, rows: patchSize, columns: patchSize,
                              data: patchHU.map { (min(max($0, lo), windowHU.upperBound) - lo) / width })
        for (layer, pool) in zip(convolutions, poolSizes) {
            // One candidate is one small volume: run it serially; callers parallelise over candidates.
            x = Convolution3D.apply(layer, to: x, context: .serial)
            if pool > 1 { x = MaxPool3D.apply(x, size: pool) }
        }
        var h = MaxPool3D.globalMax(x)
        for (k, d) in dense.enumerated() {
            var next = [Float](repeating: 0, count: d.outputs)
            for o in 0..<d.outputs {
                var acc = d.bias[o]
                for i in 0..<d.inputs { acc += d.weights[o * d.inputs + i] * h[i] }
                next[o] = k < dense.count - 1 ? max(acc, 0) : acc
            }
            h = next
        }
        return Double(h[0])
    }

    /// The combined score of a candidate the trees scored `treeScore`; `networkLogit` is only
    /// evaluated when the trees' score reaches the floor.
    public func combinedScore(treeScore: Double, networkLogit: () -> Double) -> Double {
        guard treeScore >= combination.treeScoreFloor else { return treeScore }
        let p = min(max(treeScore, 1e-9), 1 - 1e-9)
        let z = log(p / (1 - p)) + combination.weight * (networkLogit() - combination.offset)
        return 1 / (1 + exp(-z))
    }

    /// Loads `fileName` (by default `patch-network-3d.json`) from the module's resources; nil
    /// when absent.
    public static func bundled(fileName: String = "patch-network-3d.json") throws -> PatchNetwork? {
        guard let dir = Bundle.module.url(forResource: "Model", withExtension: nil) else { return nil }
        let url = dir.appendingPathComponent(fileName)
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try decode(data, name: url.lastPathComponent)
    }

    /// Decodes and checks a network file (shapes, finite weights).
    public static func decode(_ data: Data, name: String) throws -> PatchNetwork {
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: data) } catch {
            throw DetectionError.modelUnreadable("\(name): \(error)")
        }
        do { return try PatchNetwork(file) } catch let DetectionError.modelUnreadable(reason) {
            throw DetectionError.modelUnreadable("\(name): \(reason)")
        }
    }

    init(_ file: File) throws {
        func bad(_ reason: String) -> DetectionError { .modelUnreadable(reason) }
        guard file.schema == Self.schema else { throw bad("schema \(file.schema), expected \(Self.schema)") }
        guard (8...64).contains(file.patchSize), file.stepMM > 0, file.stepMM <= 4,
              file.windowHU.count == 2, file.windowHU[0] < file.windowHU[1] else {
            throw bad("patch_size, step_mm or window_hu out of range")
        }
        guard !file.convolutions.isEmpty, !file.dense.isEmpty else { throw bad("no layers") }
        var channels = 1, extent = file.patchSize
        var convolutions: [Conv3DLayer] = [], pools: [Int] = []
        for (k, c) in file.convolutions.enumerated() {
            let w = try Self.floats(c.weights, "convolution \(k) weights")
            guard c.inputs == channels, c.outputs > 0, (1...7).contains(c.kernel), c.padding >= 0, c.padding < c.kernel,
                  w.count == c.outputs * c.inputs * c.kernel * c.kernel * c.kernel, c.bias.count == c.outputs,
                  (1...4).contains(c.pool) else {
                throw bad("convolution \(k): shapes do not chain (expects \(channels) input channels)")
            }
            extent = (extent + 2 * c.padding - c.kernel + 1) / c.pool
            guard extent >= 1 else { throw bad("convolution \(k): nothing left of the patch") }
            convolutions.append(Conv3DLayer(inChannels: c.inputs, outChannels: c.outputs, kernelSize: c.kernel,
                                            padding: c.padding, weights: w, bias: c.bias, relu: true))
            pools.append(c.pool)
            channels = c.outputs
        }
        var dense: [(weights: [Float], bias: [Float], inputs: Int, outputs: Int)] = []
        for (k, d) in file.dense.enumerated() {
            let w = try Self.floats(d.weights, "dense \(k) weights")
            guard d.inputs == channels, d.outputs > 0, w.count == d.inputs * d.outputs, d.bias.count == d.outputs else {
                throw bad("dense \(k): shapes do not chain (expects \(channels) inputs)")
            }
            dense.append((w, d.bias, d.inputs, d.outputs))
            channels = d.outputs
        }
        guard channels == 1 else { throw bad("the last layer must give one logit") }
        let all = convolutions.flatMap { $0.bias } + dense.flatMap { $0.weights + $0.bias }
        guard all.allSatisfy({ $0.isFinite }), file.combination.weight.isFinite, file.combination.offset.isFinite,
              file.combination.treeScoreFloor.isFinite else { throw bad("non-finite parameter") }
        patchSize = file.patchSize
        stepMM = file.stepMM
        windowHU = Float(file.windowHU[0])...Float(file.windowHU[1])
        self.convolutions = convolutions
        poolSizes = pools
        self.dense = dense
        combination = file.combination
        training = file.training
    }

    /// Little-endian float32, base64: a tenth of the size of decimal text.
    static func floats(_ base64: String, _ what: String) throws -> [Float] {
        guard let data = Data(base64Encoded: base64), data.count % 4 == 0 else {
            throw DetectionError.modelUnreadable("\(what): not base64 float32")
        }
        let values = (0..<(data.count / 4)).map { k -> Float in
            let b = data.index(data.startIndex, offsetBy: 4 * k)
            let bits = UInt32(data[b]) | UInt32(data[b + 1]) << 8 | UInt32(data[b + 2]) << 16 | UInt32(data[b + 3]) << 24
            return Float(bitPattern: bits)
        }
        guard values.allSatisfy({ $0.isFinite }) else { throw DetectionError.modelUnreadable("\(what): non-finite value") }
        return values
    }

    /// The file format (docs/detection.md, "Patch network").
    struct File: Decodable {
        var schema: String
        var patchSize: Int
        var stepMM: Double
        var windowHU: [Double]
        var convolutions: [Convolution]
        var dense: [Dense]
        var combination: Combination
        var training: [String: String]
        struct Convolution: Decodable {
            var inputs: Int, outputs: Int, kernel: Int, padding: Int, pool: Int
            var weights: String
            var bias: [Float]
        }
        struct Dense: Decodable {
            var inputs: Int, outputs: Int
            var weights: String
            var bias: [Float]
        }
        enum CodingKeys: String, CodingKey {
            case schema, convolutions, dense, combination, training
            case patchSize = "patch_size", stepMM = "step_mm", windowHU = "window_hu"
        }
    }
}
