// Full-study suite (ordo-one/benchmark): the pipeline's run on one study folder, as
// `triage run --pipeline pipelines/chest-ct-nightly.yaml STUDY --out OUT` does it: discover ->
// decode -> preprocess -> detect -> report write (findings.json, report.html, key images,
// worklist, run-summary.json). Run from Benchmarks/:
//   swift package --allow-writing-to-package-directory benchmark --target StudyBenchmarks
//
// Input: the generated 512x512x300 phantom study of BenchmarkHarness. Each iteration writes to a
// fresh output folder (the pipeline's resume journal would otherwise skip the finished study),
// removed again outside the measured region.
import Benchmark
import BenchmarkHarness
import Foundation
import Logging
import Pipeline

/// The repository's nightly pipeline file (this file is Benchmarks/Benchmarks/StudyBenchmarks/...).
let nightlyPipeline = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("pipelines/chest-ct-nightly.yaml")

nonisolated(unsafe) var studyFolder: URL?

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .wholeVolume(throughput: [ThroughputMetric.megavoxelsPerSecond], maxSeconds: 60)

    let size = "\(PhantomStudyFixture.size)x\(PhantomStudyFixture.size)x\(PhantomStudyFixture.slices)"
    Benchmark("Full study: triage run (decode -> detect -> report) phantom \(size)", closure: { benchmark in
        guard let input = studyFolder else {
            benchmark.error("no study folder (setup failed)")
            return
        }
        let definition = try PipelineDefinition.load(file: nightlyPipeline)
        let out = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("triage-bench-run-\(getpid())-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let runner = BatchRunner(definition: definition, catalog: SeriesDiscoveryCatalog(),
                                 processor: DetectorStudyProcessor(configuration: definition.detect.detector),
                                 sink: ReportWriterSink(softwareVersion: "benchmark"),
                                 logger: Logger(label: "triage.bench", factory: { _ in SwiftLogNoOpLogHandler() }),
                                 progress: ProgressReporter(mode: .quiet))
        benchmark.startMeasurement()
        let t = try timed { try runner.run(BatchOptions(inputs: [input], outputRoot: out)) }
        benchmark.stopMeasurement()
        let summary = t.result.summary
        guard summary.studies.succeeded == 1, summary.studies.failed == 0 else {
            benchmark.error("expected 1 succeeded study, got \(summary.studies.succeeded) succeeded, \(summary.studies.failed) failed")
            return
        }
        benchmark.record(ThroughputMetric.megavoxelsPerSecond, amount: summary.voxelsPerSecond * summary.wallSeconds,
                         seconds: t.seconds, scale: 1e6)
    }, setup: {
        studyFolder = try PhantomStudyFixture.study().dicomFolder
    })
}
