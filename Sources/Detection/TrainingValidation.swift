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

    mutating func appendCandidate(_ row: [Double], label: Double, scan: Int, nodule: Int, centerMM: SIMD3<Double>) {
        features.append(row)
        labels.append(label)
        scanIndex.append(scan)
        noduleIndex.append(nodule)
        centersMM.append(centerMM)
    }
}

/// A model's free-response operating characteristic on labelled candidates it was not fitted
/// on (the scans of held-out training seeds), counted as `triage evaluate` counts reports: a
/// nodule is found when one of its candidates scores at or above the threshold, several
/// candidates on one nodule count once, every candidate on no nodule is a false positive, and
/// the denominator holds the nodules without any candidate too (LUNA16; Setio et al., Med.
/// Image Anal. 42, 2017).
///
/// It is the candidate stage seen through the trees alone: no merging of findings, no
/// outside-lung rules, no patch network, no report threshold. So it compares fitting choices
/// (seeds, tree settings) on training seeds alone, before a development set is run; it does
/// not replace `triage evaluate` on whole reports.
public struct CandidateFROC: Sendable, Equatable {
    /// False positives per scan at which sensitivity is read (LUNA16's seven).
    public static let rates = [0.125, 0.25, 0.5, 1, 2, 4, 8]

    public var scans: Int
    public var nodules: Int
    public var nodulesWithCandidate: Int
    /// Sensitivity at each of `rates`.
    public var sensitivities: [Double]
    /// Mean of `sensitivities` (the competition performance metric).
    public var cpm: Double { sensitivities.isEmpty ? 0 : sensitivities.reduce(0, +) / Double(sensitivities.count) }
    /// Candidates on no nodule scoring at or above `actionableScore`, and the nodules found there.
    public var actionableScore: Double
    public var actionableFalsePositives: Int
    public var nodulesFoundAtActionableScore: Int

    /// - Parameters:
    ///   - scores: one per candidate of `set`, in its order.
    ///   - actionableScore: the score from which a finding reaches the top of a worklist
    ///     (`triage evaluate --actionable-score`, 0.5).
    public init(scores: [Double], set: TrainingSet, actionableScore: Double = 0.5) {
        precondition(scores.count == set.labels.count, "one score per candidate")
        scans = set.scans
        nodules = set.truthCount
        nodulesWithCandidate = set.truthWithCandidate
        self.actionableScore = actionableScore
        let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        var found = Set<Int>(), falsePositives = 0
        // (false positives, nodules found) after each distinct score: a threshold cannot split ties.
        var steps: [(fp: Int, found: Int)] = []
        var actionableFP = 0, actionableFound = 0
        var k = 0
        while k < order.count {
            let score = scores[order[k]]
            while k < order.count && scores[order[k]] == score {
                let i = order[k]
                if set.labels[i] <= 0.5 {
                    falsePositives += 1
                } else if set.noduleIndex[i] >= 0 {
                    found.insert(set.noduleIndex[i])
                }
                k += 1
            }
            steps.append((falsePositives, found.count))
            if score >= actionableScore { actionableFP = falsePositives; actionableFound = found.count }
        }
        actionableFalsePositives = actionableFP
        nodulesFoundAtActionableScore = actionableFound
        let perScan = Double(max(1, set.scans)), total = set.truthCount
        sensitivities = Self.rates.map { rate in
            // The lowest threshold whose false positives stay within rate x scans.
            let best = steps.last { Double($0.fp) <= rate * perScan }?.found ?? 0
            return total > 0 ? Double(best) / Double(total) : 0
        }
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
    /// set's order), for one `CandidateFROC` over the whole set.
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
