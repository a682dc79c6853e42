import Foundation
import Logging
import SeriesInput
import Detection
import Volumes

/// Errors that stop a batch before or outside per-study processing.
/// Exit codes of `triage run` (docs/operations.md).
public enum BatchExitCode {
    /// Every selected study succeeded (or there was nothing to do).
    public static let success: Int32 = 0
    /// Unexpected error: output folder or journal not writable, internal failure.
    public static let internalError: Int32 = 1
    /// Configuration error: invalid pipeline file, missing input, OUT in use; nothing ran.
    public static let configuration: Int32 = 2
    /// The batch completed but at least one study failed and was quarantined.
    public static let studiesFailed: Int32 = 3
}

public enum PipelineRunError: Error, CustomStringConvertible {
    /// Bad arguments or pipeline: nothing was processed.
    case configuration(String)
    /// The output folder or journal cannot be written.
    case output(String)

    public var description: String {
        switch self {
        case let .configuration(why): "configuration error: \(why)"
        case let .output(why): "output error: \(why)"
        }
    }
}

/// Options of one `triage run` that are not part of the pipeline file.
public struct BatchOptions: Sendable {
    public var inputs: [URL]
    public var outputRoot: URL
    /// Cores the stage and kernel workers share (default: active processors).
    public var cores: Int = ProcessInfo.processInfo.activeProcessorCount
    /// Include patient identifiers in log lines.
    public var logPHI: Bool = false
    /// Inputs dropped before discovery (e.g. a queued path that no longer exists), listed
    /// in run-summary.json with the other skipped inputs.
    public var extraSkipped: [SkippedInput] = []

    public init(inputs: [URL], outputRoot: URL) {
        self.inputs = inputs
        self.outputRoot = outputRoot
    }
}

/// What a finished batch reports back to the CLI.
public struct BatchResult: Sendable {
    public var summary: RunSummary
    public var summaryURL: URL
    public var worklistFolder: URL
    public var failedCount: Int { summary.studies.failed }
}

/// The staged runtime: discover -> decode -> preprocess -> detect -> report, each stage on
/// its own threads with a bounded queue in front of it.
///
/// Threads (docs/pipeline.md, "Threads and cores"): the detect stage runs its kernels on
/// `kernel_workers` Dispatch workers (default: cores / detect workers), which fill the cores.
/// Decode, preprocess and report workers are plain threads at a lower scheduling priority
/// (nice +5), so when they run beside detection they take idle cycles (decode of the next
/// study is mostly I/O and byte shuffling) instead of slicing the kernels' time;
/// a study in flight holds its memory reservation from decode until its report is written.
public final class BatchRunner: @unchecked Sendable {
    public let definition: PipelineDefinition
    let catalog: SeriesCatalog
    let processor: StudyProcessor
    let sink: ReportSink
    let logger: Logger
    let progress: ProgressReporter?

    public init(definition: PipelineDefinition, catalog: SeriesCatalog, processor: StudyProcessor,
                sink: ReportSink, logger: Logger, progress: ProgressReporter? = nil) {
        self.definition = definition
        self.catalog = catalog
        self.processor = processor
        self.sink = sink
        self.logger = logger
        self.progress = progress
    }

    /// One study moving through the stages.
    final class WorkItem: @unchecked Sendable {
        let source: CatalogSeries
        let folder: String
        let inputHash: String
        let reservation: Int
        var series: ImageSeries?
        var assessment: StudyAssessment?
        var failedStage: String?
        var failureReason: String?
        var timingMS: [String: Double] = [:]
        /// When the item entered the queue it now waits in (monotonic seconds).
        var enqueuedAt: Double = 0

        init(source: CatalogSeries, folder: String, inputHash: String, reservation: Int) {
            self.source = source
            self.folder = folder
            self.inputHash = inputHash
            self.reservation = reservation
        }

        func fail(_ stage: String, _ reason: String) {
            failedStage = stage
            failureReason = reason
            series = nil
        }
    }

    public func run(_ options: BatchOptions) throws -> BatchResult {
        let runStart = monotonicSeconds()
        let startedAt = Date()
        let cpuStart = ProcessCPU.seconds()
        let fm = FileManager.default
        let out = options.outputRoot
        do {
            try fm.createDirectory(at: out.appendingPathComponent("studies"), withIntermediateDirectories: true)
        } catch {
            throw PipelineRunError.output("cannot create the output folder \(out.path): \(error.localizedDescription)")
        }
        for input in options.inputs where !fm.fileExists(atPath: input.path) {
            throw PipelineRunError.configuration("input \(input.path) does not exist")
        }
        // One batch per OUT at a time: the journal and the clean-up of temporary folders
        // assume it. The lock dies with the process (also on kill -9).
        let lockFD = open(out.appendingPathComponent(".triage-run.lock").path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lockFD >= 0, flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            if lockFD >= 0 { close(lockFD) }
            throw PipelineRunError.configuration("another triage run is using \(out.path)")
        }
        defer { close(lockFD) }
        let pipelineHash = definition.contentHash
        let stamp = PipelineStamp(name: definition.name, version: definition.version, hash: pipelineHash)
        let journalURL = out.appendingPathComponent("journal.jsonl")
        let previous = Journal.latest(Journal.load(url: journalURL))
        let journal = try Journal(url: journalURL)
        do { try sink.removeStaleTemporaryFiles(outputRoot: out) } catch {
            throw PipelineRunError.output("cannot clean up after an interrupted run in \(out.path): \(error)")
        }

        // Discover (headers only) and select.
        var stats = StageStatsCollector(names: ["discover", "decode", "preprocess", "detect", "report"])
        let discoverStart = monotonicSeconds()
        progress?.setStage("discover")
        var found = catalog.discover(paths: options.inputs)
        found.skipped += options.extraSkipped
        var excluded: [ExcludedSeries] = []
        var candidates: [CatalogSeries] = []
        for s in found.series {
            if definition.discover.formats.contains(s.facts.kind) {
                candidates.append(s)
            } else {
                excluded.append(ExcludedSeries(seriesID: s.id, reason: "format \(s.facts.kind) not in discover.formats"))
            }
        }
        let (selectedIdx, excludedIdx) = definition.selection.select(candidates.map(\.facts), ids: candidates.map(\.id))
        excluded += excludedIdx.map { ExcludedSeries(seriesID: candidates[$0.0].id, reason: $0.1) }

        var work: [WorkItem] = []
        var alreadyDone: [String] = []
        for i in selectedIdx {
            let s = candidates[i]
            let folder = SafeNames.studyFolder(seriesID: s.id, prefix: s.facts.kind)
            let hash = InputHash.compute(paths: s.sourcePaths, mode: definition.resume.inputHash)
            if let last = previous[s.id], last.event == .finished, last.inputHash == hash,
               last.pipelineHash == pipelineHash, sink.hasCompleteReport(folder: folder, outputRoot: out) {
                alreadyDone.append(folder)
                continue
            }
            let reservation = MemoryBudget.reservation(voxels: s.facts.voxelCount, settings: definition.memory)
            work.append(WorkItem(source: s, folder: folder, inputHash: hash, reservation: reservation))
        }
        stats.record("discover", busy: monotonicSeconds() - discoverStart, start: discoverStart,
                     end: monotonicSeconds())
        logger.info("discovered inputs", metadata: [
            "series": "\(found.series.count)", "selected": "\(selectedIdx.count)",
            "already_done": "\(alreadyDone.count)", "skipped_files": "\(found.skipped.count)",
            "excluded_series": "\(excluded.count)", "pipeline": "\(definition.name)",
        ])

        let budget = MemoryBudget(budgetBytes: MemoryBudget.budgetBytes(for: definition.memory))
        let kernelWorkers = definition.detect.effectiveKernelWorkers(cores: options.cores)
        progress?.begin(total: work.count, totalSlices: work.reduce(0) { $0 + $1.source.facts.sliceCount })

        // Queues in front of each stage. The decode queue holds the whole (already known)
        // batch; the others are bounded by the pipeline's queue capacities.
        let decodeQueue = BoundedQueue<WorkItem>(capacity: max(1, work.count))
        let preprocessQueue = BoundedQueue<WorkItem>(capacity: definition.preprocess.stage.queueCapacity)
        let detectQueue = BoundedQueue<WorkItem>(capacity: definition.detect.stage.queueCapacity)
        let reportQueue = BoundedQueue<WorkItem>(capacity: definition.report.stage.queueCapacity)
        for item in work { item.enqueuedAt = monotonicSeconds(); decodeQueue.push(item) }
        decodeQueue.close()

        let shared = SharedRunState()
        let journalLock = NSLock()
        func journalAppend(_ record: JournalRecord) {
            journalLock.lock(); defer { journalLock.unlock() }
            do { try journal.append(record) } catch {
                shared.noteJournalError("\(error)")
            }
        }

        let clampHU = definition.preprocess.clampHU
        let rejectGaps = definition.preprocess.rejectSliceGaps
        let minimumSlices = definition.preprocess.minimumSlices
        let reportSettings = definition.report
        let logPHI = options.logPHI
        let logger = self.logger
        let processor = self.processor
        let sink = self.sink
        let progress = self.progress

        func metadata(_ item: WorkItem) -> Logger.Metadata {
            var m: Logger.Metadata = ["series_id": "\(item.source.id)", "folder": "\(item.folder)"]
            if logPHI {
                m["patient_id"] = "\(item.source.identity.patientID ?? "")"
                m["study_instance_uid"] = "\(item.source.identity.studyInstanceUID ?? "")"
            }
            return m
        }

        var groups: [StageGroup] = []
        groups.append(StageGroup(name: "decode", workers: definition.decode.workers, lowPriority: true,
                                 input: decodeQueue, output: preprocessQueue, stats: shared, progress: progress) { item in
            budget.acquire(item.reservation)
            journalAppend(JournalRecord(event: .started, seriesID: item.source.id, folder: item.folder,
                                        inputHash: item.inputHash, pipelineHash: pipelineHash))
            do {
                item.series = try item.source.load()
            } catch {
                item.fail("decode", "\(error)")
                logger.warning("decode failed", metadata: metadata(item).merging(["reason": "\(error)"]) { $1 })
            }
        })
        groups.append(StageGroup(name: "preprocess", workers: definition.preprocess.stage.workers, lowPriority: true,
                                 input: preprocessQueue, output: detectQueue, stats: shared, progress: progress) { item in
            guard item.failedStage == nil, var series = item.series else { return }
            if series.volume.slices < minimumSlices {
                item.fail("preprocess", "\(series.volume.slices) slices, fewer than preprocess.minimum_slices \(minimumSlices)")
                return
            }
            if rejectGaps, let gap = series.warnings.first(where: { $0.lowercased().contains("gap") }) {
                item.fail("preprocess", "slice gap (preprocess.reject_slice_gaps): \(gap)")
                return
            }
            if let clamp = clampHU {
                Preprocess.clamp(&series.volume.voxels, low: Float(clamp[0]), high: Float(clamp[1]))
            }
            item.series = series
        })
        groups.append(StageGroup(name: "detect", workers: definition.detect.stage.workers, lowPriority: false,
                                 input: detectQueue, output: reportQueue, stats: shared, progress: progress) { item in
            guard item.failedStage == nil, let series = item.series else { return }
            let cpu0 = ProcessCPU.seconds(), t0 = monotonicSeconds()
            do {
                item.assessment = try processor.assess(series, kernelWorkers: kernelWorkers)
            } catch {
                item.fail("detect", "\(error)")
                logger.warning("detect failed", metadata: metadata(item).merging(["reason": "\(error)"]) { $1 })
            }
            shared.addDetectCPU(cpu: ProcessCPU.seconds() - cpu0, wall: monotonicSeconds() - t0,
                                voxels: series.volume.voxelCount)
        })
        groups.append(StageGroup(name: "report", workers: definition.report.stage.workers, lowPriority: true,
                                 input: reportQueue, output: nil, stats: shared, progress: progress) { item in
            let outcome = StudyOutcome(seriesID: item.source.id, folder: item.folder, identity: item.source.identity,
                                       sourcePaths: item.source.sourcePaths, series: item.series,
                                       assessment: item.assessment, failedStage: item.failedStage,
                                       failureReason: item.failureReason, timingMS: item.timingMS)
            do {
                try sink.writeStudy(outcome, settings: reportSettings, pipeline: stamp, outputRoot: out)
            } catch {
                // The study's report could not be written: quarantine it with that reason.
                item.fail(item.failedStage ?? "report", item.failureReason ?? "\(error)")
                let failedOutcome = StudyOutcome(seriesID: item.source.id, folder: item.folder,
                                                 identity: item.source.identity, sourcePaths: item.source.sourcePaths,
                                                 series: nil, assessment: nil, failedStage: item.failedStage,
                                                 failureReason: item.failureReason, timingMS: item.timingMS)
                try? sink.writeStudy(failedOutcome, settings: reportSettings, pipeline: stamp, outputRoot: out)
            }
            let slices = item.series?.volume.slices ?? item.source.facts.sliceCount
            let voxels = item.series?.volume.voxelCount ?? 0
            if let stage = item.failedStage {
                journalAppend(JournalRecord(event: .failed, seriesID: item.source.id, folder: item.folder,
                                            inputHash: item.inputHash, pipelineHash: pipelineHash,
                                            stage: stage, reason: item.failureReason))
                shared.addFailure(StudyFailure(seriesID: item.source.id, folder: item.folder, stage: stage,
                                               reason: item.failureReason ?? "unknown"))
                logger.warning("study quarantined", metadata: metadata(item).merging(
                    ["stage": "\(stage)", "reason": "\(item.failureReason ?? "")"]) { $1 })
            } else {
                journalAppend(JournalRecord(event: .finished, seriesID: item.source.id, folder: item.folder,
                                            inputHash: item.inputHash, pipelineHash: pipelineHash))
                shared.addSuccess(voxels: voxels, slices: slices)
                var m = metadata(item)
                m["priority"] = "\(item.assessment?.priority.rawValue ?? "")"
                m["findings"] = "\(item.assessment?.findings.count ?? 0)"
                logger.info("study finished", metadata: m)
            }
            item.series = nil
            item.assessment = nil
            budget.release(item.reservation)
            progress?.studyDone(slices: slices, failed: item.failedStage != nil)
        })

        // Start every stage; each closes its output queue when its last worker ends.
        for group in groups { group.start() }
        for group in groups { group.join() }
        progress?.finish()

        // Worklist over every study this OUT holds (this run and earlier ones).
        let reportStart = monotonicSeconds()
        var worklistError: String?
        do {
            try sink.writeWorklist(settings: reportSettings, outputRoot: out)
        } catch {
            worklistError = "\(error)"
            logger.error("worklist not written", metadata: ["reason": "\(error)"])
        }
        let worklistSeconds = monotonicSeconds() - reportStart

        // Summary.
        let wall = monotonicSeconds() - runStart
        let cpu = ProcessCPU.seconds() - cpuStart
        for group in groups { stats.merge(group) }
        let overlap = shared.overlapSeconds(between: "decode", and: "detect")
        let failures = shared.failures
        var byReason: [String: Int] = [:]
        for f in failures { byReason["\(f.stage): \(RunSummary.reasonClass(f.reason))", default: 0] += 1 }
        let totals = shared.totals
        let detectCPU = shared.detectCPU
        let summary = RunSummary(
            pipeline: stamp, pipelineFile: definition.sourceFile,
            startedAt: ISO8601DateFormatter().string(from: startedAt),
            finishedAt: ISO8601DateFormatter().string(from: Date()),
            wallSeconds: wall,
            studies: .init(discovered: found.series.count, selected: selectedIdx.count, excluded: excluded.count,
                           alreadyDone: alreadyDone.count, processed: work.count,
                           succeeded: totals.succeeded, failed: failures.count),
            studiesPerSecond: wall > 0 ? Double(work.count) / wall : 0,
            voxelsPerSecond: wall > 0 ? Double(totals.voxels) / wall : 0,
            slicesPerSecond: wall > 0 ? Double(totals.slices) / wall : 0,
            stages: stats.summaries(workers: [
                "discover": 1, "decode": definition.decode.workers, "preprocess": definition.preprocess.stage.workers,
                "detect": definition.detect.stage.workers, "report": definition.report.stage.workers,
            ]),
            worklistSeconds: worklistSeconds,
            decodeDetectOverlapSeconds: overlap,
            cpu: .init(cores: options.cores, detectKernelWorkers: kernelWorkers, processCPUSeconds: cpu,
                       utilisationPercent: wall > 0 ? 100 * cpu / wall : 0,
                       duringDetectPercent: detectCPU.wall > 0 ? 100 * detectCPU.cpu / detectCPU.wall : 0),
            memory: .init(budgetBytes: budget.budgetBytes, peakReservedBytes: budget.peakReservedBytes,
                          peakResidentBytes: MachineMemory.peakResidentBytes() ?? 0,
                          oversizedStudies: budget.oversizedStudies, budgetWaitSeconds: budget.waitSeconds),
            failuresByReason: byReason, failures: failures.sorted { $0.folder < $1.folder },
            skippedInputs: found.skipped, excludedSeries: excluded,
            journalError: shared.journalError, worklistError: worklistError)
        let summaryURL = out.appendingPathComponent("run-summary.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(summary), to: summaryURL)
        if let error = shared.journalError { throw PipelineRunError.output(error) }
        return BatchResult(summary: summary, summaryURL: summaryURL, worklistFolder: out)
    }
}

/// HU conditioning of the preprocess stage.
enum Preprocess {
    static func clamp(_ voxels: inout [Float], low: Float, high: Float) {
        voxels.withUnsafeMutableBufferPointer { buffer in
            for i in buffer.indices { buffer[i] = min(max(buffer[i], low), high) }
        }
    }
}

/// Hash of a study's inputs for the resume journal.
public enum InputHash {
    /// `metadata`: SHA-256 over each sorted path with its size and modification time (ns).
    /// `content`: SHA-256 over each sorted path and its bytes.
    public static func compute(paths: [String], mode: String) -> String {
        var h = SHA256()
        for path in paths.sorted() {
            h.update(path)
            h.update([0])
            if mode == "content" {
                if let data = FileManager.default.contents(atPath: path) { h.update(data) } else { h.update("unreadable") }
            } else {
                var st = stat()
                if stat(path, &st) == 0 {
                    h.update("\(st.st_size):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)")
                } else {
                    h.update("missing")
                }
            }
            h.update([0])
        }
        return h.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// CPU time (user + system) of the whole process, all threads.
enum ProcessCPU {
    static func seconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) * 1e-6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) * 1e-6
    }
}
