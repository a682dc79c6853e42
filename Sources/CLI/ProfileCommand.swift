import ArgumentParser
import Foundation
import Kernels
import Logging
import Pipeline
import Profiling

/// `triage profile SERIES`: runs the real pipeline on one series N times with span
/// recording on, and prints where the time goes, per stage and per kernel, against the
/// machine's calibrated limits.
struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Profile the pipeline's stages and kernels on one series.",
        discussion: """
        Runs the pipeline on SERIES (a folder or file holding one image series) --repeat times
        into a temporary output folder, recording a span for every stage and kernel pass, and
        prints per span: median and min wall time, share of the run, voxels/s, GB/s and
        GFLOP/s where countable, and percent of this machine's limits (copy bandwidth and
        cblas_sgemm GFLOP/s from `triage profile --calibrate`, cached per machine).

        Examples:
          triage profile --calibrate
          triage profile sample-scans/dicom/case-001 --repeat 5
          triage profile scans/big-study --trace trace.json --json > profile.json
        """)

    @Argument(help: "A folder or file holding one image series.") var series: String?
    @Option(help: "Pipeline file (default: the built-in chest CT pipeline).") var pipeline: String?
    @Option(name: .customLong("repeat"), help: "How many times to run (median and min are reported).") var repeats = 3
    @Option(help: "Write a Chrome trace-event JSON (Perfetto, chrome://tracing) of the last run.") var trace: String?
    @Flag(help: "Print JSON instead of a table.") var json = false
    @Flag(help: "Measure the machine limits again (and cache them); alone, just print them.") var calibrate = false
    @Option(help: "Cores the run may use (default: all).") var cores: Int?

    func validate() throws {
        if series == nil && !calibrate { throw ValidationError("give a SERIES to profile, or --calibrate") }
        if repeats < 1 { throw ValidationError("--repeat must be at least 1") }
    }

    func run() throws {
        let context = KernelContext(workers: cores ?? ProcessInfo.processInfo.activeProcessorCount)
        let limits = MachineCalibration.cached(context: context, refresh: calibrate)
        guard let series else {
            if json {
                print(String(decoding: try Self.encoder.encode(limits), as: UTF8.self))
            } else {
                print(String(format: "%@, %d workers: copy bandwidth %.1f GB/s, sgemm %.1f GFLOP/s (n=%d), measured %@",
                             limits.machine, limits.workers, limits.copyBandwidthGBs, limits.sgemmGFLOPs,
                             limits.sgemmSize, limits.measuredAt))
            }
            return
        }

        let definition = try pipeline.map { try PipelineDefinition.load(file: URL(fileURLWithPath: $0)) }
            ?? PipelineDefinition.builtInDefault
        var logger = Logger(label: "triage.profile")
        logger.logLevel = .error
        let runner = BatchRunner(definition: definition, catalog: SeriesDiscoveryCatalog(),
                                 processor: DetectorStudyProcessor(configuration: definition.detect.detector),
                                 sink: ReportWriterSink(softwareVersion: TriageVersion.string),
                                 logger: logger, progress: ProgressReporter(mode: .quiet))

        var repeatsSpans: [[SpanRecord]] = []
        var wallSeconds: [Double] = []
        var lastSummary: RunSummary?
        for _ in 0..<repeats {
            let scratch = FileManager.default.temporaryDirectory
                .appendingPathComponent("triage-profile-\(getpid())-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: scratch) }
            var options = BatchOptions(inputs: [URL(fileURLWithPath: series)], outputRoot: scratch)
            options.cores = context.workers
            let collector = SpanCollector()
            Profiler.install(collector)
            let start = Profiler.nowNanoseconds()
            let result = try runner.run(options)
            let end = Profiler.nowNanoseconds()
            Profiler.uninstall(collector)
            guard result.summary.studies.processed == 1 else {
                throw ValidationError("\(series) holds \(result.summary.studies.processed) processable series; "
                                      + "profile takes exactly one (point it at that series' folder)")
            }
            if let failure = result.summary.failures.first {
                throw ValidationError("the series failed in \(failure.stage): \(failure.reason)")
            }
            repeatsSpans.append(collector.spans)
            wallSeconds.append(Double(end - start) * 1e-9)
            lastSummary = result.summary
        }

        let table = SpanTable(repeats: repeatsSpans, totalSeconds: wallSeconds,
                              bandwidthGBs: limits.copyBandwidthGBs, peakGFLOPs: limits.sgemmGFLOPs)
        if let trace, let spans = repeatsSpans.last {
            try ChromeTrace.write(spans: spans, to: URL(fileURLWithPath: trace), processName: "triage profile")
        }
        if json {
            let report = ProfileReport(series: series, repeats: repeats, calibration: limits,
                                       medianWallSeconds: table.medianTotalSeconds, minWallSeconds: table.minTotalSeconds,
                                       rows: table.rows, runSummaryWallSeconds: lastSummary?.wallSeconds)
            print(String(decoding: try Self.encoder.encode(report), as: UTF8.self))
        } else {
            print(String(format: "Limits (%d workers): copy %.1f GB/s, sgemm %.1f GFLOP/s. %d run(s) of %@.",
                         limits.workers, limits.copyBandwidthGBs, limits.sgemmGFLOPs, repeats, series))
            print(table.formatted())
            print("Spans nest: kernel rows are part of the stage.detect row; shares are of the whole run's wall time.")
            if let trace { print("trace: \(trace)") }
        }
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.keyEncodingStrategy = .convertToSnakeCase
        return e
    }()
}

/// `triage profile --json` output.
struct ProfileReport: Codable {
    var schema = "triage.profile.v1"
    var series: String
    var repeats: Int
    var calibration: MachineCalibration
    var medianWallSeconds: Double
    var minWallSeconds: Double
    var rows: [SpanTable.Row]
    /// The pipeline's own wall time of the last run (run-summary.json), for cross-checking.
    var runSummaryWallSeconds: Double?
}
