/// Profiling: named spans per worker thread with voxel/byte/FLOP counters, so a caller
/// (`triage profile`, benchmarks) can see where kernel time goes and compare it with the
/// machine's limits. Sits below the kernels so they can record spans cheaply.
///
/// Usage:
/// ```swift
/// let collector = SpanCollector()
/// Profiler.install(collector)          // spans are recorded from now on
/// defer { Profiler.uninstall(collector) }
/// Profiler.span("gaussian.z", voxels: n, bytesMoved: 8 * n, flops: 17 * 2 * n) { ... }
/// let spans = collector.spans          // [SpanRecord], with thread ids for trace tracks
/// ```
/// When no recorder is installed a span costs one atomic-free flag read plus the call
/// to the body (no clock reads, no allocation).
import Foundation

/// One finished span: a named piece of work, its wall time and what it moved/computed.
public struct SpanRecord: Sendable, Equatable, Codable {
    /// Dotted name, e.g. `"gaussian.z"`, `"hessian.eigen"`, `"conv3d.gemm"`.
    public var name: String
    /// Monotonic start time in nanoseconds (same clock as `Profiler.nowNanoseconds()`).
    public var startNanoseconds: UInt64
    /// Monotonic end time in nanoseconds.
    public var endNanoseconds: UInt64
    /// Small stable id of the thread that ran the span (for one trace track per thread).
    public var threadID: Int
    /// Voxels processed (0 when not meaningful).
    public var voxels: Int
    /// Bytes read plus bytes written from/to memory by the pass (a lower bound: each
    /// input and output element counted once).
    public var bytesMoved: Int
    /// Floating-point operations (a multiply-add counts as 2).
    public var flops: Int

    public init(name: String, startNanoseconds: UInt64, endNanoseconds: UInt64, threadID: Int,
                voxels: Int = 0, bytesMoved: Int = 0, flops: Int = 0) {
        self.name = name
        self.startNanoseconds = startNanoseconds
        self.endNanoseconds = endNanoseconds
        self.threadID = threadID
        self.voxels = voxels
        self.bytesMoved = bytesMoved
        self.flops = flops
    }

    /// Wall time of the span in seconds.
    public var seconds: Double { Double(endNanoseconds &- startNanoseconds) * 1e-9 }
}

/// Receives finished spans. Called from any thread, so implementations must be thread-safe.
public protocol ProfileRecorder: AnyObject, Sendable {
    func record(_ span: SpanRecord)
}

/// A thread-safe recorder that keeps every span in memory.
public final class SpanCollector: ProfileRecorder, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [SpanRecord] = []

    public init() {}

    public func record(_ span: SpanRecord) {
        lock.lock(); stored.append(span); lock.unlock()
    }

    /// All spans recorded so far, in completion order.
    public var spans: [SpanRecord] {
        lock.lock(); defer { lock.unlock() }
        return stored
    }

    /// Forget recorded spans.
    public func reset() {
        lock.lock(); stored.removeAll(); lock.unlock()
    }
}

/// The process-wide span entry point. Install a recorder to turn recording on.
public enum Profiler {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var installed: [ProfileRecorder] = []
    /// Plain flag read on the fast path; written only under `lock`. A racy read can at worst
    /// miss or take the slow path for a span that starts exactly while (un)installing.
    nonisolated(unsafe) private static var isEnabled = false

    /// Add `recorder` as a destination for all spans. Several recorders may be installed at
    /// once (each gets every span), so independent callers (tests, a profile run) do not
    /// interfere.
    public static func install(_ recorder: ProfileRecorder) {
        lock.lock(); installed.append(recorder); isEnabled = true; lock.unlock()
    }

    /// Remove `recorder`.
    public static func uninstall(_ recorder: ProfileRecorder) {
        lock.lock()
        installed.removeAll { $0 === recorder }
        isEnabled = !installed.isEmpty
        lock.unlock()
    }

    /// The installed recorders.
    public static var recorders: [ProfileRecorder] {
        lock.lock(); defer { lock.unlock() }
        return installed
    }

    /// Whether spans are currently recorded (cheap).
    @inline(__always) public static var isRecording: Bool { isEnabled }

    /// Run `body` as a named span; records wall time and the given counters when a recorder
    /// is installed, otherwise just runs `body`.
    @inline(__always)
    public static func span<T>(_ name: @autoclosure () -> String, voxels: Int = 0, bytesMoved: Int = 0,
                               flops: Int = 0, _ body: () throws -> T) rethrows -> T {
        guard isEnabled else { return try body() }
        return try recordedSpan(name(), voxels: voxels, bytesMoved: bytesMoved, flops: flops, body)
    }

    @usableFromInline
    static func recordedSpan<T>(_ name: String, voxels: Int, bytesMoved: Int, flops: Int,
                                _ body: () throws -> T) rethrows -> T {
        let start = nowNanoseconds()
        defer {
            let end = nowNanoseconds()
            let targets = recorders
            if !targets.isEmpty {
                let record = SpanRecord(name: name, startNanoseconds: start, endNanoseconds: end,
                                        threadID: currentThreadID(), voxels: voxels,
                                        bytesMoved: bytesMoved, flops: flops)
                for target in targets { target.record(record) }
            }
        }
        return try body()
    }

    /// Monotonic clock in nanoseconds.
    public static func nowNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    private static let threadIDLock = NSLock()
    nonisolated(unsafe) private static var nextThreadID = 0
    private static let threadIDKey: String = "triage.profiling.threadID"

    /// A small integer id for the calling thread, stable for the thread's lifetime
    /// (1 for the first thread that records a span, 2 for the next, ...).
    public static func currentThreadID() -> Int {
        if let id = Thread.current.threadDictionary[threadIDKey] as? Int { return id }
        threadIDLock.lock()
        nextThreadID += 1
        let id = nextThreadID
        threadIDLock.unlock()
        Thread.current.threadDictionary[threadIDKey] = id
        return id
    }
}
