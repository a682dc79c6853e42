import Foundation
import SeriesInput

/// A study that was quarantined: which stage gave up and why.
public struct StudyFailure: Codable, Sendable, Equatable {
    public var seriesID: String
    public var folder: String
    public var stage: String
    public var reason: String

    enum CodingKeys: String, CodingKey { case seriesID = "series_id", folder, stage, reason }
}

/// A discovered series that the pipeline chose not to process.
public struct ExcludedSeries: Codable, Sendable, Equatable {
    public var seriesID: String
    public var reason: String

    enum CodingKeys: String, CodingKey { case seriesID = "series_id", reason }
}

/// `OUT/run-summary.json` (schema `triage.run-summary.v1`, docs/pipeline.md).
public struct RunSummary: Codable, Sendable {
    public var schema = "triage.run-summary.v1"
    public var pipeline: PipelineStamp
    public var pipelineFile: String?
    public var startedAt: String
    public var finishedAt: String
    public var wallSeconds: Double
    public var studies: Studies
    public var studiesPerSecond: Double
    public var voxelsPerSecond: Double
    public var slicesPerSecond: Double
    public var stages: [String: StageSummary]
    public var worklistSeconds: Double
    /// Seconds during which decode and detect were both busy (decode of the next study
    /// overlapping detection of this one).
    public var decodeDetectOverlapSeconds: Double
    public var cpu: CPU
    public var memory: Memory
    /// Failure count per "stage: reason class".
    public var failuresByReason: [String: Int]
    public var failures: [StudyFailure]
    /// Inputs discovery did not turn into series (not DICOM, unreadable, ...).
    public var skippedInputs: [SkippedInput]
    public var excludedSeries: [ExcludedSeries]
    public var journalError: String?
    public var worklistError: String?

    public struct Studies: Codable, Sendable {
        public var discovered: Int
        public var selected: Int
        public var excluded: Int
        /// Selected studies already finished by an earlier run with the same hashes.
        public var alreadyDone: Int
        public var processed: Int
        public var succeeded: Int
        public var failed: Int

        enum CodingKeys: String, CodingKey {
            case discovered, selected, excluded, alreadyDone = "already_done", processed, succeeded, failed
        }
    }

    public struct StageSummary: Codable, Sendable {
        public var workers: Int
        public var items: Int
        /// First item start to last item end.
        public var wallSeconds: Double
        /// Sum of per-item processing time over the stage's workers.
        public var busySeconds: Double
        /// Sum over items of the time they waited in the queue in front of this stage.
        public var queueWaitSeconds: Double
        /// Time the stage's workers waited for input (starved).
        public var idleWaitSeconds: Double
        /// Time the stage's workers waited for room in the next queue (backpressure).
        public var blockedOutputSeconds: Double

        enum CodingKeys: String, CodingKey {
            case workers, items, wallSeconds = "wall_seconds", busySeconds = "busy_seconds",
                 queueWaitSeconds = "queue_wait_seconds", idleWaitSeconds = "idle_wait_seconds",
                 blockedOutputSeconds = "blocked_output_seconds"
        }
    }

    public struct CPU: Codable, Sendable {
        public var cores: Int
        public var detectKernelWorkers: Int
        public var processCPUSeconds: Double
        /// Process CPU time / wall time over the run (200 = two cores fully busy).
        public var utilisationPercent: Double
        /// Process CPU time / wall time while a study was in detection.
        public var duringDetectPercent: Double

        enum CodingKeys: String, CodingKey {
            case cores, detectKernelWorkers = "detect_kernel_workers", processCPUSeconds = "process_cpu_seconds",
                 utilisationPercent = "utilisation_percent", duringDetectPercent = "during_detect_percent"
        }
    }

    public struct Memory: Codable, Sendable {
        public var budgetBytes: Int
        public var peakReservedBytes: Int
        /// VmHWM of the process from /proc/self/status.
        public var peakResidentBytes: Int
        /// Studies larger than the budget that ran alone.
        public var oversizedStudies: Int
        public var budgetWaitSeconds: Double

        enum CodingKeys: String, CodingKey {
            case budgetBytes = "budget_bytes", peakReservedBytes = "peak_reserved_bytes",
                 peakResidentBytes = "peak_resident_bytes", oversizedStudies = "oversized_studies",
                 budgetWaitSeconds = "budget_wait_seconds"
        }
    }

    enum CodingKeys: String, CodingKey {
        case schema, pipeline, pipelineFile = "pipeline_file", startedAt = "started_at", finishedAt = "finished_at",
             wallSeconds = "wall_seconds", studies, studiesPerSecond = "studies_per_second",
             voxelsPerSecond = "voxels_per_second", slicesPerSecond = "slices_per_second", stages,
             worklistSeconds = "worklist_seconds", decodeDetectOverlapSeconds = "decode_detect_overlap_seconds",
             cpu, memory, failuresByReason = "failures_by_reason", failures, skippedInputs = "skipped_inputs",
             excludedSeries = "excluded_series", journalError = "journal_error", worklistError = "worklist_error"
    }

    /// A reason without its file-specific details (text after the first ':' and any path),
    /// so failures group by kind.
    static func reasonClass(_ reason: String) -> String {
        var text = reason
        if let colon = text.firstIndex(of: ":") { text = String(text[..<colon]) }
        let words = text.split(separator: " ").filter { !$0.contains("/") }
        return String(words.joined(separator: " ").prefix(80))
    }
}
