import Volumes

/// Where a series' pixels came from.
public enum SeriesSourceKind: String, Codable, Sendable {
    case dicom
    case png
    case jpeg
}

/// Identifiers of a series. These are patient data: never log them and never build
/// a path from them without sanitising (see the Pipeline module).
public struct SeriesIdentity: Codable, Sendable, Equatable {
    public var patientID: String?
    public var patientName: String?
    public var studyInstanceUID: String?
    public var seriesInstanceUID: String?
    public var accessionNumber: String?
    /// DICOM DA value (YYYYMMDD) as stored.
    public var studyDate: String?
    public var modality: String?
    public var seriesDescription: String?
    public var seriesNumber: Int?

    public init(patientID: String? = nil, patientName: String? = nil, studyInstanceUID: String? = nil,
                seriesInstanceUID: String? = nil, accessionNumber: String? = nil, studyDate: String? = nil,
                modality: String? = nil, seriesDescription: String? = nil, seriesNumber: Int? = nil) {
        self.patientID = patientID
        self.patientName = patientName
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.accessionNumber = accessionNumber
        self.studyDate = studyDate
        self.modality = modality
        self.seriesDescription = seriesDescription
        self.seriesNumber = seriesNumber
    }
}

/// HU statistics over the voxels that are not padding.
public struct HUStatistics: Codable, Sendable, Equatable {
    public var minHU: Double
    public var maxHU: Double
    public var meanHU: Double
    /// Voxels counted (not padding).
    public var voxelCount: Int
    /// Voxels that held Pixel Padding Value (set to -1024 HU and not counted).
    public var paddingVoxelCount: Int

    public init(minHU: Double, maxHU: Double, meanHU: Double, voxelCount: Int, paddingVoxelCount: Int) {
        self.minHU = minHU
        self.maxHU = maxHU
        self.meanHU = meanHU
        self.voxelCount = voxelCount
        self.paddingVoxelCount = paddingVoxelCount
    }
}

/// A decoded image series: the HU volume in sorted slice order plus what a reader
/// of the report needs to know about how it was assembled.
public struct ImageSeries: Sendable {
    public var kind: SeriesSourceKind
    public var identity: SeriesIdentity
    /// The input files, in sorted slice order.
    public var sourcePaths: [String]
    /// How the files were grouped into this series (e.g. "SeriesInstanceUID", "folder").
    public var grouping: String
    /// Hounsfield units; padding voxels hold -1024.
    public var volume: Volume
    /// Human-readable orientation of the slices: "axial", "coronal", "sagittal" or "oblique".
    public var orientation: String
    /// Problems found while assembling (gaps, missing rescale, assumed spacing, ...).
    public var warnings: [String]
    public var statistics: HUStatistics

    public init(kind: SeriesSourceKind, identity: SeriesIdentity, sourcePaths: [String], grouping: String,
                volume: Volume, orientation: String, warnings: [String], statistics: HUStatistics) {
        self.kind = kind
        self.identity = identity
        self.sourcePaths = sourcePaths
        self.grouping = grouping
        self.volume = volume
        self.orientation = orientation
        self.warnings = warnings
        self.statistics = statistics
    }
}
