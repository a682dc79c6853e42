import Foundation

extension TrainingSet {
    /// The scans made with `seeds` and the others, each renumbered as if collected alone (the
    /// split a held-out validation needs: `triage train --holdout-seeds`).
    public func split(holdingOut seeds: Set<UInt64>) -> (training: TrainingSet, heldOut: TrainingSet) {
        var training = TrainingSet(), heldOut = TrainingSet()
        // Per scan: which part it goes to, its new index there and its nodules' new offset.
        var newScan: [Int] = [], inHeldOut: [Bool] = [], oldOffset: [Int] = [], newOffset: [Int] = []
        var oldNodules = 0
        for record in scanRecords {
            let held = seeds.contains(record.source.seed)
            inHeldOut.append(held)
            oldOffset.append(oldNodules)
            oldNodules += record.nodules
            newScan.append(held ? heldOut.scans : training.scans)
            newOffset.append(held ? heldOut.truthCount : training.truthCount)
            if held { heldOut.scanRecords.append(record) } else { training.scanRecords.append(record) }
        }
        for k in features.indices {
            let scan = scanIndex[k]
            let nodule = noduleIndex[k] < 0 ? -1 : noduleIndex[k] - oldOffset[scan] + newOffset[scan]
            if inHeldOut[scan] {
                heldOut.appendCandidate(features[k], label: labels[k], scan: newScan[scan], nodule: nodule, centerMM: centersMM[k])
            } else {
                training.appendCandidate(features[k], label: labels[k], scan: newScan[scan], nodule: nodule, centerMM: centersMM[k])
            }
        }
        return (training, heldOut)
    }

    /// Per candidate, the truth nodule it lies on (an index over all scans' nodules), nil for
    /// none: with `scanIndex`, `nodulesPerScan` and a model's scores, what Evaluation's
    /// `FROCCandidates(scores:scanOfCandidate:noduleOfCandidate:nodulesPerScan:)` counts as
    /// `triage evaluate` counts reports (`triage train --holdout-seeds`, `--cross-validate`).
    public var candidateNodules: [Int?] { noduleIndex.map { $0 < 0 ? nil : $0 } }
    /// Per scan, its truth nodules, those without any candidate included (the FROC's denominator).
    public var nodulesPerScan: [Int] { scanRecords.map(\.nodules) }

    mutating func appendCandidate(_ row: [Double], label: Double, scan: Int, nodule: Int, centerMM: SIMD3<Double>) {
        features.append(row)
        labels.append(label)
        scanIndex.append(scan)
        noduleIndex.append(nodule)
        centersMM.append(centerMM)
    }
}

/// Cross-validation by seed: a seed's scans are never split between fitting and scoring, since
/// the scans of one seed share their options (size, slices, kind of disease).
public enum SeedCrossValidation {
    /// The set's seeds in order of first appearance, dealt round-robin into `count` folds
    /// (fewer when there are fewer seeds).
    public static func folds(of set: TrainingSet, count: Int) -> [Set<UInt64>] {
        var seeds: [UInt64] = []
        for record in set.scanRecords where !seeds.contains(record.source.seed) { seeds.append(record.source.seed) }
        let k = max(1, min(count, seeds.count))
        var folds = [Set<UInt64>](repeating: [], count: k)
        for (i, seed) in seeds.enumerated() { folds[i % k].insert(seed) }
        return folds
    }

    /// Every candidate scored by the model fitted without its fold (out-of-fold scores, in the
    /// set's order), for one FROC over the whole set (`candidateNodules`).
    /// - Parameter fit: fits on a training part and returns its scoring function.
    public static func outOfFoldScores(_ set: TrainingSet, folds: [Set<UInt64>],
                                       fit: (TrainingSet) -> ([Double]) -> Double) -> [Double] {
        var scores = [Double](repeating: .nan, count: set.features.count)
        for fold in folds {
            let (training, heldOut) = set.split(holdingOut: fold)
            guard heldOut.scans > 0 else { continue }
            let score = fit(training)
            // `split` keeps the candidates' order, so the held-out ones come back in turn.
            var next = 0
            for k in set.features.indices where fold.contains(set.scanRecords[set.scanIndex[k]].source.seed) {
                scores[k] = score(heldOut.features[next])
                next += 1
            }
        }
        return scores
    }
}
