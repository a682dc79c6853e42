import Foundation
import Testing
import Volumes
@testable import Detection

@Suite("Faint-candidate prior")
struct FaintCandidatePriorTests {
    /// A prior of one stump: log-odds +1 for tubularity >= 0.5, -1 below.
    private func tubularityStump() -> FaintCandidatePrior {
        let nodes = [BoostedTrees.Node(feature: 4, threshold: 0.5, left: 1, right: 2, value: 0),
                     BoostedTrees.Node(feature: -1, threshold: 0, left: -1, right: -1, value: -1),
                     BoostedTrees.Node(feature: -1, threshold: 0, left: -1, right: -1, value: 1)]
        return FaintCandidatePrior(trees: BoostedTrees(trees: [nodes], baseMargin: 0), training: [:])
    }

    private func faintBlob(_ index: Int, sigmaMM: Double, tubularity: Double) -> BlobCandidate {
        BlobCandidate(gridPosition: SIMD3(Double(index) * 10, 0, 0), response: 100, sigmaMM: sigmaMM,
                      roundness: 0.9, tubularity: tubularity, smoothedHU: -700)
    }

    /// One strong place (taken by `solid`), and `faint` and `coarse` faint places.
    private func places(faint: Int, coarse: Int) -> DetectorConfiguration {
        var configuration = DetectorConfiguration()
        configuration.maximumCandidates = 1
        configuration.maximumFaintCandidates = faint
        configuration.maximumCoarseFaintCandidates = coarse
        return configuration
    }

    private let solid = BlobCandidate(gridPosition: SIMD3(-50, 0, 0), response: 600, sigmaMM: 2, roundness: 0.9,
                                      tubularity: 1, smoothedHU: -100)

    @Test("with a prior the faint places go in its order, without it in the HU-mass order")
    func selectFollowsThePrior() {
        let configuration = places(faint: 1, coarse: 0)
        // The HU-mass order prefers the larger scale; the stump prefers the higher tubularity.
        let large = faintBlob(1, sigmaMM: 2.5, tubularity: 0.2)
        let small = faintBlob(2, sigmaMM: 1.0, tubularity: 0.8)
        let largeFirst = BlobFilter.faintRank(large) > BlobFilter.faintRank(small)
        #expect(largeFirst)
        let handMade = BlobFilter.select([solid, large, small], spacingMM: 1, configuration: configuration,
                                         coarseQuota: 0, faintSeparation: .mutual)
        let learned = BlobFilter.select([solid, large, small], spacingMM: 1, configuration: configuration,
                                        coarseQuota: 0, faintSeparation: .mutual, faintPrior: tubularityStump())
        #expect(handMade.map(\.gridPosition.x) == [-50, 10])
        #expect(learned.map(\.gridPosition.x) == [-50, 20])
    }

    @Test("the coarse faint places keep the HU-mass order; ties of the prior keep it too")
    func coarseAndTiesKeepHandMadeOrder() {
        let configuration = places(faint: 0, coarse: 1)
        let coarseLarge = faintBlob(1, sigmaMM: 4.0, tubularity: 0.2)
        let coarseSmall = faintBlob(2, sigmaMM: 3.0, tubularity: 0.8)
        let kept = BlobFilter.select([solid, coarseSmall, coarseLarge], spacingMM: 1, configuration: configuration,
                                     coarseQuota: 1, faintSeparation: .mutual, faintPrior: tubularityStump())
        #expect(kept.map(\.gridPosition.x) == [-50, 10])
        // Equal log-odds (both tubularity 0.8): the HU-mass order decides.
        let a = faintBlob(3, sigmaMM: 1.0, tubularity: 0.8), b = faintBlob(4, sigmaMM: 2.0, tubularity: 0.8)
        let ordered = BlobFilter.ordered([b, a], by: tubularityStump())
        #expect(ordered.map(\.gridPosition.x) == [40, 30])
    }

    @Test("labels: within a nodule's radius, at least 1.5 mm; every n-th negative kept")
    func trainingSetLabelsAndThinning() {
        let truth = [TruthNodule(centerMM: SIMD3(0, 0, 0), diameterMM: 8),
                     TruthNodule(centerMM: SIMD3(100, 0, 0), diameterMM: 2)]
        func maximum(_ x: Double) -> FaintMaximum {
            FaintMaximum(centerMM: SIMD3(x, 0, 0), features: [1, 1, -7, 0.5, 0.5], huMassRank: 0)
        }
        // 3.9 mm from the 8 mm nodule: inside; 4.1: outside. 1.4 mm from the 2 mm nodule:
        // inside its 1.5 mm floor; 1.6: outside. Ten more far away.
        let maxima = [3.9, 4.1, 101.4, 101.6].map(maximum) + (0..<10).map { maximum(200 + Double($0) * 10) }
        #expect(FaintPriorTrainingSet.nodule(at: SIMD3(3.9, 0, 0), truth: truth) == 0)
        #expect(FaintPriorTrainingSet.nodule(at: SIMD3(101.4, 0, 0), truth: truth) == 1)
        #expect(FaintPriorTrainingSet.nodule(at: SIMD3(101.6, 0, 0), truth: truth) == nil)
        var set = FaintPriorTrainingSet(negativeStride: 4)
        set.add(maxima, truth: truth)
        // 2 positives, 12 negatives of which the 1st, 5th and 9th are kept.
        #expect(set.positives == 2)
        #expect(set.maximaSeen == 14)
        #expect(set.labels == [1, 0, 1, 0, 0])
        #expect(set.features.count == 5)
        #expect(set.scans == 1)
    }

    @Test("nodules reached by the first maxima of an order")
    func nodulesReachedWithinBudget() {
        let truth = [TruthNodule(centerMM: SIMD3(0, 0, 0), diameterMM: 6),
                     TruthNodule(centerMM: SIMD3(50, 0, 0), diameterMM: 6)]
        let maxima = [SIMD3<Double>(1, 0, 0), SIMD3(20, 0, 0), SIMD3(51, 0, 0)].map {
            FaintMaximum(centerMM: $0, features: [], huMassRank: 0)
        }
        let keys = [0.5, 0.9, 0.1]
        #expect(FaintPriorTrainingSet.nodulesReached(by: keys, maxima: maxima, truth: truth, budget: 1) == [false, false])
        #expect(FaintPriorTrainingSet.nodulesReached(by: keys, maxima: maxima, truth: truth, budget: 2) == [true, false])
        #expect(FaintPriorTrainingSet.nodulesReached(by: keys, maxima: maxima, truth: truth, budget: 3) == [true, true])
    }

    @Test("fitted on separable maxima, the prior ranks every positive first; the file round-trips")
    func fitRanksPositivesFirst() throws {
        // Positives: scale 2-3 mm and smoothed HU -650 to -600; negatives: scale 0.9 mm or
        // smoothed HU below -800 (noise and twigs), on a deterministic grid of values.
        var set = FaintPriorTrainingSet(negativeStride: 1)
        var maxima: [FaintMaximum] = []
        var positiveCenters: [SIMD3<Double>] = []
        for i in 0..<200 {
            let positive = i % 10 == 0
            let sigma = positive ? 2 + Double(i % 7) / 7 : (i % 2 == 0 ? 0.9 : 2 + Double(i % 5) / 5)
            let hu = positive ? -650 + Double(i % 5) * 10 : (i % 2 == 0 ? -700 : -850 - Double(i % 3) * 20)
            let center = SIMD3(Double(i) * 20, 0, 0)
            if positive { positiveCenters.append(center) }
            maxima.append(FaintMaximum(centerMM: center,
                                       features: FaintCandidatePrior.features(response: 50, sigmaMM: sigma, smoothedHU: hu,
                                                                              roundness: 0.8, tubularity: 0.7),
                                       huMassRank: 0))
        }
        let truth = positiveCenters.map { TruthNodule(centerMM: $0, diameterMM: 6) }
        set.add(maxima, truth: truth)
        #expect(set.positives == 20)
        var parameters = BoostedTrees.Parameters()
        parameters.rounds = 40
        let prior = FaintCandidatePrior.fit(set, parameters: parameters, training: ["command": "test"])
        let margins = maxima.map { prior.margin($0.features) }
        let worstPositive = zip(margins, set.labels).filter { $0.1 == 1 }.map(\.0).min() ?? -.infinity
        let bestNegative = zip(margins, set.labels).filter { $0.1 == 0 }.map(\.0).max() ?? .infinity
        #expect(worstPositive > bestNegative)
        let reached = FaintPriorTrainingSet.nodulesReached(by: margins, maxima: maxima, truth: truth, budget: 20)
        #expect(reached.allSatisfy { $0 })

        let data = try JSONEncoder().encode(prior)
        let decoded = try FaintCandidatePrior.decode(data, name: "prior.json")
        #expect(decoded == prior)
    }

    @Test("a prior file for other features or with a broken tree is refused with its name")
    func malformedFilesRefused() throws {
        var wrongFeatures = tubularityStump()
        wrongFeatures.featureNames = ["log1p_dot_response"]
        var brokenTree = tubularityStump()
        brokenTree.trees.trees[0][0].left = 7   // a child outside the tree
        for prior in [wrongFeatures, brokenTree] {
            let data = try JSONEncoder().encode(prior)
            var message = ""
            do { _ = try FaintCandidatePrior.decode(data, name: "faint-prior-3d.json") } catch { message = "\(error)" }
            #expect(message.contains("faint-prior-3d.json"))
        }
        var message = ""
        do { _ = try FaintCandidatePrior.decode(Data("{\"schema\": 1}".utf8), name: "x.json") } catch { message = "\(error)" }
        #expect(message.contains("x.json"))
    }

    @Test("the faint maxima of a chest: one on a ground-glass ball, in patient mm; none in 2D")
    func faintMaximaOfSyntheticChest() throws {
        var chest = SyntheticChest()
        let center = SIMD3<Double>(26, 40, 30)
        chest.objects = [(.ball(center: center, radiusMM: 4), -650)]
        let volume = chest.makeVolume()
        let detector = NoduleDetector(configuration: DetectorConfiguration(), model: .prior)
        let maxima = try detector.faintMaxima(in: volume)
        let distances = maxima.map { m -> Double in let d = m.centerMM - center; return (d * d).sum().squareRoot() }
        let nearest = distances.indices.min { distances[$0] < distances[$1] }
        #expect(nearest.map { distances[$0] } ?? 99 < 2)
        // Faint, as the ball is: its smoothed centre between the lung (-850) and the ball (-650).
        let centreHU = nearest.map { maxima[$0].features[2] * 100 } ?? 0
        #expect(centreHU > -850 && centreHU < -650)
        let allFaint = maxima.allSatisfy { $0.features[2] < -5 }   // smoothed HU / 100 below -500 HU
        #expect(allFaint)
        #expect(maxima.allSatisfy { $0.features.count == FaintCandidatePrior.featureNames.count })
        var thin = SyntheticChest()
        thin.slices = 3
        #expect(try detector.faintMaxima(in: thin.makeVolume()).isEmpty)
    }
}
