import Foundation
import Testing
@testable import Detection

@Suite("Training validation on held-out seeds")
struct TrainingValidationTests {
    @Test("splitting by seed gives what reading the tables with those seeds gives, both halves renumbered")
    func splitMatchesTheTables() throws {
        let tables = TrainingTableTests()
        let set = tables.trainingSet()
        let (training, heldOut) = set.split(holdingOut: [1120])
        let readTraining = try tables.readBack(set, seeds: [1100])
        let readHeldOut = try tables.readBack(set, seeds: [1120])
        for (part, read) in [(training, readTraining), (heldOut, readHeldOut)] {
            let sameRows = part.features == read.features && part.labels == read.labels && part.centersMM == read.centersMM
            let sameNumbers = part.scanIndex == read.scanIndex && part.noduleIndex == read.noduleIndex
            #expect(sameRows && sameNumbers)
            #expect(part.scanRecords == read.scanRecords)
        }
        #expect(heldOut.scans == 1 && heldOut.truthCount == 3 && training.scans == 2 && training.truthCount == 3)
        #expect(set.split(holdingOut: [1999]).heldOut.features.isEmpty)
    }

    /// Two scans of two nodules each. Scan 0: n0 found, n1 without a candidate; scan 1: n2, n3.
    /// Scores, best first: 0.9 n2, 0.8 FP, 0.7 n0 and 0.7 FP (a tie; the nodule comes first in
    /// the set's order, so a ranking that split ties would count it alone), 0.6 n2 again,
    /// 0.4 n3, 0.3 FP, 0.2 FP.
    func handMade() -> (TrainingSet, [Double]) {
        let nodules = [SIMD3<Double>(0, 0, 0), SIMD3(40, 0, 0)]
        let truth = nodules.map { TruthNodule(centerMM: $0, diameterMM: 8) }
        let away = SIMD3<Double>(100, 100, 100)
        func candidate(_ at: SIMD3<Double>) -> DetectorCandidate {
            .trainingExample(features: [Double](repeating: 0, count: FalsePositiveModel.featureNames.count), body: at, region: at)
        }
        var set = TrainingSet()
        set.add(candidates: [away, nodules[0], away + SIMD3(0, 0, 9)].map(candidate),
                truth: truth, source: TrainingScan.Source(seed: 1100, caseID: "case-000"))
        set.add(candidates: [nodules[0], away, nodules[0] + SIMD3(1, 0, 0), nodules[1], away + SIMD3(0, 9, 0)].map(candidate),
                truth: truth, source: TrainingScan.Source(seed: 1100, caseID: "case-001"))
        return (set, [0.8, 0.7, 0.3, 0.9, 0.7, 0.6, 0.4, 0.2])
    }

    @Test("the candidate FROC on a hand-made set: ties move together, a nodule counts once, missed nodules count")
    func handMadeFROC() {
        let (set, scores) = handMade()
        #expect(set.truthCount == 4 && set.truthWithCandidate == 3 && set.positives == 4)
        let froc = CandidateFROC(scores: scores, set: set)
        // At 1/8 and 1/4 FP/scan (0.25, 0.5 FP in all) only n2; at 1/2 (1 FP) the 0.7 tie
        // would bring n0 with a second FP, so still only n2; at 1 (2 FP) n2, n0, n3; n1 never.
        #expect(froc.sensitivities == [0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75])
        #expect(abs(froc.cpm - (3 * 0.25 + 4 * 0.75) / 7) < 1e-12)
        // Scores >= 0.5: 0.9, 0.8, 0.7, 0.7, 0.6 hold two false positives and n2, n0.
        #expect(froc.actionableFalsePositives == 2 && froc.nodulesFoundAtActionableScore == 2)
        let strict = CandidateFROC(scores: scores, set: set, actionableScore: 0.85)
        #expect(strict.actionableFalsePositives == 0 && strict.nodulesFoundAtActionableScore == 1)
    }

    @Test("a perfect ranking finds every nodule with a candidate before any false positive")
    func perfectRanking() {
        let (set, _) = handMade()
        let froc = CandidateFROC(scores: set.labels.map { $0 > 0.5 ? 0.9 : 0.1 }, set: set)
        #expect(froc.sensitivities.allSatisfy { $0 == 0.75 })
        #expect(froc.actionableFalsePositives == 0 && froc.nodulesFoundAtActionableScore == 3)
    }

    @Test("cross-validation by seed: folds dealt round-robin, every candidate scored by a model fitted without its seed")
    func outOfFold() {
        // Five scans of seeds 1100, 1100, 1101, 1102, 1103; a candidate's first feature is its seed.
        var set = TrainingSet()
        for seed: UInt64 in [1100, 1100, 1101, 1102, 1103] {
            let candidates = (0..<4).map { k -> DetectorCandidate in
                var features = [Double](repeating: 0, count: FalsePositiveModel.featureNames.count)
                features[0] = Double(seed)
                let at = SIMD3<Double>(Double(10 * k), 0, 0)
                return .trainingExample(features: features, body: at, region: at)
            }
            set.add(candidates: candidates, truth: [TruthNodule(centerMM: .zero, diameterMM: 6)],
                    source: TrainingScan.Source(seed: seed, caseID: "case"))
        }
        let folds = SeedCrossValidation.folds(of: set, count: 3)
        #expect(folds == [[1100, 1103], [1101], [1102]])
        #expect(SeedCrossValidation.folds(of: set, count: 9).count == 4)
        var fitted: [Set<Double>] = []
        // The "model" scores 1 for a candidate of a seed it was fitted on, and its training
        // scan count x 10 otherwise.
        let scores = SeedCrossValidation.outOfFoldScores(set, folds: folds) { part in
            let seen = Set(part.features.map { $0[0] })
            fitted.append(seen)
            let scans = Double(part.scans)
            return { seen.contains($0[0]) ? 1 : 10 * scans }
        }
        #expect(fitted == [[1101, 1102], [1100, 1102, 1103], [1100, 1101, 1103]])
        // Fold 1100+1103 held out 3 scans (2 left); 1101 and 1102 one each (4 left).
        let expected = set.features.map { [1100.0, 1103].contains($0[0]) ? 20.0 : 40.0 }
        #expect(scores == expected)
    }
}

