/// The detector's output model. The Reports module writes it to disk as
/// `findings.json` (schema `triage.findings.v1`, see docs/formats.md).

/// Nodule attenuation type, from the HU profile of its segmentation.
public enum NoduleType: String, Codable, Sendable, CaseIterable {
    case solid
    case partSolid = "part-solid"
    case groundGlass = "ground-glass"
}

/// Lung-RADS v1.1 category for one nodule (baseline screening) or a study.
public enum LungRADSCategory: String, Codable, Sendable, CaseIterable, Comparable {
    case category1 = "1"
    case category2 = "2"
    case category3 = "3"
    case category4A = "4A"
    case category4B = "4B"

    private var order: Int {
        switch self {
        case .category1: 1
        case .category2: 2
        case .category3: 3
        case .category4A: 4
        case .category4B: 5
        }
    }

    public static func < (a: LungRADSCategory, b: LungRADSCategory) -> Bool { a.order < b.order }
}

/// How soon a study should be read.
public enum TriagePriority: String, Codable, Sendable, CaseIterable, Comparable {
    case urgent
    case soon
    case routine

    private var order: Int {
        switch self {
        case .urgent: 0
        case .soon: 1
        case .routine: 2
        }
    }

    /// `urgent < soon < routine`: sorting ascending puts urgent first.
    public static func < (a: TriagePriority, b: TriagePriority) -> Bool { a.order < b.order }
}

/// One detected nodule candidate that survived false-positive reduction.
public struct Finding: Codable, Sendable, Equatable {
    /// Stable within a study, e.g. "F1".
    public var id: String
    /// 1 = most suspicious.
    public var rank: Int
    /// Probability-like malignancy-suspicion/nodule score in [0, 1].
    public var score: Double
    /// Centre in DICOM patient coordinates (LPS, mm).
    public var centerMM: SIMD3<Double>
    /// Centre as (column, row, slice) in the sorted series, fractional.
    public var centerVoxel: SIMD3<Double>
    /// Lung-RADS size: mean of long and short axis, mm.
    public var diameterMM: Double
    public var longAxisMM: Double
    public var shortAxisMM: Double
    /// Diameter of the sphere with the segmented volume, mm.
    public var equivalentDiameterMM: Double
    public var volumeMM3: Double
    public var meanHU: Double
    public var minHU: Double
    public var maxHU: Double
    public var type: NoduleType
    public var lungRADS: LungRADSCategory
    /// "right" or "left" (patient side).
    public var lungSide: String
    /// "upper", "middle" or "lower" third of the lung's cranio-caudal extent.
    public var lungZone: String
    public var sphericity: Double
    public var vesselness: Double
    public var distanceToPleuraMM: Double
    /// Largest extent (mm) of the lung opacity (`LungOpacities`: a consolidation, a mass)
    /// this finding lies in, when that opacity is more than 10 mm larger than the finding's
    /// own long axis: the finding is the best-scoring piece of something larger, which the
    /// radiologist should look at as a whole. nil otherwise.
    public var opacityExtentMM: Double? = nil
    /// Completely or centrally calcified (`DetectorConfiguration.calcificationHU`): a benign
    /// pattern, so `lungRADS` is category 1 whatever the size.
    public var calcified: Bool = false

    public init(id: String, rank: Int, score: Double, centerMM: SIMD3<Double>, centerVoxel: SIMD3<Double>,
                diameterMM: Double, longAxisMM: Double, shortAxisMM: Double, equivalentDiameterMM: Double,
                volumeMM3: Double, meanHU: Double, minHU: Double, maxHU: Double, type: NoduleType,
                lungRADS: LungRADSCategory, lungSide: String, lungZone: String, sphericity: Double,
                vesselness: Double, distanceToPleuraMM: Double) {
        self.id = id
        self.rank = rank
        self.score = score
        self.centerMM = centerMM
        self.centerVoxel = centerVoxel
        self.diameterMM = diameterMM
        self.longAxisMM = longAxisMM
        self.shortAxisMM = shortAxisMM
        self.equivalentDiameterMM = equivalentDiameterMM
        self.volumeMM3 = volumeMM3
        self.meanHU = meanHU
        self.minHU = minHU
        self.maxHU = maxHU
        self.type = type
        self.lungRADS = lungRADS
        self.lungSide = lungSide
        self.lungZone = lungZone
        self.sphericity = sphericity
        self.vesselness = vesselness
        self.distanceToPleuraMM = distanceToPleuraMM
    }
}

/// The detector's verdict on one study.
public struct StudyAssessment: Codable, Sendable {
    /// Ranked by score, highest first.
    public var findings: [Finding]
    public var priority: TriagePriority
    /// Study-level triage score in [0, 1] (orders studies within a priority).
    public var score: Double
    /// Highest category over the findings; category 1 when there are none.
    public var lungRADS: LungRADSCategory
    /// Wall time per detection step in ms (lung mask, candidates, ...).
    public var timingMS: [String: Double]
    /// Findings at or above the actionable score with Lung-RADS 3 or higher: the ones that
    /// set the priority. nil when the assessment was made without that threshold.
    public var actionableCount: Int?
    /// The score from which a finding counts for the study's category and priority
    /// (`DetectorConfiguration.actionableScore`); findings below it are shown for review only.
    /// nil when the assessment was made without that threshold.
    public var actionableScore: Double?
    /// What the reader should know about how far to trust this assessment (e.g. slices
    /// thicker than the detector was validated on); shown with the series warnings.
    public var warnings: [String] = []
    /// The lungs' fine-grained image noise (HU, ``ImageNoise/estimateHU(_:)``); nil when the
    /// series holds too little lung parenchyma to say, or the assessment did not measure it.
    public var imageNoiseHU: Double? = nil

    public init(findings: [Finding], priority: TriagePriority, score: Double, lungRADS: LungRADSCategory,
                timingMS: [String: Double], actionableCount: Int? = nil, actionableScore: Double? = nil) {
        self.findings = findings
        self.priority = priority
        self.score = score
        self.lungRADS = lungRADS
        self.timingMS = timingMS
        self.actionableCount = actionableCount
        self.actionableScore = actionableScore
    }
}
