import Foundation
import Testing
@testable import Profiling

/// Chrome trace export and the profile table, checked against hand-computed answers.
@Suite struct TraceAndTableTests {
    private func span(_ name: String, _ startMS: Double, _ endMS: Double, thread: Int = 1,
                      voxels: Int = 0, bytes: Int = 0, flops: Int = 0) -> SpanRecord {
        SpanRecord(name: name, startNanoseconds: UInt64(startMS * 1e6), endNanoseconds: UInt64(endMS * 1e6),
                   threadID: thread, voxels: voxels, bytesMoved: bytes, flops: flops)
    }

    @Test func traceHasOneTrackPerThreadAndEveryRecordedSpan() throws {
        // Record real spans from two threads through the Profiler.
        let collector = SpanCollector()
        Profiler.install(collector)
        let group = DispatchGroup()
        for i in 0..<2 {
            group.enter()
            Thread {
                Profiler.span("stage.worker\(i)", voxels: 10) {
                    Profiler.span("gaussian.zx", voxels: 10, bytesMoved: 80, flops: 30) { _ = usleep(2000) }
                }
                group.leave()
            }.start()
        }
        group.wait()
        Profiler.uninstall(collector)
        let spans = collector.spans.filter { $0.name == "gaussian.zx" || $0.name.hasPrefix("stage.worker") }
        #expect(spans.count == 4)

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("trace-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try ChromeTrace.write(spans: spans, to: url)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let events = try #require(parsed["traceEvents"] as? [[String: Any]])
        let complete = events.filter { $0["ph"] as? String == "X" }
        #expect(complete.count == 4)
        #expect(Set(complete.compactMap { $0["name"] as? String }) == ["gaussian.zx", "stage.worker0", "stage.worker1"])
        let tids = Set(complete.compactMap { $0["tid"] as? Int })
        #expect(tids.count == 2, "two threads, two tracks")
        let named = events.filter { $0["ph"] as? String == "M" && $0["name"] as? String == "thread_name" }
        #expect(Set(named.compactMap { $0["tid"] as? Int }) == tids)
        // Each kernel span lies inside its stage span on the same track (microseconds).
        for k in complete where k["name"] as? String == "gaussian.zx" {
            let tid = k["tid"] as? Int
            let stage = try #require(complete.first { ($0["name"] as? String ?? "").hasPrefix("stage") && $0["tid"] as? Int == tid })
            let ks = k["ts"] as! Double, kd = k["dur"] as! Double
            let ss = stage["ts"] as! Double, sd = stage["dur"] as! Double
            #expect(ks >= ss && ks + kd <= ss + sd + 0.001)
            #expect(kd >= 2000, "usleep(2000) takes at least 2 ms")
            #expect((k["args"] as? [String: Any])?["flops"] as? Int == 30)
        }
        #expect(complete.map { $0["ts"] as! Double }.min() == 0, "times are relative to the first span")
    }

    @Test func tableTakesMedianAndMinOfPerRepeatSums() {
        // Three repeats; "k" runs twice per repeat: sums 30, 10, 20 ms -> median 20, min 10.
        let repeats = [
            [span("stage.detect", 0, 90), span("k", 0, 10, voxels: 100, bytes: 1_000_000, flops: 2_000_000),
             span("k", 10, 30, voxels: 100, bytes: 1_000_000, flops: 2_000_000)],
            [span("stage.detect", 0, 50), span("k", 0, 5, voxels: 100, bytes: 1_000_000, flops: 2_000_000),
             span("k", 5, 10, voxels: 100, bytes: 1_000_000, flops: 2_000_000)],
            [span("stage.detect", 0, 70), span("k", 0, 10, voxels: 100, bytes: 1_000_000, flops: 2_000_000),
             span("k", 10, 20, voxels: 100, bytes: 1_000_000, flops: 2_000_000)],
        ]
        let table = SpanTable(repeats: repeats, totalSeconds: [0.1, 0.06, 0.08], bandwidthGBs: 1, peakGFLOPs: 0.5)
        #expect(table.rows.map(\.name) == ["stage.detect", "k"])
        let k = table.rows[1]
        #expect(k.callsPerRepeat == 2)
        #expect(abs(k.medianSeconds - 0.020) < 1e-9)
        #expect(abs(k.minSeconds - 0.010) < 1e-9)
        #expect(abs(table.medianTotalSeconds - 0.08) < 1e-12)
        #expect(abs(k.shareOfTotal - 0.25) < 1e-9)
        // Median repeat moves 2 MB and 4 MFLOP in 20 ms: 0.1 GB/s, 0.2 GFLOP/s, 200 voxels / 20 ms.
        #expect(abs(k.gigabytesPerSecond! - 0.1) < 1e-9)
        #expect(abs(k.gigaflopsPerSecond! - 0.2) < 1e-9)
        #expect(abs(k.voxelsPerSecond! - 10_000) < 1e-6)
        #expect(abs(k.percentOfBandwidth! - 10) < 1e-9)
        #expect(abs(k.percentOfPeakFlops! - 40) < 1e-9)
        #expect(table.rows[0].gigabytesPerSecond == nil, "no bytes counted -> no rate")
        #expect(table.formatted().contains("total (wall)"))
    }

    @Test func medianOfEvenAndOddCounts() {
        #expect(SpanTable.median([3, 1, 2]) == 2)
        #expect(SpanTable.median([4, 1, 3, 2]) == 2.5)
    }
}
