// Detection suite (ordo-one/benchmark): `NoduleDetector.assess` on one decoded 512x512x300
// phantom volume (lung mask, resampling to the working grid, multi-scale dot filter, candidates,
// segmentation, measurement, scoring) - issue #5 aims for under 5 s on this 2-core machine.
// Run from Benchmarks/:
//   swift package --allow-writing-to-package-directory benchmark --target DetectionBenchmarks
//
// Input: the generated phantom study of BenchmarkHarness (evaluation seed 9000, case with
// nodules), decoded once in setup; detector settings are the defaults (as `triage detect`).
import Benchmark
import BenchmarkHarness
import Detection
import Foundation
import SeriesInput

nonisolated(unsafe) var seriesUnderTest: ImageSeries?

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .wholeVolume(throughput: [ThroughputMetric.megavoxelsPerSecond], maxSeconds: 60)

    let detector = NoduleDetector(configuration: DetectorConfiguration())

    let size = "\(PhantomStudyFixture.size)x\(PhantomStudyFixture.size)x\(PhantomStudyFixture.slices)"
    Benchmark("NoduleDetector.assess phantom volume \(size)", closure: { benchmark in
        guard let series = seriesUnderTest else {
            benchmark.error("no decoded series (setup failed)")
            return
        }
        benchmark.startMeasurement()
        let t = try timed { try detector.assess(series) }
        benchmark.stopMeasurement()
        blackHole(t.result)
        benchmark.record(ThroughputMetric.megavoxelsPerSecond, amount: Double(series.volume.voxels.count),
                         seconds: t.seconds, scale: 1e6)
    }, setup: {
        let study = try PhantomStudyFixture.study()
        let discovery = SeriesDiscovery.discover(paths: [study.dicomFolder])
        guard let descriptor = discovery.series.first else {
            throw FixtureError("\(study.dicomFolder.path): no series found")
        }
        let series = try descriptor.load()
        let v = series.volume
        FileHandle.standardError.write(Data("benchmark setup: detection input \(v.columns)x\(v.rows)x\(v.slices), spacing \(v.spacing)\n".utf8))
        seriesUnderTest = series
    }, teardown: {
        seriesUnderTest = nil
    })
}
