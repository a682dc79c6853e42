import Foundation
import Profiling
import Dispatch

/// The worker threads of one stage: pop from the input queue, run the stage's body, push
/// to the output queue. The last worker to finish closes the output queue, which lets the
/// next stage drain and stop.
final class StageGroup: @unchecked Sendable {
    let name: String
    let workers: Int
    let lowPriority: Bool
    let input: BoundedQueue<BatchRunner.WorkItem>
    let output: BoundedQueue<BatchRunner.WorkItem>?
    let shared: SharedRunState
    let body: (BatchRunner.WorkItem) -> Void
    let progress: ProgressReporter?
    private let done = DispatchGroup()
    private let lock = NSLock()
    private var running = 0

    init(name: String, workers: Int, lowPriority: Bool, input: BoundedQueue<BatchRunner.WorkItem>,
         output: BoundedQueue<BatchRunner.WorkItem>?, stats: SharedRunState, progress: ProgressReporter?,
         body: @escaping (BatchRunner.WorkItem) -> Void) {
        self.progress = progress
        self.name = name
        self.workers = max(1, workers)
        self.lowPriority = lowPriority
        self.input = input
        self.output = output
        self.shared = stats
        self.body = body
    }

    func start() {
        running = workers
        for index in 0..<workers {
            done.enter()
            let thread = Thread { [self] in
                if lowPriority { Self.lowerPriorityOfCurrentThread() }
                while let item = input.pop() {
                    let start = monotonicSeconds()
                    shared.addQueueWait(stage: name, seconds: start - item.enqueuedAt)
                    progress?.stage(name, entered: true)
                    // One span per study per stage: the stage rows of `triage profile` and trace tracks.
                    Profiler.span("stage.\(name)") { body(item) }
                    progress?.stage(name, entered: false)
                    let end = monotonicSeconds()
                    item.timingMS[name] = (item.timingMS[name] ?? 0) + (end - start) * 1000
                    shared.addInterval(stage: name, start: start, end: end)
                    item.enqueuedAt = monotonicSeconds()
                    output?.push(item)
                }
                lock.lock()
                running -= 1
                let last = running == 0
                lock.unlock()
                if last { output?.close() }
                done.leave()
            }
            thread.name = "triage.\(name).\(index)"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    func join() { done.wait() }

    /// nice +5 for this thread only (Linux applies setpriority to a thread id), so I/O-ish
    /// stages yield the cores to the detect stage's kernels when both want them.
    static func lowerPriorityOfCurrentThread() {
        #if os(Linux)
        // Glibc's gettid() is not imported into Swift; /proc/thread-self links to "PID/task/TID".
        guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self"),
              let tid = id_t(link.split(separator: "/").last ?? "") else { return }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), tid, 5)
        #endif
    }
}

/// Counters the stage workers update from many threads.
final class SharedRunState: @unchecked Sendable {
    private let lock = NSLock()
    private var intervals: [String: [(Double, Double)]] = [:]
    private var queueWait: [String: Double] = [:]
    private(set) var failuresStore: [StudyFailure] = []
    private var succeeded = 0
    private var voxels = 0
    private var slices = 0
    private var detectCPUSeconds = 0.0
    private var detectWallSeconds = 0.0
    private var journalErrorStore: String?

    func addInterval(stage: String, start: Double, end: Double) {
        lock.lock(); intervals[stage, default: []].append((start, end)); lock.unlock()
    }

    func addQueueWait(stage: String, seconds: Double) {
        lock.lock(); queueWait[stage, default: 0] += max(0, seconds); lock.unlock()
    }

    func addFailure(_ f: StudyFailure) { lock.lock(); failuresStore.append(f); lock.unlock() }

    func addSuccess(voxels v: Int, slices s: Int) {
        lock.lock(); succeeded += 1; voxels += v; slices += s; lock.unlock()
    }

    func addDetectCPU(cpu: Double, wall: Double, voxels v: Int) {
        lock.lock(); detectCPUSeconds += cpu; detectWallSeconds += wall; lock.unlock()
    }

    func noteJournalError(_ e: String) { lock.lock(); if journalErrorStore == nil { journalErrorStore = e }; lock.unlock() }

    var journalError: String? { lock.lock(); defer { lock.unlock() }; return journalErrorStore }
    var failures: [StudyFailure] { lock.lock(); defer { lock.unlock() }; return failuresStore }
    var totals: (succeeded: Int, voxels: Int, slices: Int) {
        lock.lock(); defer { lock.unlock() }; return (succeeded, voxels, slices)
    }
    var detectCPU: (cpu: Double, wall: Double) {
        lock.lock(); defer { lock.unlock() }; return (detectCPUSeconds, detectWallSeconds)
    }

    func stageIntervals(_ stage: String) -> [(Double, Double)] {
        lock.lock(); defer { lock.unlock() }; return intervals[stage] ?? []
    }

    func stageQueueWait(_ stage: String) -> Double {
        lock.lock(); defer { lock.unlock() }; return queueWait[stage] ?? 0
    }

    /// Seconds during which both stages were busy (union of a's intervals ∩ union of b's).
    func overlapSeconds(between a: String, and b: String) -> Double {
        let ua = Self.union(stageIntervals(a)), ub = Self.union(stageIntervals(b))
        var total = 0.0
        var i = 0, j = 0
        while i < ua.count && j < ub.count {
            let lo = max(ua[i].0, ub[j].0), hi = min(ua[i].1, ub[j].1)
            if hi > lo { total += hi - lo }
            if ua[i].1 < ub[j].1 { i += 1 } else { j += 1 }
        }
        return total
    }

    static func union(_ intervals: [(Double, Double)]) -> [(Double, Double)] {
        var merged: [(Double, Double)] = []
        for iv in intervals.sorted(by: { $0.0 < $1.0 }) {
            if let last = merged.last, iv.0 <= last.1 {
                merged[merged.count - 1].1 = max(last.1, iv.1)
            } else {
                merged.append(iv)
            }
        }
        return merged
    }
}

/// Per-stage timing gathered for run-summary.json.
struct StageStatsCollector {
    let names: [String]
    private var busy: [String: Double] = [:]
    private var first: [String: Double] = [:]
    private var last: [String: Double] = [:]
    private var items: [String: Int] = [:]
    private var idle: [String: Double] = [:]
    private var blocked: [String: Double] = [:]
    private var queued: [String: Double] = [:]

    init(names: [String]) { self.names = names }

    mutating func record(_ stage: String, busy b: Double, start: Double, end: Double) {
        busy[stage, default: 0] += b
        first[stage] = min(first[stage] ?? start, start)
        last[stage] = max(last[stage] ?? end, end)
        items[stage, default: 0] += 1
    }

    mutating func merge(_ group: StageGroup) {
        for (s, e) in group.shared.stageIntervals(group.name) { record(group.name, busy: e - s, start: s, end: e) }
        idle[group.name] = group.input.waits.pop
        blocked[group.name] = group.output?.waits.push ?? 0
        queued[group.name] = group.shared.stageQueueWait(group.name)
    }

    func summaries(workers: [String: Int]) -> [String: RunSummary.StageSummary] {
        var result: [String: RunSummary.StageSummary] = [:]
        for name in names {
            let wall = (last[name] ?? 0) - (first[name] ?? 0)
            result[name] = RunSummary.StageSummary(
                workers: workers[name] ?? 1, items: items[name] ?? 0, wallSeconds: max(0, wall),
                busySeconds: busy[name] ?? 0, queueWaitSeconds: queued[name] ?? 0,
                idleWaitSeconds: idle[name] ?? 0, blockedOutputSeconds: blocked[name] ?? 0)
        }
        return result
    }
}
