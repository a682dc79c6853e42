/// Study-level ROC AUC by the Mann-Whitney statistic: the probability that a random positive
/// study scores above a random negative one, ties counting 0.5.
public struct StudyAUC: Sendable {
    /// Scores sorted ascending with their class.
    private var scores: [Double]
    private var isPositive: [Bool]
    private var study: [Int]

    /// `items`: (study index, score, positive?). Missing scores should be passed as
    /// `-infinity` so they rank below every real score and tie with each other.
    public init(items: [(study: Int, score: Double, positive: Bool)]) {
        let sorted = items.sorted { $0.score < $1.score }
        scores = sorted.map(\.score)
        isPositive = sorted.map(\.positive)
        study = sorted.map(\.study)
    }

    public var positiveCount: Int { isPositive.filter { $0 }.count }
    public var negativeCount: Int { isPositive.filter { !$0 }.count }

    /// The AUC; NaN without at least one positive and one negative.
    public func auc() -> Double {
        auc(studyMultiplicity: nil)
    }

    /// The AUC where study `s` counts `studyMultiplicity[s]` times (a bootstrap resample).
    func auc(studyMultiplicity: [Int]?) -> Double {
        // One pass over tie groups in ascending order: each positive beats the negatives
        // already passed and ties with the negatives in its own group.
        var negativesBelow = 0.0, pairsWon = 0.0, positives = 0.0, negatives = 0.0
        var index = 0
        while index < scores.count {
            let score = scores[index]
            var groupPositives = 0.0, groupNegatives = 0.0
            while index < scores.count && scores[index] == score {
                let weight = Double(studyMultiplicity?[study[index]] ?? 1)
                if isPositive[index] { groupPositives += weight } else { groupNegatives += weight }
                index += 1
            }
            pairsWon += groupPositives * (negativesBelow + 0.5 * groupNegatives)
            negativesBelow += groupNegatives
            positives += groupPositives
            negatives += groupNegatives
        }
        guard positives > 0, negatives > 0 else { return .nan }
        return pairsWon / (positives * negatives)
    }
}
