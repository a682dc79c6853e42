import Foundation

/// Chrome trace-event JSON ("JSON Object Format" of the Trace Event Format, as read by
/// Perfetto and chrome://tracing): one complete event (`"ph": "X"`) per span, one track
/// (`tid`) per worker thread, named by metadata events.
public enum ChromeTrace {
    /// Encodes `spans` as a trace document. Times are microseconds relative to the
    /// earliest span, so traces from different runs line up at zero.
    /// - Parameters:
    ///   - threadNames: optional display names per thread id (default "worker N").
    ///   - processName: the name shown for the single process track group.
    public static func document(spans: [SpanRecord], processName: String = "triage",
                                threadNames: [Int: String] = [:]) -> [String: Any] {
        let origin = spans.map(\.startNanoseconds).min() ?? 0
        var events: [[String: Any]] = []
        events.append(["name": "process_name", "ph": "M", "pid": 1, "tid": 0, "args": ["name": processName]])
        for tid in Set(spans.map(\.threadID)).sorted() {
            events.append(["name": "thread_name", "ph": "M", "pid": 1, "tid": tid,
                           "args": ["name": threadNames[tid] ?? "worker \(tid)"]])
        }
        for span in spans.sorted(by: { ($0.startNanoseconds, $0.threadID) < ($1.startNanoseconds, $1.threadID) }) {
            var args: [String: Any] = [:]
            if span.voxels > 0 { args["voxels"] = span.voxels }
            if span.bytesMoved > 0 { args["bytes_moved"] = span.bytesMoved }
            if span.flops > 0 { args["flops"] = span.flops }
            events.append([
                "name": span.name,
                "cat": category(of: span.name),
                "ph": "X",
                "pid": 1,
                "tid": span.threadID,
                "ts": Double(span.startNanoseconds &- origin) / 1000,
                "dur": Double(span.endNanoseconds &- span.startNanoseconds) / 1000,
                "args": args,
            ])
        }
        return ["traceEvents": events, "displayTimeUnit": "ms"]
    }

    /// Writes the trace to `url` (temporary name, then rename).
    public static func write(spans: [SpanRecord], to url: URL, processName: String = "triage",
                             threadNames: [Int: String] = [:]) throws {
        let data = try JSONSerialization.data(withJSONObject: document(spans: spans, processName: processName,
                                                                       threadNames: threadNames),
                                              options: [.sortedKeys])
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        try data.write(to: temporary)
        // rename(2) replaces atomically, also when `url` does not exist yet.
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path,
                                                           NSLocalizedDescriptionKey: "cannot write \(url.path): \(reason)"])
        }
    }

    /// "stage" for pipeline stage spans (`stage.decode`), otherwise the kernel family
    /// (the part before the first dot: `gaussian`, `hessian`, `conv3d`, `detect`, ...).
    static func category(of name: String) -> String {
        name.split(separator: ".", maxSplits: 1).first.map(String.init) ?? name
    }
}
