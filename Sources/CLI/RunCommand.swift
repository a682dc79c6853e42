import ArgumentParser
import Foundation
import Logging
import Pipeline
import SeriesInput

/// `triage run`: the nightly batch.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline over every series under the inputs (or a queue) and write reports to --out.",
        discussion: """
        Stages: discover -> decode -> preprocess -> detect -> report, each on its own workers with \
        bounded queues. Writes OUT/studies/<folder>/, OUT/worklist.{html,csv,json}, \
        OUT/run-summary.json and the resume journal OUT/journal.jsonl; rerunning skips studies \
        already finished with the same inputs and pipeline.
        Exit codes: 0 all studies succeeded, 3 some studies failed (quarantined, listed in the \
        worklist), 2 configuration error (nothing ran), 1 unexpected error. docs/operations.md.
        """)

    @Option(name: .long, help: "Pipeline file (default: built-in defaults; see pipelines/chest-ct-nightly.yaml).")
    var pipeline: String?

    @Argument(help: "Input files or folders (DICOM, PNG/JPEG slice folders).")
    var inputs: [String] = []

    @Option(name: .long, help: "Output folder.")
    var out: String

    @Option(name: .long, help: "Drain this queue folder (jobs written by `triage enqueue`).")
    var queue: String?

    @Flag(name: .long, help: "No progress output; log warnings and errors only.")
    var quiet = false

    @Option(name: .long, help: "Log format on stderr: text or json.")
    var logFormat: String = "text"

    @Flag(name: .long, help: "Allow patient identifiers (Patient ID, Study Instance UID) in log lines.")
    var logPHI = false

    @Option(name: .long, help: "Seconds between plain progress lines when stderr is not a terminal.")
    var progressInterval: Double = 10

    @Option(name: .long, help: "Cores shared by stage and kernel workers (default: all active cores).")
    var cores: Int?

    func validate() throws {
        guard ["text", "json"].contains(logFormat) else { throw ValidationError("--log-format must be text or json") }
        guard queue != nil || !inputs.isEmpty else { throw ValidationError("give INPUT paths or --queue QUEUE_DIR") }
        guard progressInterval > 0 else { throw ValidationError("--progress-interval must be positive") }
        if let cores { guard cores >= 1 && cores <= 1024 else { throw ValidationError("--cores must be 1...1024") } }
    }

    func run() throws {
        let json = logFormat == "json"
        let level: Logger.Level = quiet ? .warning : .info
        LoggingSystem.bootstrap { label in
            var handler: LogHandler = json ? JSONLogHandler(label: label) : PlainLogHandler()
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "triage.run")

        func fail(_ code: Int32, _ message: String) -> ExitCode {
            logger.error("\(message)")
            return ExitCode(code)
        }

        let definition: PipelineDefinition
        do {
            definition = try pipeline.map { try PipelineDefinition.load(file: URL(fileURLWithPath: $0)) }
                ?? PipelineDefinition.builtInDefault
        } catch let error as PipelineConfigurationError {
            throw fail(BatchExitCode.configuration, "\(error)")
        }

        var inputURLs = inputs.map { URL(fileURLWithPath: $0) }
        var extraSkipped: [SkippedInput] = []
        var claimed: [JobQueue.ClaimedJob] = []
        var jobQueue: JobQueue?
        if let queue {
            let q = JobQueue(root: URL(fileURLWithPath: queue))
            guard FileManager.default.fileExists(atPath: q.root.path) else {
                throw fail(BatchExitCode.configuration, "queue folder \(queue) does not exist")
            }
            claimed = try q.claimAll()
            jobQueue = q
            for job in claimed {
                for path in job.job.inputs {
                    if FileManager.default.fileExists(atPath: path) {
                        inputURLs.append(URL(fileURLWithPath: path))
                    } else {
                        extraSkipped.append(SkippedInput(path: path, reason: "queued input no longer exists (job \(job.name))"))
                    }
                }
            }
            logger.info("claimed queue jobs", metadata: ["jobs": "\(claimed.count)"])
            if claimed.isEmpty && inputs.isEmpty {
                logger.info("queue is empty; nothing to do")
                return
            }
        }

        var options = BatchOptions(inputs: inputURLs, outputRoot: URL(fileURLWithPath: out))
        options.logPHI = logPHI
        options.extraSkipped = extraSkipped
        if let cores { options.cores = cores }

        let progress = ProgressReporter(mode: quiet ? .quiet : nil, plainInterval: progressInterval)
        let runner = BatchRunner(definition: definition, catalog: SeriesDiscoveryCatalog(),
                                 processor: DetectorStudyProcessor(configuration: definition.detect.detector),
                                 sink: ReportWriterSink(softwareVersion: TriageVersion.string),
                                 logger: logger, progress: progress)
        let result: BatchResult
        do {
            result = try runner.run(options)
        } catch let error as PipelineRunError {
            // Claimed jobs go back to pending on the next drain (their claimer is gone) only if
            // this process ends; return them now so a fixed configuration can run them.
            for job in claimed { jobQueue?.release(job) }
            if case .configuration = error { throw fail(BatchExitCode.configuration, "\(error)") }
            throw fail(BatchExitCode.internalError, "\(error)")
        }
        for job in claimed { jobQueue?.complete(job, someFailed: result.failedCount > 0) }

        let s = result.summary
        if !quiet {
            let line = "\(s.studies.succeeded) succeeded, \(s.studies.failed) failed, \(s.studies.alreadyDone) already done, "
                + "\(s.skippedInputs.count) inputs skipped, \(s.studies.excluded) series excluded in "
                + String(format: "%.1f s", s.wallSeconds)
            FileHandle.standardError.write(Data("\(line)\nworklist: \(result.worklistFolder.appendingPathComponent("worklist.html").path)\nsummary: \(result.summaryURL.path)\n".utf8))
        }
        if result.failedCount > 0 { throw ExitCode(BatchExitCode.studiesFailed) }
    }
}
