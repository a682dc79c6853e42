import Foundation
import Reports

/// The product's report stage: `StudyReportWriter` per study and `WorklistWriter` per batch
/// (both write to temporary names and rename; a study folder appears only when complete).
public struct ReportWriterSink: ReportSink {
    public let softwareVersion: String

    public init(softwareVersion: String) {
        self.softwareVersion = softwareVersion
    }

    func writer(_ settings: ReportSettings, _ pipeline: PipelineStamp, _ outputRoot: URL) -> StudyReportWriter {
        let renderer = KeyImageRenderer(window: HUWindow(centerHU: settings.windowCenterHU, widthHU: settings.windowWidthHU),
                                        maximumSide: settings.keyImageMaxSide)
        return StudyReportWriter(outputDirectory: outputRoot,
                                 provenance: ReportProvenance(pipelineName: pipeline.name,
                                                              pipelineVersion: pipeline.version,
                                                              softwareVersion: softwareVersion),
                                 renderer: renderer)
    }

    public func writeStudy(_ outcome: StudyOutcome, settings: ReportSettings, pipeline: PipelineStamp,
                           outputRoot: URL) throws {
        let w = writer(settings, pipeline, outputRoot)
        if outcome.succeeded, let series = outcome.series, let assessment = outcome.assessment {
            try w.writeReport(folderName: outcome.folder, series: series, assessment: assessment,
                              timingMS: outcome.timingMS)
        } else {
            try w.writeFailure(folderName: outcome.folder, identity: outcome.identity, sourcePaths: outcome.sourcePaths,
                               series: outcome.series, stage: outcome.failedStage ?? "report",
                               reason: outcome.failureReason ?? "no assessment", timingMS: outcome.timingMS)
        }
    }

    @discardableResult
    public func writeWorklist(settings: ReportSettings, outputRoot: URL) throws -> Int {
        try WorklistWriter.writeFromReports(outputDirectory: outputRoot, title: settings.worklistTitle).count
    }

    public func hasCompleteReport(folder: String, outputRoot: URL) -> Bool {
        StudyReportWriter(outputDirectory: outputRoot,
                          provenance: ReportProvenance(pipelineName: "", pipelineVersion: "", softwareVersion: ""))
            .isComplete(folderName: folder)
    }

    public func removeStaleTemporaryFiles(outputRoot: URL) throws {
        try StudyReportWriter(outputDirectory: outputRoot,
                              provenance: ReportProvenance(pipelineName: "", pipelineVersion: "", softwareVersion: ""))
            .removeStaleTemporaryFolders()
    }
}
