import COpenBLAS
import Foundation

/// The machine limits kernel figures are compared against ("Gaussian at 62% of memory
/// bandwidth" is a statement about this calibration):
/// - copy bandwidth: bytes read + written per second by a parallel `memcpy` of a buffer far
///   larger than the caches, with the context's workers;
/// - sgemm rate: `cblas_sgemm` GFLOP/s on square matrices with the context's OpenBLAS threads.
///
/// Each figure is the best of several trials (a limit, not a typical value). Results are
/// cached per machine and worker count in `~/.cache/triage/calibration.json`
/// (`$TRIAGE_CACHE_DIR` overrides the folder).
public struct MachineCalibration: Codable, Sendable, Equatable {
    /// Host name and CPU model the figures were measured on.
    public var machine: String
    public var workers: Int
    /// Bytes read plus bytes written per second, in GB/s (1e9 bytes).
    public var copyBandwidthGBs: Double
    /// `cblas_sgemm` GFLOP/s (2*M*N*K / s).
    public var sgemmGFLOPs: Double
    /// Matrix side used for the sgemm figure.
    public var sgemmSize: Int
    /// ISO 8601 time of measurement.
    public var measuredAt: String

    /// Measures the limits now (takes about 1-3 s).
    public static func measure(context: KernelContext = .default) -> MachineCalibration {
        let bandwidth = measureCopyBandwidth(context: context)
        let (gflops, size) = measureSGEMM(context: context)
        return MachineCalibration(machine: machineKey(), workers: context.workers,
                                  copyBandwidthGBs: bandwidth, sgemmGFLOPs: gflops, sgemmSize: size,
                                  measuredAt: ISO8601DateFormatter().string(from: Date()))
    }

    /// The cached calibration for this machine and worker count, measuring (and caching) it
    /// when absent or when `refresh` is true.
    public static func cached(context: KernelContext = .default, refresh: Bool = false) -> MachineCalibration {
        let url = cacheURL()
        var all: [MachineCalibration] = []
        if let data = try? Data(contentsOf: url),
           let decoded = try? JSONDecoder().decode([MachineCalibration].self, from: data) {
            all = decoded
        }
        let key = machineKey()
        if !refresh, let hit = all.first(where: { $0.machine == key && $0.workers == context.workers }) {
            return hit
        }
        let fresh = measure(context: context)
        all.removeAll { $0.machine == key && $0.workers == context.workers }
        all.append(fresh)
        if let data = try? JSONEncoder().encode(all) {
            try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(),
                                                     withIntermediateDirectories: true)
            let temporary = url.deletingLastPathComponent().appendingPathComponent(".calibration.\(getpid()).tmp")
            if (try? data.write(to: temporary)) != nil, rename(temporary.path, url.path) != 0 {
                try? FileManager.default.removeItem(at: temporary)
            }
        }
        return fresh
    }

    static func cacheURL() -> URL {
        if let dir = ProcessInfo.processInfo.environment["TRIAGE_CACHE_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir).appendingPathComponent("calibration.json")
        }
        return FileManager.default.homeDirectoryForCurrentUser
            .appendingPathComponent(".cache/triage/calibration.json")
    }

    /// "hostname / CPU model".
    static func machineKey() -> String {
        let host = ProcessInfo.processInfo.hostName
        var model = "unknown CPU"
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let colon = line.firstIndex(of: ":") {
            model = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return "\(host) / \(model)"
    }

    /// Parallel memcpy of 256 MiB per trial, each worker copying its own contiguous part.
    static func measureCopyBandwidth(context: KernelContext, trials: Int = 5) -> Double {
        let bytes = 256 << 20
        let source = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        let destination = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { source.deallocate(); destination.deallocate() }
        memset(source, 1, bytes)
        memset(destination, 0, bytes)   // fault the pages in before timing
        var best = 0.0
        for _ in 0..<trials {
            let start = DispatchTime.now().uptimeNanoseconds
            context.parallelRanges(bytes / 4096) { _, pages in
                memcpy(destination + pages.lowerBound * 4096, source + pages.lowerBound * 4096, pages.count * 4096)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            best = max(best, Double(2 * bytes) / seconds / 1e9)
        }
        return best
    }

    /// Square sgemm, large enough to reach the BLAS's steady-state rate.
    static func measureSGEMM(context: KernelContext, size n: Int = 1536, trials: Int = 4) -> (Double, Int) {
        var a = [Float](repeating: 0, count: n * n)
        var b = [Float](repeating: 0, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        for i in 0..<(n * n) {
            a[i] = Float(i % 7) * 0.25
            b[i] = Float(i % 5) * 0.5
        }
        var best = 0.0
        context.withBLASThreads(context.workers) {
            for _ in 0..<trials {
                let start = DispatchTime.now().uptimeNanoseconds
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n),
                            1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
                best = max(best, 2 * Double(n) * Double(n) * Double(n) / seconds / 1e9)
            }
        }
        KernelContext.stopIdleBLASThreads()   // their busy-wait would slow what is measured next
        return (best, n)
    }
}
