import Foundation

/// The content of `evaluation.json` (schema `triage.evaluation.v1`, documented field by field in
/// docs/evaluation.md). Undefined values (a sensitivity without nodules, an AUC without
/// positives or negatives, an interval without bootstrap) are JSON `null`.
public struct EvaluationSummary: Codable, Sendable, Equatable {
    public static let schemaName = "triage.evaluation.v1"

    public var schema = EvaluationSummary.schemaName
    public var rules: Rules
    public var cases: CaseCounts
    public var findings: FindingCounts
    public var froc: FROCSummary
    public var frocNodules6MMOrLarger: FROCSummary
    public var operatingPoints: [OperatingPoint]
    public var studyAUC: AUCSummary
    public var bootstrap: BootstrapSettings?
    /// Findings on the truth's calcified granulomas (absent when it has none): set apart from
    /// the FROC, counted here by the category the detector gave them.
    public var calcifiedGranulomas: GranulomaSummary? = nil
    public var warnings: [String]

    enum CodingKeys: String, CodingKey {
        case schema, rules, cases, findings, froc
        case frocNodules6MMOrLarger = "froc_nodules_6mm_or_larger"
        case operatingPoints = "operating_points"
        case studyAUC = "study_auc"
        case calcifiedGranulomas = "calcified_granulomas"
        case bootstrap, warnings
    }

    /// Benign calcified granulomas (Lung-RADS category 1 when reported): how many the truth
    /// holds, how many findings lay on them, and how many of those the detector put in
    /// category 1 (right) or 3 and above (a follow-up the nodule does not need).
    public struct GranulomaSummary: Codable, Sendable, Equatable {
        public var granulomas: Int
        public var findings: Int
        public var lungRADS1: Int
        public var lungRADS3OrHigher: Int

        enum CodingKeys: String, CodingKey {
            case granulomas, findings
            case lungRADS1 = "lung_rads_1"
            case lungRADS3OrHigher = "lung_rads_3_or_higher"
        }
    }

    /// The scoring conventions, spelled out in the file so a reader of the JSON alone knows them.
    public struct Rules: Codable, Sendable, Equatable {
        public var hit: String
        public var severalNodules: String
        public var severalFindings: String
        public var interpolation: String
        public var missingReport: String
        public var failedReport: String
        public var studyAUC: String

        enum CodingKeys: String, CodingKey {
            case hit
            case severalNodules = "several_nodules"
            case severalFindings = "several_findings"
            case interpolation
            case missingReport = "missing_report"
            case failedReport = "failed_report"
            case studyAUC = "study_auc"
        }

        public static let luna16 = Rules(
            hit: "a finding hits a nodule when |finding.center_mm - nodule.center_mm| < nodule.diameter_mm / 2 (Euclidean, LPS mm)",
            severalNodules: "a finding inside several nodules is assigned to the nearest centre (first listed on a tie)",
            severalFindings: "several findings on one nodule count once with the best score; the others are neither hits nor false positives",
            interpolation: "sensitivity at a rate = numpy.interp(rate, fps, sens) over the FROC points, as LUNA16's evaluation script; CPM = mean at 1/8, 1/4, 1/2, 1, 2, 4, 8 FPs/scan",
            missingReport: "a case without a report has no findings: its nodules are missed",
            failedReport: "a report with status \"failed\" has no findings",
            studyAUC: "Mann-Whitney AUC of triage.score, ties 0.5: cases with a nodule >= 6 mm vs cases with no nodule; cases with only nodules < 6 mm excluded; a missing or failed report scores below every reported study")
    }

    public struct CaseCounts: Codable, Sendable, Equatable {
        public var truthCases: Int
        public var cleanCases: Int
        public var nodules: Int
        public var reportsFound: Int
        public var reportsMatched: Int
        public var failedReports: Int
        /// Case ids (from truth.json) with no report.
        public var missingReports: [String]
        /// Report paths (relative to the reports folder) whose series is in no truth case.
        public var unmatchedReports: [String]

        enum CodingKeys: String, CodingKey {
            case truthCases = "truth_cases"
            case cleanCases = "clean_cases"
            case nodules
            case reportsFound = "reports_found"
            case reportsMatched = "reports_matched"
            case failedReports = "failed_reports"
            case missingReports = "missing_reports"
            case unmatchedReports = "unmatched_reports"
        }
    }

    public struct FindingCounts: Codable, Sendable, Equatable {
        /// Findings in the matched, successful reports.
        public var total: Int
        /// Nodules hit by at least one finding.
        public var detectedNodules: Int
        public var falsePositives: Int
        /// Extra findings on an already-hit nodule (neither hits nor false positives).
        public var duplicateHits: Int
        /// Findings inside more than one nodule (assigned to the nearest).
        public var insideSeveralNodules: Int
        /// The score from which a finding is actionable (`EvaluationOptions.actionableScore`).
        public var actionableScore: Double
        /// False positives scoring at least `actionableScore`: the false alarms a reader sees
        /// at the top of the worklist (a FROC counts every false positive alike).
        public var actionableFalsePositives: Int
        /// The clean studies (no nodule in the truth) by the priority their report gave:
        /// a clean study marked "urgent" or "soon" is read before studies that matter.
        public var cleanStudiesByPriority: [String: Int]

        enum CodingKeys: String, CodingKey {
            case total
            case detectedNodules = "detected_nodules"
            case falsePositives = "false_positives"
            case duplicateHits = "duplicate_hits"
            case insideSeveralNodules = "inside_several_nodules"
            case actionableScore = "actionable_score"
            case actionableFalsePositives = "actionable_false_positives"
            case cleanStudiesByPriority = "clean_studies_by_priority"
        }
    }

    public struct FROCSummary: Codable, Sendable, Equatable {
        /// Which nodules count: "all" or "diameter_mm >= 6".
        public var nodulesIncluded: String
        public var nodules: Int
        public var scans: Int
        public var cpm: Double?
        public var cpmCI: ConfidenceInterval?
        /// Sensitivity at 1/8 ... 8 false positives per scan.
        public var sensitivities: [RateSensitivity]
        /// Every point of the curve (the first is (0, 0) at threshold null = +infinity).
        public var points: [CurvePoint]
        /// The curve sampled on a log grid from 1/8 to 8 FPs/scan (for plotting), with the
        /// bootstrap band when there is one.
        public var curve: SampledCurve

        enum CodingKeys: String, CodingKey {
            case nodulesIncluded = "nodules_included"
            case nodules, scans, cpm
            case cpmCI = "cpm_ci"
            case sensitivities, points, curve
        }
    }

    public struct RateSensitivity: Codable, Sendable, Equatable {
        public var falsePositivesPerScan: Double
        public var sensitivity: Double?
        public var ci: ConfidenceInterval?

        enum CodingKeys: String, CodingKey {
            case falsePositivesPerScan = "fps_per_scan"
            case sensitivity, ci
        }
    }

    public struct CurvePoint: Codable, Sendable, Equatable {
        public var falsePositivesPerScan: Double
        public var sensitivity: Double?
        /// nil for the starting point (threshold +infinity).
        public var threshold: Double?

        enum CodingKeys: String, CodingKey {
            case falsePositivesPerScan = "fps_per_scan"
            case sensitivity, threshold
        }
    }

    public struct SampledCurve: Codable, Sendable, Equatable {
        public var falsePositivesPerScan: [Double]
        public var sensitivity: [Double?]
        public var ciLow: [Double?]?
        public var ciHigh: [Double?]?

        enum CodingKeys: String, CodingKey {
            case falsePositivesPerScan = "fps_per_scan"
            case sensitivity
            case ciLow = "ci_low"
            case ciHigh = "ci_high"
        }
    }

    /// Per-group sensitivities at one threshold of the all-nodule FROC.
    public struct OperatingPoint: Codable, Sendable, Equatable {
        /// "fps_per_scan<=1" or "max_sensitivity".
        public var name: String
        /// Findings with score >= threshold count; nil when no finding passes.
        public var threshold: Double?
        public var falsePositivesPerScan: Double
        public var sensitivity: Double?
        public var bySize: [GroupSensitivity]
        public var byType: [GroupSensitivity]
        public var byLocation: [GroupSensitivity]
        public var measurement: Measurement

        enum CodingKeys: String, CodingKey {
            case name, threshold
            case falsePositivesPerScan = "fps_per_scan"
            case sensitivity
            case bySize = "by_size"
            case byType = "by_type"
            case byLocation = "by_location"
            case measurement
        }
    }

    public struct GroupSensitivity: Codable, Sendable, Equatable {
        public var group: String
        public var nodules: Int
        public var detected: Int
        public var sensitivity: Double?
    }

    /// How well the best-scoring hit on each detected nodule measured it.
    public struct Measurement: Codable, Sendable, Equatable {
        /// Detected nodules whose hit reported a diameter.
        public var diameterCompared: Int
        public var diameterMeanAbsoluteErrorMM: Double?
        /// The same for solid nodules of diameter >= 6 mm.
        public var solid6MMOrLargerCompared: Int
        public var solid6MMOrLargerMeanAbsoluteErrorMM: Double?
        /// Detected spherical nodules (truth `shape` "spherical") whose hit reported a
        /// Lung-RADS `diameter_mm`: for a sphere the mean of long and short axis is its
        /// diameter, so this checks the radiologist's size, not only the volume.
        public var sphereLungRADSCompared: Int
        public var sphereLungRADSMeanAbsoluteErrorMM: Double?
        /// Mean signed error (measured minus truth): positive when sizes run large.
        public var sphereLungRADSMeanErrorMM: Double?
        /// Detected nodules whose hit reported a type and whose truth has one.
        public var typeCompared: Int
        public var typeCorrect: Int
        public var typeAccuracy: Double?

        enum CodingKeys: String, CodingKey {
            case diameterCompared = "diameter_compared"
            case diameterMeanAbsoluteErrorMM = "diameter_mae_mm"
            case solid6MMOrLargerCompared = "solid_6mm_or_larger_compared"
            case solid6MMOrLargerMeanAbsoluteErrorMM = "solid_6mm_or_larger_diameter_mae_mm"
            case sphereLungRADSCompared = "sphere_lung_rads_compared"
            case sphereLungRADSMeanAbsoluteErrorMM = "sphere_lung_rads_diameter_mae_mm"
            case sphereLungRADSMeanErrorMM = "sphere_lung_rads_diameter_bias_mm"
            case typeCompared = "type_compared"
            case typeCorrect = "type_correct"
            case typeAccuracy = "type_accuracy"
        }
    }

    public struct AUCSummary: Codable, Sendable, Equatable {
        /// Cases with at least one nodule >= 6 mm.
        public var positives: Int
        /// Cases with no nodule.
        public var negatives: Int
        /// Cases whose nodules are all < 6 mm (left out).
        public var excludedSmallNodulesOnly: Int
        /// Positive or negative cases without a usable triage score (missing, failed, or no
        /// triage.score), ranked lowest.
        public var unscored: Int
        public var auc: Double?
        public var ci: ConfidenceInterval?

        enum CodingKeys: String, CodingKey {
            case positives, negatives
            case excludedSmallNodulesOnly = "excluded_small_nodules_only"
            case unscored, auc, ci
        }
    }

    public struct BootstrapSettings: Codable, Sendable, Equatable {
        public var replicates: Int
        public var seed: UInt64
        public var confidence: Double
        public var method: String
    }

    /// Encodes as pretty-printed JSON with sorted keys (stable for diffs).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
