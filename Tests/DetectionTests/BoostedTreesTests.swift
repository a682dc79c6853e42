import Foundation
import Testing
@testable import Detection

/// A small deterministic pseudo-random stream for test data (SplitMix64).
private struct SplitMix64 {
    var state: UInt64
    mutating func next() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }
}

/// Points in [-1, 1]^2 (plus a noise feature) labelled by the XOR of the signs of the first
/// two coordinates: no linear model can beat chance on it, a depth-2 tree can be exact.
private func xorSet(_ n: Int, seed: UInt64) -> ([[Double]], [Double]) {
    var rng = SplitMix64(state: seed)
    var x: [[Double]] = [], y: [Double] = []
    for _ in 0..<n {
        let a = 2 * rng.next() - 1, b = 2 * rng.next() - 1, noise = rng.next()
        x.append([a, b, noise])
        y.append((a > 0) != (b > 0) ? 1 : 0)
    }
    return (x, y)
}

@Suite("Boosted trees")
struct BoostedTreesTests {
    @Test("learn an interaction a linear model cannot (XOR), on held-out points")
    func xorHeldOut() {
        let (x, y) = xorSet(2000, seed: 1)
        var p = BoostedTrees.Parameters()
        p.rounds = 60
        p.maximumDepth = 2
        p.learningRate = 0.3
        let trees = BoostedTrees.fit(features: x, labels: y, parameters: p)
        let (tx, ty) = xorSet(1000, seed: 2)
        // Points near an axis are ambiguous for the binned thresholds; count the rest.
        var right = 0, counted = 0
        for (f, label) in zip(tx, ty) where abs(f[0]) > 0.05 && abs(f[1]) > 0.05 {
            counted += 1
            if (trees.margin(f) > 0) == (label > 0.5) { right += 1 }
        }
        #expect(Double(right) / Double(counted) > 0.97)
        // The logistic model on the same data stays near chance.
        let linear = FalsePositiveModel.fit(features: x.map { $0 + Array(repeating: 0, count: FalsePositiveModel.featureNames.count - 3) }, labels: y,
                                            mode: "test", training: [:])
        var linearRight = 0
        for (f, label) in zip(tx, ty) where (linear.score(f + Array(repeating: 0, count: FalsePositiveModel.featureNames.count - 3)) > 0.5) == (label > 0.5) {
            linearRight += 1
        }
        #expect(Double(linearRight) / Double(tx.count) < 0.65)
    }

    @Test("probabilities are calibrated on a known-probability problem")
    func calibration() {
        // Label 1 with probability 0.2 when x < 0.5 and 0.7 otherwise.
        var rng = SplitMix64(state: 7)
        var x: [[Double]] = [], y: [Double] = []
        for _ in 0..<6000 {
            let v = rng.next()
            x.append([v])
            y.append(rng.next() < (v < 0.5 ? 0.2 : 0.7) ? 1 : 0)
        }
        var p = BoostedTrees.Parameters()
        p.rounds = 100
        p.maximumDepth = 1
        let trees = BoostedTrees.fit(features: x, labels: y, parameters: p)
        let low = 1 / (1 + exp(-trees.margin([0.25]))), high = 1 / (1 + exp(-trees.margin([0.75])))
        #expect(abs(low - 0.2) < 0.04)
        #expect(abs(high - 0.7) < 0.04)
    }

    @Test("a model file with a cyclic or out-of-range tree is refused")
    func malformedTreesRefused() throws {
        var model = FalsePositiveModel.prior
        let leaf = BoostedTrees.Node(feature: -1, threshold: 0, left: -1, right: -1, value: 0.5)
        model.trees = BoostedTrees(trees: [[BoostedTrees.Node(feature: 0, threshold: 1, left: 1, right: 2, value: 0), leaf, leaf]],
                                   baseMargin: 0)
        try model.validate()
        #expect(model.score([0] + Array(repeating: 0, count: FalsePositiveModel.featureNames.count - 1)) > 0.6)   // sigmoid(0.5)
        model.trees!.trees[0][0].left = 0   // points back at itself
        #expect(throws: DetectionError.self) { try model.validate() }
        model.trees!.trees[0][0].left = 1
        model.trees!.trees[0][0].feature = 99
        #expect(throws: DetectionError.self) { try model.validate() }
        // Round trip through JSON keeps the trees.
        model.trees!.trees[0][0].feature = 3
        let data = try JSONEncoder().encode(model)
        let back = try JSONDecoder().decode(FalsePositiveModel.self, from: data)
        #expect(back == model)
    }
}

@Suite("Measurement helpers")
struct MeasurementHelperTests {
    @Test("quickselect median equals the sorted array's middle element, duplicates included")
    func medianMatchesSort() {
        var rng = SplitMix64(state: 11)
        for n in [1, 2, 3, 10, 101, 1000] {
            for distinct in [2, 50, 100_000] {
                var v = (0..<n).map { _ in Float(Int(rng.next() * Double(distinct))) - 900 }
                let expected = v.sorted()[n / 2]
                #expect(NoduleMeasurement.median(&v) == expected)
            }
        }
    }
}
