import Foundation
import Detection
import SeriesInput
import Volumes

/// `findings.json`, schema `triage.findings.v1` (docs/findings-json.md, JSON Schema in
/// docs/findings-schema.json). Field names are snake_case on disk; every listed key is
/// always present (absent values are written as JSON `null`), so readers never have to
/// guess whether a key was forgotten or unknown.
///
/// Versioning: adding a key keeps `v1`; renaming, removing or changing the meaning or
/// unit of a key makes `triage.findings.v2`.
public struct FindingsDocument: Codable, Sendable, Equatable {
    public static let schemaID = "triage.findings.v1"

    public var schema: String
    /// "ok" or "failed".
    public var status: String
    /// Why the study failed (stage and reason); nil when status is "ok".
    public var error: String?
    /// The stage that failed ("decode", "detect", ...); nil when status is "ok".
    public var failedStage: String?
    public var study: Study
    /// nil when the series could not be decoded.
    public var series: Series?
    /// nil for a failed study.
    public var triage: Triage?
    /// Ranked, most suspicious first. Empty for a failed study.
    public var findings: [FindingRecord]
    /// Wall time per pipeline stage (decode, detect, report, ...), ms.
    public var timingMS: [String: Double]
    /// Wall time per detection step (lung mask, candidates, ...), ms.
    public var detectionTimingMS: [String: Double]
    public var pipeline: Pipeline
    public var softwareVersion: String
    /// ISO 8601 UTC time the report was written.
    public var generatedAt: String
    /// Report files relative to the study folder.
    public var reportHTML: String
    /// A small image for the worklist, relative to the study folder; nil for a failed study.
    public var thumbnail: String?

    public struct Study: Codable, Sendable, Equatable {
        public var patientID: String?
        public var patientName: String?
        public var studyInstanceUID: String?
        public var seriesInstanceUID: String?
        public var accessionNumber: String?
        /// DICOM DA (YYYYMMDD) as stored.
        public var studyDate: String?
        public var modality: String?
        public var seriesDescription: String?
        /// The input files the series came from, in sorted slice order.
        public var source: [String]

        enum CodingKeys: String, CodingKey {
            case patientID = "patient_id", patientName = "patient_name"
            case studyInstanceUID = "study_instance_uid", seriesInstanceUID = "series_instance_uid"
            case accessionNumber = "accession_number", studyDate = "study_date", modality
            case seriesDescription = "series_description", source
        }

        public init(patientID: String? = nil, patientName: String? = nil, studyInstanceUID: String? = nil,
                    seriesInstanceUID: String? = nil, accessionNumber: String? = nil, studyDate: String? = nil,
                    modality: String? = nil, seriesDescription: String? = nil, source: [String] = []) {
            self.patientID = patientID
            self.patientName = patientName
            self.studyInstanceUID = studyInstanceUID
            self.seriesInstanceUID = seriesInstanceUID
            self.accessionNumber = accessionNumber
            self.studyDate = studyDate
            self.modality = modality
            self.seriesDescription = seriesDescription
            self.source = source
        }

        public init(identity: SeriesIdentity, source: [String]) {
            self.init(patientID: identity.patientID, patientName: identity.patientName,
                      studyInstanceUID: identity.studyInstanceUID, seriesInstanceUID: identity.seriesInstanceUID,
                      accessionNumber: identity.accessionNumber, studyDate: identity.studyDate,
                      modality: identity.modality, seriesDescription: identity.seriesDescription, source: source)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(patientID, forKey: .patientID)
            try c.encode(patientName, forKey: .patientName)
            try c.encode(studyInstanceUID, forKey: .studyInstanceUID)
            try c.encode(seriesInstanceUID, forKey: .seriesInstanceUID)
            try c.encode(accessionNumber, forKey: .accessionNumber)
            try c.encode(studyDate, forKey: .studyDate)
            try c.encode(modality, forKey: .modality)
            try c.encode(seriesDescription, forKey: .seriesDescription)
            try c.encode(source, forKey: .source)
        }
    }

    public struct Series: Codable, Sendable, Equatable {
        /// "dicom", "png" or "jpeg".
        public var sourceKind: String
        /// [columns, rows, slices].
        public var size: [Int]
        /// [column, row, slice] spacing in mm (slice spacing measured from positions).
        public var spacingMM: [Double]
        /// "axial", "coronal", "sagittal" or "oblique".
        public var orientation: String
        /// Voxel (column, row, slice, 1) -> LPS mm, 4x4 row-major.
        public var affine: [[Double]]
        public var warnings: [String]
        /// The lungs' fine-grained image noise as the detector measured it (HU, 0.1); nil when
        /// not measured (no parenchyma, no detection, documents written before 2026-12-06).
        public var imageNoiseHU: Double?

        enum CodingKeys: String, CodingKey {
            case sourceKind = "source_kind", size, spacingMM = "spacing_mm", orientation, affine, warnings
            case imageNoiseHU = "image_noise_hu"
        }

        public init(sourceKind: String, size: [Int], spacingMM: [Double], orientation: String,
                    affine: [[Double]], warnings: [String], imageNoiseHU: Double? = nil) {
            self.sourceKind = sourceKind
            self.size = size
            self.spacingMM = spacingMM
            self.orientation = orientation
            self.affine = affine
            self.warnings = warnings
            self.imageNoiseHU = imageNoiseHU
        }

        /// `detectionWarnings` (the detector's, about this series) follow the reader's own.
        public init(series: ImageSeries, detectionWarnings: [String] = [], imageNoiseHU: Double? = nil) {
            let v = series.volume
            self.init(sourceKind: series.kind.rawValue, size: [v.columns, v.rows, v.slices],
                      spacingMM: [v.spacing.columnMM, v.spacing.rowMM, v.spacing.sliceMM].map { rounded($0, 6) },
                      orientation: series.orientation,
                      affine: v.affine.matrix.map { $0.map { rounded($0, 6) } },
                      warnings: series.warnings + detectionWarnings,
                      imageNoiseHU: imageNoiseHU.map { rounded($0, 1) })
        }

        // Every key is written, a noise not measured as null (docs/findings-json.md).
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(sourceKind, forKey: .sourceKind)
            try c.encode(size, forKey: .size)
            try c.encode(spacingMM, forKey: .spacingMM)
            try c.encode(orientation, forKey: .orientation)
            try c.encode(affine, forKey: .affine)
            try c.encode(warnings, forKey: .warnings)
            try c.encode(imageNoiseHU, forKey: .imageNoiseHU)
        }
    }

    public struct Triage: Codable, Sendable, Equatable {
        /// "urgent", "soon" or "routine".
        public var priority: String
        /// Study-level score in [0, 1]; orders studies within a priority.
        public var score: Double
        /// Highest Lung-RADS category over the findings ("1" with none).
        public var lungRADS: String
        /// Number of findings, and how many are Lung-RADS 3 or higher.
        public var findingCount: Int
        public var actionableCount: Int
        /// Score from which a finding counts for `lungRADS` and the priority; the findings
        /// below it are listed for review only. nil in documents written without it.
        public var actionableScore: Double?

        enum CodingKeys: String, CodingKey {
            case priority, score, lungRADS = "lung_rads", findingCount = "finding_count"
            case actionableCount = "actionable_count", actionableScore = "actionable_score"
        }
    }

    /// Relative paths (from the study folder) of one finding's key images.
    public struct KeyImages: Codable, Sendable, Equatable {
        public var axial: String
        public var zoom: String
        /// nil for a single-slice series (no reformat possible).
        public var coronal: String?
        public var sagittal: String?

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(axial, forKey: .axial)
            try c.encode(zoom, forKey: .zoom)
            try c.encode(coronal, forKey: .coronal)
            try c.encode(sagittal, forKey: .sagittal)
        }
    }

    /// The finding that sets the study's Lung-RADS category and priority: of the findings at
    /// or above `actionableScore` (all of them when nil), the highest category, then the
    /// highest score, then the better rank; nil when none is. The worklist shows it and its
    /// zoom is the study's thumbnail: the reason to open the study, often not the largest
    /// finding (a ground-glass category 2 beside a smaller solid 4B) nor the top-ranked one.
    public static func leadingFinding(of findings: [FindingRecord], actionableScore: Double?) -> FindingRecord? {
        findings.filter { counts(score: $0.score, actionableScore: actionableScore) }.max {
            (categoryOrder($0.lungRADS), $0.score, -$0.rank) < (categoryOrder($1.lungRADS), $1.score, -$1.rank)
        }
    }

    /// Whether a finding of `score` counts for the study's category and priority: at or above
    /// the actionable score (every finding when the document does not say what that score is).
    static func counts(score: Double, actionableScore: Double?) -> Bool {
        actionableScore.map { score >= $0 } ?? true
    }

    /// Order of a `lung_rads` text in `LungRADSCategory` (unknown text lowest).
    static func categoryOrder(_ lungRADS: String) -> Int {
        LungRADSCategory(rawValue: lungRADS).flatMap { LungRADSCategory.allCases.firstIndex(of: $0) } ?? -1
    }

    public struct FindingRecord: Codable, Sendable, Equatable {
        public var id: String
        public var rank: Int
        public var score: Double
        /// [x, y, z] DICOM patient coordinates (LPS), mm.
        public var centerMM: [Double]
        /// [column, row, slice] in the sorted series, 0-based, fractional.
        public var centerVoxel: [Double]
        /// 1-based slice number a viewer shows (round(center slice) + 1).
        public var sliceNumber: Int
        /// Mean of long and short axis (Lung-RADS size), mm.
        public var diameterMM: Double
        public var longAxisMM: Double
        public var shortAxisMM: Double
        public var equivalentDiameterMM: Double
        public var volumeMM3: Double
        public var meanHU: Double
        public var minHU: Double
        public var maxHU: Double
        /// "solid", "part-solid" or "ground-glass".
        public var type: String
        public var lungRADS: String
        /// "right" / "left" (patient side) and "upper" / "middle" / "lower".
        public var lungSide: String
        public var lungZone: String
        public var sphericity: Double
        public var vesselness: Double
        public var distanceToPleuraMM: Double
        /// Largest extent (mm) of the lung opacity (a consolidation, a mass) the finding is the
        /// best-scoring piece of; absent when the finding is not part of a larger opacity.
        public var opacityExtentMM: Double?
        /// True for a completely or centrally calcified nodule (benign pattern, Lung-RADS 1);
        /// absent otherwise.
        public var calcified: Bool?
        /// The axial key image with the finding circled, relative to the study folder; nil
        /// for findings ranked beyond the writer's `keyImageFindingLimit`.
        public var keyImage: String?
        public var keyImages: KeyImages?

        enum CodingKeys: String, CodingKey {
            case id, rank, score, centerMM = "center_mm", centerVoxel = "center_voxel"
            case sliceNumber = "slice_number", diameterMM = "diameter_mm", longAxisMM = "long_axis_mm"
            case shortAxisMM = "short_axis_mm", equivalentDiameterMM = "equivalent_diameter_mm"
            case volumeMM3 = "volume_mm3", meanHU = "mean_hu", minHU = "min_hu", maxHU = "max_hu", type
            case lungRADS = "lung_rads", lungSide = "lung_side", lungZone = "lung_zone", sphericity, vesselness
            case distanceToPleuraMM = "distance_to_pleura_mm", keyImage = "key_image", keyImages = "key_images"
            case opacityExtentMM = "opacity_extent_mm", calcified
        }

        public init(finding f: Finding, keyImages: KeyImages?) {
            id = f.id
            rank = f.rank
            score = rounded(f.score, 4)
            centerMM = [f.centerMM.x, f.centerMM.y, f.centerMM.z].map { rounded($0, 3) }
            centerVoxel = [f.centerVoxel.x, f.centerVoxel.y, f.centerVoxel.z].map { rounded($0, 3) }
            sliceNumber = f.centerVoxel.z.isFinite ? Int(min(max(f.centerVoxel.z, 0), 1e9).rounded()) + 1 : 1
            diameterMM = rounded(f.diameterMM, 2)
            longAxisMM = rounded(f.longAxisMM, 2)
            shortAxisMM = rounded(f.shortAxisMM, 2)
            equivalentDiameterMM = rounded(f.equivalentDiameterMM, 2)
            volumeMM3 = rounded(f.volumeMM3, 1)
            meanHU = rounded(f.meanHU, 1)
            minHU = rounded(f.minHU, 1)
            maxHU = rounded(f.maxHU, 1)
            type = f.type.rawValue
            lungRADS = f.lungRADS.rawValue
            lungSide = f.lungSide
            lungZone = f.lungZone
            sphericity = rounded(f.sphericity, 3)
            vesselness = rounded(f.vesselness, 3)
            distanceToPleuraMM = rounded(f.distanceToPleuraMM, 2)
            opacityExtentMM = f.opacityExtentMM.map { rounded($0, 1) }
            calcified = f.calcified ? true : nil
            keyImage = keyImages?.axial
            self.keyImages = keyImages
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(rank, forKey: .rank)
            try c.encode(score, forKey: .score)
            try c.encode(centerMM, forKey: .centerMM)
            try c.encode(centerVoxel, forKey: .centerVoxel)
            try c.encode(sliceNumber, forKey: .sliceNumber)
            try c.encode(diameterMM, forKey: .diameterMM)
            try c.encode(longAxisMM, forKey: .longAxisMM)
            try c.encode(shortAxisMM, forKey: .shortAxisMM)
            try c.encode(equivalentDiameterMM, forKey: .equivalentDiameterMM)
            try c.encode(volumeMM3, forKey: .volumeMM3)
            try c.encode(meanHU, forKey: .meanHU)
            try c.encode(minHU, forKey: .minHU)
            try c.encode(maxHU, forKey: .maxHU)
            try c.encode(type, forKey: .type)
            try c.encode(lungRADS, forKey: .lungRADS)
            try c.encode(lungSide, forKey: .lungSide)
            try c.encode(lungZone, forKey: .lungZone)
            try c.encode(sphericity, forKey: .sphericity)
            try c.encode(vesselness, forKey: .vesselness)
            try c.encode(distanceToPleuraMM, forKey: .distanceToPleuraMM)
            // Optional in the schema: absent (not null) for a finding that is not part of a
            // larger opacity.
            try c.encodeIfPresent(opacityExtentMM, forKey: .opacityExtentMM)
            try c.encodeIfPresent(calcified, forKey: .calcified)
            try c.encode(keyImage, forKey: .keyImage)
            try c.encode(keyImages, forKey: .keyImages)
        }
    }

    /// Name and version of the pipeline definition that produced the report.
    public struct Pipeline: Codable, Sendable, Equatable {
        public var name: String
        public var version: String
        public init(name: String, version: String) {
            self.name = name
            self.version = version
        }
    }

    enum CodingKeys: String, CodingKey {
        case schema, status, error, failedStage = "failed_stage", study, series, triage, findings
        case timingMS = "timing_ms", detectionTimingMS = "detection_timing_ms", pipeline
        case softwareVersion = "software_version", generatedAt = "generated_at", reportHTML = "report_html"
        case thumbnail
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schema, forKey: .schema)
        try c.encode(status, forKey: .status)
        try c.encode(error, forKey: .error)
        try c.encode(failedStage, forKey: .failedStage)
        try c.encode(study, forKey: .study)
        try c.encode(series, forKey: .series)
        try c.encode(triage, forKey: .triage)
        try c.encode(findings, forKey: .findings)
        try c.encode(timingMS, forKey: .timingMS)
        try c.encode(detectionTimingMS, forKey: .detectionTimingMS)
        try c.encode(pipeline, forKey: .pipeline)
        try c.encode(softwareVersion, forKey: .softwareVersion)
        try c.encode(generatedAt, forKey: .generatedAt)
        try c.encode(reportHTML, forKey: .reportHTML)
        try c.encode(thumbnail, forKey: .thumbnail)
    }

    /// The bytes written to disk: pretty-printed, keys sorted, so files diff cleanly.
    public func encodedJSON() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    /// Reads a `findings.json`; throws when it is not valid JSON of this schema.
    public static func read(from url: URL) throws -> FindingsDocument {
        let data = try Data(contentsOf: url)
        let document: FindingsDocument
        do {
            document = try JSONDecoder().decode(FindingsDocument.self, from: data)
        } catch {
            throw ReportError.unreadableFindings(path: url.path, reason: String(describing: error))
        }
        guard document.schema == schemaID else {
            throw ReportError.unreadableFindings(path: url.path, reason: "schema is \"\(document.schema)\", expected \"\(schemaID)\"")
        }
        return document
    }
}

/// Rounds to `digits` decimals so the JSON carries meaningful precision only
/// (0.001 mm is far below any CT voxel). A non-finite value (a degenerate feature such
/// as the sphericity of a one-voxel blob) becomes 0: JSON has no NaN, and one bad
/// feature must not cost the radiologist the whole report.
@inline(__always)
func rounded(_ value: Double, _ digits: Int) -> Double {
    guard value.isFinite else { return 0 }
    let scale = pow(10, Double(digits))
    return (value * scale).rounded() / scale
}

/// Errors of the Reports module; each names the file or value at fault.
public enum ReportError: Error, CustomStringConvertible, Equatable {
    /// The caller passed a folder name that is not a safe single path component.
    case unsafeFolderName(String)
    case unreadableFindings(path: String, reason: String)
    case writeFailed(path: String, reason: String)
    case imageEncodingFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .unsafeFolderName(let name):
            // The name may come from patient data by mistake: show its length, not its text.
            return "unsafe study folder name (\(name.utf8.count) bytes): only A-Z a-z 0-9 . _ - allowed, 1-128 characters, not starting with '.'"
        case .unreadableFindings(let path, let reason):
            return "\(path): not a readable triage.findings.v1 document: \(reason)"
        case .writeFailed(let path, let reason):
            return "\(path): write failed: \(reason)"
        case .imageEncodingFailed(let path, let reason):
            return "\(path): PNG encoding failed: \(reason)"
        }
    }
}
