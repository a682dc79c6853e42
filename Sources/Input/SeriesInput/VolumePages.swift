import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Provides the memory of a freshly allocated volume in 2 MB huge pages while the kernel
/// can hand them out quickly, and falls back to ordinary 4 kB pages when it cannot.
///
/// Why: the first touch of a new 315 MB volume (300 x 512 x 512 floats) is 77k page faults
/// with 4 kB pages, about 40 % of the CPU time of reading a CT series (fault entry, page
/// allocation under the zone lock, memory-cgroup charging, zeroing). As transparent huge
/// pages the same volume is 150 faults and only the zeroing is left.
///
/// The catch (measured on this project's Firecracker VM): memory the guest has returned
/// to the host (free page reporting hands free 2 MB blocks back after about 2 s idle)
/// costs 3-12 ms per huge page to touch again, against about 0.3 ms normally, and a read
/// that met only such pages took 2-3x as long as with 4 kB pages (which the kernel takes
/// from smaller free blocks that are never handed back). So each worker populates the huge
/// pages of the slices it is about to write (`MADV_POPULATE_WRITE`), times each one in
/// thread CPU time (so preemption by other processes does not count), and once slow pages
/// are more than one in ten (after an allowance of two) switches the rest of the volume to
/// 4 kB pages (`MADV_NOHUGEPAGE`). Worst case: a few slow huge pages; usual case (memory
/// recently freed by another process, or never handed back): most of the fault time saved.
///
/// Only an optimisation: when huge pages are disabled or the calls are not supported, the
/// volume is written through ordinary faults as before.
final class VolumePages: @unchecked Sendable {
    static let hugePageBytes = 2 << 20
    /// A huge page slower than this to populate means the kernel is getting the memory
    /// back from the host: 4-10x the 0.2-0.4 ms a 2 MB page takes otherwise.
    static let slowPopulateNanoseconds: UInt64 = 1_500_000
    /// Smaller volumes are not worth the system calls.
    static let minimumBytes = 32 << 20
    /// `TRIAGE_VOLUME_HUGE_PAGES=0` turns huge pages off (to compare, or on a machine where
    /// they misbehave in a way the fallback does not catch).
    static let enabled = ProcessInfo.processInfo.environment["TRIAGE_VOLUME_HUGE_PAGES"] != "0"

    private let base: Int
    private let regionCount: Int
    private let lock = NSLock()
    private var claimed: [Bool]
    private var useHugePages: Bool
    private var slowCount = 0, fastCount = 0
    /// Whether `MADV_POPULATE_WRITE` works here (Linux 5.14 and later).
    private var populateWorks = true
    /// Whether the switch to 4 kB pages happened (for tests and diagnostics).
    private(set) var fellBack = false

    /// `bytes` at `start`: the whole volume buffer (any alignment; only the 2 MB-aligned
    /// part inside it is advised).
    init(start: UnsafeMutableRawPointer?, bytes: Int) {
        let address = Int(bitPattern: start)
        let lo = (address + Self.hugePageBytes - 1) & ~(Self.hugePageBytes - 1)
        let hi = (address + bytes) & ~(Self.hugePageBytes - 1)
        base = lo
        let usable = Self.enabled && start != nil && bytes >= Self.minimumBytes && hi > lo
        regionCount = usable ? (hi - lo) / Self.hugePageBytes : 0
        claimed = [Bool](repeating: false, count: regionCount)
        #if os(Linux)
        useHugePages = regionCount > 0
            && madvise(UnsafeMutableRawPointer(bitPattern: lo), regionCount * Self.hugePageBytes, MADV_HUGEPAGE) == 0
        #else
        useHugePages = false  // transparent huge pages are a Linux feature
        #endif
    }

    /// Populates the huge pages that hold `start ..< start + bytes` and that no worker has
    /// claimed yet (after a switch to 4 kB pages: the range's 4 kB pages). Call before
    /// writing that range.
    func prepare(start: UnsafeMutableRawPointer, bytes: Int) {
        guard regionCount > 0 else { return }
        let offset = Int(bitPattern: start) - base
        guard offset + bytes > 0 else { return }
        let first = max(0, offset / Self.hugePageBytes)
        let last = min(regionCount - 1, (offset + bytes - 1) / Self.hugePageBytes)
        guard first <= last else { return }
        populateHuge(first...last)
        lock.lock()
        let small = fellBack && populateWorks
        lock.unlock()
        if small {
            // After the switch: the range's 4 kB pages in one call rather than one page
            // fault (exception entry and exit, VMA lookup) per 4 kB page as it is written.
            // The first and last page may be shared with the neighbouring slices: populating
            // a present page does nothing, and the call never changes memory contents.
            let pageBytes = 4096
            let lo = Int(bitPattern: start) & ~(pageBytes - 1)
            let hi = (Int(bitPattern: start) + bytes + pageBytes - 1) & ~(pageBytes - 1)
            _ = Self.populateForWriting(UnsafeMutableRawPointer(bitPattern: lo), hi - lo)
        }
    }

    private func populateHuge(_ regions: ClosedRange<Int>) {
        for region in regions {
            lock.lock()
            let mine = useHugePages && !claimed[region]
            if mine { claimed[region] = true }
            lock.unlock()
            guard mine else { continue }
            let page = UnsafeMutableRawPointer(bitPattern: base + region * Self.hugePageBytes)
            let t0 = Self.threadCPUNanoseconds()
            // MADV_POPULATE_WRITE (Linux 5.14): fault the range in for writing in one call.
            guard Self.populateForWriting(page, Self.hugePageBytes) else {
                // Not supported: leave everything to ordinary faults.
                lock.lock()
                populateWorks = false
                lock.unlock()
                switchToSmallPages()
                return
            }
            let elapsed = Self.threadCPUNanoseconds() &- t0
            if record(slow: elapsed > Self.slowPopulateNanoseconds) { return }
        }
    }

    /// Counts a populated huge page; true when huge pages are no longer worth it. A slow
    /// page costs about as much as the time ten fast ones save over 4 kB faults, so the
    /// switch comes once slow pages pass one in ten (after a start allowance of two, so
    /// one unlucky page - a compaction, an interrupt - does not decide).
    private func record(slow: Bool) -> Bool {
        lock.lock()
        if slow { slowCount += 1 } else { fastCount += 1 }
        let giveUp = slowCount > 2 + fastCount / 10
        lock.unlock()
        if giveUp { switchToSmallPages() }
        return giveUp
    }

    private func switchToSmallPages() {
        lock.lock()
        defer { lock.unlock() }
        guard useHugePages else { return }
        useHugePages = false
        fellBack = true
        // Pages already populated stay huge; the rest fault in as 4 kB pages.
        #if os(Linux)
        _ = madvise(UnsafeMutableRawPointer(bitPattern: base), regionCount * Self.hugePageBytes, MADV_NOHUGEPAGE)
        #endif
    }

    private static func populateForWriting(_ page: UnsafeMutableRawPointer?, _ bytes: Int) -> Bool {
        #if os(Linux)
        let madvPopulateWrite: Int32 = 23
        return madvise(page, bytes, madvPopulateWrite) == 0
        #else
        return false
        #endif
    }

    /// CPU time of the calling thread: a worker preempted by another process is not
    /// mistaken for a slow page (time the host takes to supply the page does count).
    private static func threadCPUNanoseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }
}
