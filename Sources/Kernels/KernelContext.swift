import Foundation
import Dispatch
import COpenBLAS

/// How many threads a kernel may use, and the rule that keeps Dispatch workers and
/// OpenBLAS threads from oversubscribing the cores.
///
/// Policy (one rule, applied by every kernel):
/// - Plain kernels (Gaussian, Hessian, LoG, im2col) split their work into slabs and run
///   them with `DispatchQueue.concurrentPerform` on `workers` workers.
/// - A GEMM issued from a single thread (outside `concurrentPerform`) runs with
///   `workers` OpenBLAS threads (`KernelContext.withBLASThreads(workers)`), so it uses the
///   same cores the Dispatch workers would.
/// - A GEMM issued from inside `concurrentPerform` must run with 1 OpenBLAS thread
///   (`withBLASThreads(1)` around the whole parallel region), so workers x BLAS threads
///   never exceeds `workers`.
/// - `openblas_set_num_threads` is process-wide, so `withBLASThreads` holds a process lock for
///   the duration of its body: two GEMM sections never race on the setting.
///
/// The pipeline can give each concurrent stage its own context (e.g. `workers: 1` per
/// study when two studies run side by side on two cores).
public struct KernelContext: Sendable, Equatable {
    /// Number of Dispatch workers (and OpenBLAS threads for single-thread GEMMs). >= 1.
    public var workers: Int

    /// `workers` defaults to the number of active cores.
    public init(workers: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.workers = Swift.max(1, workers)
    }

    /// One worker per active core.
    public static var `default`: KernelContext { KernelContext() }
    /// Everything on the calling thread.
    public static let serial = KernelContext(workers: 1)

    /// Run `body(i)` for `i in 0..<count`, spread over the workers. Items are handed out in
    /// contiguous chunks of about `count / (4 * workers)` so workers stay balanced.
    @inlinable
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if workers == 1 || count == 1 {
            for i in 0..<count { body(i) }
            return
        }
        let chunks = Swift.min(count, workers * 4)
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let lo = chunk * count / chunks
                let hi = (chunk + 1) * count / chunks
                for i in lo..<hi { body(i) }
            }
        }
    }

    /// Run `body(worker, range)` over `count` items split into at most `workers` contiguous
    /// ranges; `worker` indexes per-worker scratch buffers.
    @inlinable
    public func parallelRanges(_ count: Int, _ body: (Int, Range<Int>) -> Void) {
        if count <= 0 { return }
        let parts = Swift.min(count, workers)
        if parts == 1 { body(0, 0..<count); return }
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                body(p, (p * count / parts)..<((p + 1) * count / parts))
            }
        }
    }

    /// Run `body` with OpenBLAS using `threads` threads, serialised with every other
    /// `withBLASThreads` section in the process (see the type's policy).
    public func withBLASThreads<T>(_ threads: Int, _ body: () throws -> T) rethrows -> T {
        BLASThreadGate.lock.lock()
        defer { BLASThreadGate.lock.unlock() }
        let wanted = Int32(Swift.max(1, threads))
        if BLASThreadGate.current != wanted {
            openblas_set_num_threads(wanted)
            BLASThreadGate.current = wanted
        }
        return try body()
    }
}

extension KernelContext {
    /// Stops OpenBLAS's worker threads until the next threaded BLAS call restarts them.
    ///
    /// Why: OpenBLAS starts its threads when the library loads, before `main`, and an idle
    /// thread busy-waits with `sched_yield` for about 2^28 cycles (THREAD_TIMEOUT) before
    /// it sleeps: ~70 ms of CPU in every process, on a 2-core machine a core taken from
    /// the Dispatch workers while `triage` starts and reads a series. Called at process start
    /// and after threaded GEMMs (whose threads spin the same way afterwards); the next GEMM
    /// starts the threads again (OpenBLAS re-initialises its pool lazily).
    public static func stopIdleBLASThreads() {
        BLASThreadGate.lock.lock()
        defer { BLASThreadGate.lock.unlock() }
        _ = blas_thread_shutdown_()
    }
}

@usableFromInline
enum BLASThreadGate {
    static let lock = NSLock()
    nonisolated(unsafe) static var current: Int32 = -1
}
