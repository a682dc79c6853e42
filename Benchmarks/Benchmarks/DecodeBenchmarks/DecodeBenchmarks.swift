// Decode suite (ordo-one/benchmark): image series on disk -> HU volume, as the pipeline's decode
// stage does it. Run from Benchmarks/:
//   swift package --allow-writing-to-package-directory benchmark --target DecodeBenchmarks
//
// Input: one generated 512x512x300 phantom study (DICOM series plus 16-bit PNG and 8-bit JPEG
// copies of the same slices; see BenchmarkHarness/PhantomStudyFixture.swift for where it lives
// and the TRIAGE_BENCH_* variables). Files are read from the page cache after the first
// (warm-up) iteration, as with `Benchmarks/compare_dicom_read.py`.
import Benchmark
import BenchmarkHarness
import Foundation
import ImageCodecs
import SeriesInput

/// The series folder a benchmark reads, resolved in its setup (never during registration:
/// ordo-one also runs this executable just to list the benchmarks).
nonisolated(unsafe) var studyUnderTest: PhantomStudy?

func loadStudy() throws {
    studyUnderTest = try PhantomStudyFixture.study()
}

/// Discovery (headers only) plus load of the one series in `folder`.
func readSeries(_ folder: URL) throws -> ImageSeries {
    let discovery = SeriesDiscovery.discover(paths: [folder])
    guard discovery.series.count == 1, let descriptor = discovery.series.first else {
        throw FixtureError("\(folder.path): expected one series, found \(discovery.series.count) "
                           + "(skipped: \(discovery.skipped.prefix(3).map { "\($0.path): \($0.reason)" }))")
    }
    return try descriptor.load()
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .wholeVolume(
        throughput: [ThroughputMetric.megavoxelsPerSecond, ThroughputMetric.megabytesPerSecond], maxIterations: 10)

    /// A whole series folder -> HU volume; throughput per voxel of the volume and per byte of the files.
    func seriesRead(_ name: String, folder: @escaping (PhantomStudy) -> URL?) {
        Benchmark(name, closure: { benchmark in
            guard let study = studyUnderTest, let url = folder(study) else {
                benchmark.error("\(name): no input folder (the study given by TRIAGE_BENCH_PHANTOM lacks it?)")
                return
            }
            let bytes = totalBytes(of: regularFiles(under: url))
            benchmark.startMeasurement()
            let t = try timed { try readSeries(url) }
            benchmark.stopMeasurement()
            let voxels = Double(t.result.volume.voxels.count)
            blackHole(t.result)
            benchmark.record(ThroughputMetric.megavoxelsPerSecond, amount: voxels, seconds: t.seconds, scale: 1e6)
            benchmark.record(ThroughputMetric.megabytesPerSecond, amount: Double(bytes), seconds: t.seconds, scale: 1e6)
        }, setup: { try loadStudy() })
    }

    seriesRead("DICOM series -> HU volume (discover + load)") { $0.dicomFolder }
    seriesRead("PNG 16-bit series -> HU volume (discover + load)") { $0.pngFolder }
    seriesRead("JPEG 8-bit series -> HU volume (discover + load)") { $0.jpegFolder }

    // Header-only discovery of the DICOM series (what `triage run` does for every file before
    // any pixel is decoded).
    Benchmark("DICOM series discovery (headers only)", configuration: .init(
        metrics: [.wallClock, .cpuTotal], units: ThroughputMetric.plainUnits,
        warmupIterations: 1, maxDuration: .seconds(20), maxIterations: 10
    ), closure: { benchmark in
        guard let study = studyUnderTest else { return }
        benchmark.startMeasurement()
        blackHole(SeriesDiscovery.discover(paths: [study.dicomFolder]))
    }, setup: { try loadStudy() })

    // One slice from memory (no file I/O): the codec alone, per slice of the series.
    func sliceDecode(_ name: String, ext: String, folder: @escaping (PhantomStudy) -> URL?,
                     decode: @escaping (Data) throws -> GrayImage) {
        Benchmark(name, configuration: .init(
            metrics: [.wallClock, .cpuTotal, ThroughputMetric.megavoxelsPerSecond, ThroughputMetric.megabytesPerSecond],
            timeUnits: .microseconds, // a JPEG slice takes about 1.3 ms: whole milliseconds would hide it
            units: ThroughputMetric.plainUnits, warmupIterations: 5, maxDuration: .seconds(10), maxIterations: 200
        ), closure: { benchmark in
            guard let study = studyUnderTest, let url = folder(study) else {
                benchmark.error("\(name): no input folder")
                return
            }
            let files = try sliceFiles(in: url, extension: ext)
            guard !files.isEmpty else { throw FixtureError("\(url.path): no .\(ext) slices") }
            let data = try Data(contentsOf: files[files.count / 2])
            benchmark.startMeasurement()
            let t = try timed { try decode(data) }
            benchmark.stopMeasurement()
            blackHole(t.result)
            benchmark.record(ThroughputMetric.megavoxelsPerSecond, amount: Double(t.result.width * t.result.height),
                             seconds: t.seconds, scale: 1e6)
            benchmark.record(ThroughputMetric.megabytesPerSecond, amount: Double(data.count), seconds: t.seconds, scale: 1e6)
        }, setup: { try loadStudy() })
    }

    sliceDecode("PNG 16-bit slice decode 512x512 (libpng, from memory)", ext: "png", folder: { $0.pngFolder }) {
        try PNGCodec.decode(data: $0)
    }
    sliceDecode("JPEG 8-bit slice decode 512x512 (libjpeg-turbo, from memory)", ext: "jpg", folder: { $0.jpegFolder }) {
        try JPEGCodec.decode(data: $0)
    }
}
