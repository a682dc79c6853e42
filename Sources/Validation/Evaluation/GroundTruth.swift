import Foundation

/// Ground truth written by `triage phantom` (schema `triage.truth.v1`).
///
/// Only the fields evaluation needs are decoded; unknown fields are ignored so the phantom
/// generator can add more without breaking scoring.
public struct GroundTruth: Codable, Sendable, Equatable {
    public static let schemaName = "triage.truth.v1"

    public var schema: String
    public var seed: UInt64?
    public var generator: String?
    public var cases: [TruthCase]

    public init(schema: String = GroundTruth.schemaName, seed: UInt64? = nil, generator: String? = nil,
                cases: [TruthCase]) {
        self.schema = schema
        self.seed = seed
        self.generator = generator
        self.cases = cases
    }

    /// Reads and validates a truth file. Errors name the file and what is wrong with it.
    public static func load(from url: URL) throws -> GroundTruth {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw EvaluationError.unreadableFile(path: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        let truth: GroundTruth
        do {
            truth = try JSONDecoder().decode(GroundTruth.self, from: data)
        } catch let error as DecodingError {
            throw EvaluationError.invalidTruth(path: url.path, reason: EvaluationError.describe(error))
        } catch {
            throw EvaluationError.invalidTruth(path: url.path, reason: "\(error)")
        }
        try truth.validate(path: url.path)
        return truth
    }

    /// Checks what the decoder cannot: the schema name, unique series UIDs, finite positive sizes.
    public func validate(path: String) throws {
        guard schema == GroundTruth.schemaName else {
            throw EvaluationError.invalidTruth(path: path,
                reason: "schema is \"\(schema)\", expected \"\(GroundTruth.schemaName)\"")
        }
        var seen: [String: String] = [:]
        for truthCase in cases {
            guard !truthCase.seriesInstanceUID.isEmpty else {
                throw EvaluationError.invalidTruth(path: path,
                    reason: "case \(truthCase.caseID) has an empty series_instance_uid")
            }
            if let other = seen[truthCase.seriesInstanceUID] {
                throw EvaluationError.invalidTruth(path: path,
                    reason: "cases \(other) and \(truthCase.caseID) have the same series_instance_uid")
            }
            seen[truthCase.seriesInstanceUID] = truthCase.caseID
            for g in truthCase.calcifiedGranulomas ?? [] {
                guard g.diameterMM.isFinite, g.diameterMM > 0, g.centerMM.count == 3, g.centerMM.allSatisfy(\.isFinite) else {
                    throw EvaluationError.invalidTruth(path: path,
                        reason: "case \(truthCase.caseID): a calcified granuloma needs center_mm [x, y, z] and a positive diameter_mm")
                }
            }
            for nodule in truthCase.nodules {
                guard nodule.diameterMM.isFinite, nodule.diameterMM > 0 else {
                    throw EvaluationError.invalidTruth(path: path,
                        reason: "case \(truthCase.caseID) nodule \(nodule.id): diameter_mm must be a positive number")
                }
                guard nodule.centerMM.count == 3, nodule.centerMM.allSatisfy(\.isFinite) else {
                    throw EvaluationError.invalidTruth(path: path,
                        reason: "case \(truthCase.caseID) nodule \(nodule.id): center_mm must be three numbers [x, y, z]")
                }
            }
        }
    }
}

/// One scan of the truth set and the nodules in it (an empty list is a clean scan).
public struct TruthCase: Codable, Sendable, Equatable {
    public var caseID: String
    public var patientID: String?
    public var studyInstanceUID: String?
    public var seriesInstanceUID: String
    public var folder: String?
    public var format: String?
    public var nodules: [TruthNodule]
    /// Benign calcified granulomas (phantom truth's `calcified_granulomas`): not nodules to
    /// find; a finding on one is neither a hit nor a false positive (`LUNA16Matcher`).
    public var calcifiedGranulomas: [TruthGranuloma]?

    public init(caseID: String, seriesInstanceUID: String, nodules: [TruthNodule],
                patientID: String? = nil, studyInstanceUID: String? = nil,
                folder: String? = nil, format: String? = nil, calcifiedGranulomas: [TruthGranuloma]? = nil) {
        self.caseID = caseID
        self.seriesInstanceUID = seriesInstanceUID
        self.nodules = nodules
        self.calcifiedGranulomas = calcifiedGranulomas
        self.patientID = patientID
        self.studyInstanceUID = studyInstanceUID
        self.folder = folder
        self.format = format
    }

    enum CodingKeys: String, CodingKey {
        case caseID = "case_id"
        case patientID = "patient_id"
        case studyInstanceUID = "study_instance_uid"
        case seriesInstanceUID = "series_instance_uid"
        case folder, format, nodules
        case calcifiedGranulomas = "calcified_granulomas"
    }
}

/// A calcified granuloma of the truth: centre (LPS, mm) and diameter (mm).
public struct TruthGranuloma: Codable, Sendable, Equatable {
    public var centerMM: [Double]
    public var diameterMM: Double

    public init(centerMM: [Double], diameterMM: Double) {
        self.centerMM = centerMM
        self.diameterMM = diameterMM
    }

    enum CodingKeys: String, CodingKey {
        case centerMM = "center_mm"
        case diameterMM = "diameter_mm"
    }
}

/// A true nodule: centre in patient coordinates (LPS, mm) and diameter in mm.
public struct TruthNodule: Codable, Sendable, Equatable {
    public var id: String
    public var centerMM: [Double]
    public var diameterMM: Double
    public var volumeMM3: Double?
    /// "solid", "part-solid" or "ground-glass".
    public var type: String?
    public var shape: String?
    /// "isolated", "juxtavascular", "juxtapleural" (costal pleura) or "juxtamediastinal"
    /// (mediastinal pleura; only from `--mediastinal-nodule-fraction`).
    public var location: String?

    public init(id: String, centerMM: [Double], diameterMM: Double, volumeMM3: Double? = nil,
                type: String? = nil, shape: String? = nil, location: String? = nil) {
        self.id = id
        self.centerMM = centerMM
        self.diameterMM = diameterMM
        self.volumeMM3 = volumeMM3
        self.type = type
        self.shape = shape
        self.location = location
    }

    enum CodingKeys: String, CodingKey {
        case id
        case centerMM = "center_mm"
        case diameterMM = "diameter_mm"
        case volumeMM3 = "volume_mm3"
        case type, shape, location
    }
}
