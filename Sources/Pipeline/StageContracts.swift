import Foundation
import SeriesInput
import Detection

/// A series found by discovery, as the runtime needs it: header facts for selection and
/// scheduling, the files for the input hash, and a closure that decodes it.
public struct CatalogSeries: Sendable {
    /// Stable, content-derived id (from `SeriesDescriptor.id`).
    public var id: String
    public var facts: SeriesFacts
    public var identity: SeriesIdentity
    public var sourcePaths: [String]
    public var load: @Sendable () throws -> ImageSeries

    public init(id: String, facts: SeriesFacts, identity: SeriesIdentity, sourcePaths: [String],
                load: @escaping @Sendable () throws -> ImageSeries) {
        self.id = id
        self.facts = facts
        self.identity = identity
        self.sourcePaths = sourcePaths
        self.load = load
    }
}

/// The discover stage: finds series under the input paths from headers only.
public protocol SeriesCatalog: Sendable {
    func discover(paths: [URL]) -> (series: [CatalogSeries], skipped: [SkippedInput])
}

/// The detect stage: turns a decoded series into an assessment using `kernelWorkers`
/// Dispatch workers.
public protocol StudyProcessor: Sendable {
    func assess(_ series: ImageSeries, kernelWorkers: Int) throws -> StudyAssessment
}

/// Everything the report stage knows about one study, ok or failed.
public struct StudyOutcome: Sendable {
    public var seriesID: String
    /// Folder name under `OUT/studies/` (safe, see `SafeNames`).
    public var folder: String
    public var identity: SeriesIdentity
    public var sourcePaths: [String]
    public var series: ImageSeries?
    public var assessment: StudyAssessment?
    /// Set when the study failed: the stage and the reason.
    public var failedStage: String?
    public var failureReason: String?
    /// Wall time per pipeline stage in ms.
    public var timingMS: [String: Double]

    public var succeeded: Bool { failedStage == nil }
}

/// Name, version and hash of the pipeline that produced a report.
public struct PipelineStamp: Sendable, Codable, Equatable {
    public var name: String
    public var version: String
    public var hash: String
}

/// The report stage: per-study reports and the batch worklist.
public protocol ReportSink: Sendable {
    /// Writes `OUT/studies/<outcome.folder>/` completely or not at all.
    func writeStudy(_ outcome: StudyOutcome, settings: ReportSettings, pipeline: PipelineStamp,
                    outputRoot: URL) throws
    /// Writes the worklist over every complete study report in OUT (ok and failed, from
    /// this run and earlier runs into the same OUT); returns the number of rows.
    @discardableResult
    func writeWorklist(settings: ReportSettings, outputRoot: URL) throws -> Int
    /// Removes what an interrupted earlier run left half-built (called before a batch).
    func removeStaleTemporaryFiles(outputRoot: URL) throws
    /// Whether `folder` holds a complete report (used by resume).
    func hasCompleteReport(folder: String, outputRoot: URL) -> Bool
}
