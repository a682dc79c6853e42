// Throughput figures recorded next to wall clock. ordo-one's own `.throughput` metric counts
// iterations per second, which rounds to 0 for kernels that take seconds; these custom metrics
// carry the work done per second instead (integers, so units are chosen to keep 3+ digits).
import Benchmark
import Foundation

public enum ThroughputMetric {
    /// Million voxels (of the input volume) per second.
    public static let megavoxelsPerSecond = BenchmarkMetric.custom("Mvoxel/s", polarity: .prefersLarger, useScalingFactor: false)
    /// Million floating-point operations per second (GEMM-based kernels; 1000 = 1 GFLOP/s).
    public static let megaflopsPerSecond = BenchmarkMetric.custom("MFLOP/s", polarity: .prefersLarger, useScalingFactor: false)
    /// Megabytes (10^6) of input files read per second (decode).
    public static let megabytesPerSecond = BenchmarkMetric.custom("MB/s", polarity: .prefersLarger, useScalingFactor: false)

    /// Print custom metrics as plain numbers, not auto-scaled to K/M.
    public static let plainUnits: [BenchmarkMetric: BenchmarkUnits] = [
        megavoxelsPerSecond: .count, megaflopsPerSecond: .count, megabytesPerSecond: .count,
    ]
}

/// Wall time of `body` in seconds, measured inside the benchmark's measured region so the
/// custom throughput metric and ordo-one's wall clock describe the same work.
@inline(__always)
public func timed<T>(_ body: () throws -> T) rethrows -> (result: T, seconds: Double) {
    let t0 = DispatchTime.now().uptimeNanoseconds
    let r = try body()
    return (r, Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
}

extension Benchmark {
    /// Record `amount / seconds / scale` for `metric` (rounded to an integer, as ordo-one stores it).
    public func record(_ metric: BenchmarkMetric, amount: Double, seconds: Double, scale: Double) {
        guard seconds > 0 else { return }
        measurement(metric, Int((amount / seconds / scale).rounded()))
    }
}

extension Benchmark.Configuration {
    /// Settings for benchmarks whose one iteration takes a second or more (whole volumes,
    /// series, studies): wall clock, CPU, peak RSS and `throughput`, one warm-up iteration,
    /// at most `maxIterations` or `maxSeconds`, whichever comes first.
    public static func wholeVolume(throughput: [BenchmarkMetric], maxIterations: Int = 5,
                                   maxSeconds: Int = 30) -> Benchmark.Configuration {
        // Milliseconds: the automatic unit would print a 9.8 s median as "10 (s)".
        .init(metrics: [.wallClock, .cpuTotal, .peakMemoryResident] + throughput,
              timeUnits: .milliseconds,
              units: ThroughputMetric.plainUnits,
              warmupIterations: 1,
              maxDuration: .seconds(maxSeconds),
              maxIterations: maxIterations)
    }
}
