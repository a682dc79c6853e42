import Foundation

/// Batch progress on stderr. On a terminal: a live bar redrawn in place (studies done/total,
/// current stage, slices/s, ETA). Otherwise (logs, cron mail): a plain line every
/// `plainInterval` seconds and one at the end. Never prints patient identifiers.
public final class ProgressReporter: @unchecked Sendable {
    public enum Mode: Sendable { case bar, plain, quiet }

    private let mode: Mode
    private let plainInterval: Double
    private let lock = NSLock()
    private var total = 0
    private var totalSlices = 0
    private var done = 0
    private var failed = 0
    private var slicesDone = 0
    private var stage = "discover"
    /// Studies currently inside each stage's body.
    private var inStage: [String: Int] = [:]
    private var startTime = monotonicSeconds()
    private var lastPlain = 0.0
    private var timer: DispatchSourceTimer?
    private let write: @Sendable (String) -> Void

    /// `mode` nil picks `.bar` when stderr is a terminal, else `.plain`.
    public init(mode: Mode? = nil, plainInterval: Double = 10,
                write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.mode = mode ?? (isatty(STDERR_FILENO) == 1 ? .bar : .plain)
        self.plainInterval = plainInterval
        self.write = write
    }

    func begin(total: Int, totalSlices: Int) {
        lock.lock()
        self.total = total
        self.totalSlices = totalSlices
        startTime = monotonicSeconds()
        lastPlain = startTime
        lock.unlock()
        guard mode != .quiet else { return }
        let t = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
        t.schedule(deadline: .now() + 0.25, repeating: mode == .bar ? 0.25 : 1.0)
        t.setEventHandler { [weak self] in self?.tick() }
        t.resume()
        timer = t
    }

    func setStage(_ name: String) {
        lock.lock(); stage = name; lock.unlock()
    }

    /// A study entered (`true`) or left a stage's worker.
    func stage(_ name: String, entered: Bool) {
        lock.lock(); inStage[name, default: 0] += entered ? 1 : -1; lock.unlock()
    }

    /// "detect" or, when several stages are busy, e.g. "detect+decode" (furthest first).
    private var currentStages: String {
        let busy = ["report", "detect", "preprocess", "decode"].filter { (inStage[$0] ?? 0) > 0 }
        return busy.isEmpty ? stage : busy.joined(separator: "+")
    }

    func studyDone(slices: Int, failed studyFailed: Bool) {
        lock.lock()
        done += 1
        slicesDone += slices
        if studyFailed { failed += 1 }
        lock.unlock()
    }

    func finish() {
        timer?.cancel()
        timer = nil
        guard mode != .quiet else { return }
        let line = status()
        write(mode == .bar ? "\r\u{1B}[2K\(line)\n" : "\(line)\n")
    }

    private func tick() {
        switch mode {
        case .quiet: return
        case .bar: write("\r\u{1B}[2K\(status(bar: true))")
        case .plain:
            let now = monotonicSeconds()
            lock.lock()
            let due = now - lastPlain >= plainInterval
            if due { lastPlain = now }
            lock.unlock()
            if due { write("\(status())\n") }
        }
    }

    /// "12/40 studies (1 failed) | detect | 85.3 slices/s | ETA 4m12s"
    func status(bar: Bool = false) -> String {
        lock.lock(); defer { lock.unlock() }
        let elapsed = max(1e-6, monotonicSeconds() - startTime)
        let rate = Double(slicesDone) / elapsed
        var eta = "--"
        if slicesDone > 0 && totalSlices > slicesDone {
            eta = Self.duration(Double(totalSlices - slicesDone) / max(rate, 1e-9))
        } else if done == total {
            eta = "0s"
        }
        var text = "\(done)/\(total) studies"
        if failed > 0 { text += " (\(failed) failed)" }
        text += " | \(done == total ? "done" : currentStages) | \(String(format: "%.1f", rate)) slices/s | ETA \(eta)"
        if bar {
            let width = 24
            let filled = total > 0 ? width * done / total : width
            text = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] " + text
        }
        return text
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return "\(s / 3600)h\((s % 3600) / 60)m" }
        if s >= 60 { return "\(s / 60)m\(s % 60)s" }
        return "\(s)s"
    }
}
