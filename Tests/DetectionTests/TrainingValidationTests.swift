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

    /// Two scans of two nodules each. Scan 0: n0 found, n1 without a candidate; scan 1: n2
    /// (twice) and n3; three candidates on no nodule.
    func handMade() -> TrainingSet {
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
        return set
    }

    @Test("the hand-made set's candidates matched to nodules as the FROC counts them, the nodule without a candidate counted")
    func candidatesMatchedToNodules() {
        let set = handMade()
        #expect(set.truthCount == 4 && set.truthWithCandidate == 3 && set.positives == 4)
        #expect(set.scanIndex == [0, 0, 0, 1, 1, 1, 1, 1])
        #expect(set.candidateNodules == [nil, 0, nil, 2, nil, 2, 3, nil])
        #expect(set.nodulesPerScan == [2, 2])
        let heldOut = set.split(holdingOut: [1100]).heldOut
        #expect(heldOut.candidateNodules == set.candidateNodules && heldOut.nodulesPerScan == [2, 2])
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

