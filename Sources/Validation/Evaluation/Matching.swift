/// LUNA16's hit rule applied to one scan.
///
/// A finding hits a nodule when its centre lies strictly inside the nodule's sphere:
/// squared Euclidean distance (LPS, mm) < (diameter / 2)^2, as in LUNA16's
/// `noduleCADEvaluationLUNA16.py` (`dist < radiusSquared`).
///
/// Where this differs from that script: when a finding lies inside several nodules, LUNA16
/// gives it to whichever nodule comes first in the annotation list; here it goes to the
/// **nearest** centre (ties: the first listed), which does not depend on annotation order.
/// Several findings on one nodule count once, with the best score; the others are neither hits
/// nor false positives. A finding inside no nodule is a false positive, unless it lies on a
/// benign calcified granuloma (within its radius, or 2.5 mm of its centre for the smallest):
/// then it is set apart, neither hit nor false positive, as LUNA16 sets apart findings on its
/// "irrelevant" annotations (`annotations_excluded.csv`), and `ScanMatch.findingsOnGranulomas`
/// keeps it so the evaluation can say how the detector categorised them.
public enum LUNA16Matcher {
    /// Smallest radius (mm) within which a finding counts as on a granuloma: the 2.5-7 mm
    /// phantom granulomas are smaller than the scatter of a measured centre.
    public static let minimumGranulomaRadiusMM = 2.5

    /// Matches one scan's findings to its nodules.
    public static func match(nodules: [TruthNodule], findings: [ReportedFinding],
                             granulomas: [TruthGranuloma] = []) -> ScanMatch {
        var outcomes = nodules.map { NoduleOutcome(nodule: $0) }
        var falsePositiveScores: [Double] = []
        var findingsInsideSeveralNodules = 0
        var onGranulomas: [ReportedFinding] = []
        let centers = nodules.map { SIMD3<Double>($0.centerMM[0], $0.centerMM[1], $0.centerMM[2]) }
        let radiiSquared = nodules.map { ($0.diameterMM / 2) * ($0.diameterMM / 2) }

        for finding in findings {
            var nearest = -1
            var nearestDistanceSquared = Double.infinity
            var inside = 0
            for index in centers.indices {
                let delta = finding.centerMM - centers[index]
                let distanceSquared = (delta * delta).sum()
                guard distanceSquared < radiiSquared[index] else { continue }
                inside += 1
                // Strict < keeps the first listed nodule on an exact tie.
                if distanceSquared < nearestDistanceSquared {
                    nearestDistanceSquared = distanceSquared
                    nearest = index
                }
            }
            if inside > 1 { findingsInsideSeveralNodules += 1 }
            if nearest < 0 {
                let onGranuloma = granulomas.contains { g in
                    let delta = finding.centerMM - SIMD3(g.centerMM[0], g.centerMM[1], g.centerMM[2])
                    let r = max(g.diameterMM / 2, minimumGranulomaRadiusMM)
                    return (delta * delta).sum() < r * r
                }
                if onGranuloma { onGranulomas.append(finding) } else { falsePositiveScores.append(finding.score) }
            } else {
                outcomes[nearest].record(finding)
            }
        }
        return ScanMatch(nodules: outcomes, falsePositiveScores: falsePositiveScores,
                         findingsInsideSeveralNodules: findingsInsideSeveralNodules, findingsOnGranulomas: onGranulomas)
    }
}

/// The result of matching one scan.
public struct ScanMatch: Sendable, Equatable {
    /// One entry per truth nodule, in truth order.
    public var nodules: [NoduleOutcome]
    /// Scores of the findings that hit no nodule.
    public var falsePositiveScores: [Double]
    /// Findings whose centre lay inside more than one nodule (assigned to the nearest).
    public var findingsInsideSeveralNodules: Int
    /// Findings that hit no nodule but lie on a calcified granuloma (neither hits nor false positives).
    public var findingsOnGranulomas: [ReportedFinding] = []

    /// Findings on an already-hit nodule that were not its best: neither hits nor false positives.
    public var duplicateHits: Int {
        nodules.reduce(0) { $0 + max(0, $1.hitCount - 1) }
    }
}

/// What happened to one truth nodule.
public struct NoduleOutcome: Sendable, Equatable {
    public var nodule: TruthNodule
    /// The best score among the findings that hit it; nil when missed.
    public var bestScore: Double?
    /// How many findings hit it.
    public var hitCount = 0
    /// The diameter and type the best-scoring hit reported (first in report order on a score
    /// tie); the diameter is `ReportedFinding.comparedDiameterMM`.
    public var measuredDiameterMM: Double?
    /// The Lung-RADS diameter (mean of long and short axis, the report's `diameter_mm`) of
    /// the same hit.
    public var measuredLungRADSDiameterMM: Double?
    public var measuredType: String?

    public init(nodule: TruthNodule) {
        self.nodule = nodule
    }

    public var isDetected: Bool { bestScore != nil }

    mutating func record(_ finding: ReportedFinding) {
        hitCount += 1
        if bestScore == nil || finding.score > bestScore! {
            bestScore = finding.score
            measuredDiameterMM = finding.comparedDiameterMM
            measuredLungRADSDiameterMM = finding.diameterMM
            measuredType = finding.type
        }
    }
}
