import Testing
import Foundation
@testable import Profiling

// Serialized: the profiler's recorder is process-wide.
@Suite(.serialized) struct ProfilerTests {
    @Test func spansAreRecordedOnlyWhileARecorderIsInstalled() {
        let collector = SpanCollector()
        Profiler.span("before", voxels: 1) { }
        Profiler.install(collector)
        let value = Profiler.span("work", voxels: 10, bytesMoved: 80, flops: 40) { () -> Int in
            usleep(2000)
            return 7
        }
        Profiler.uninstall(collector)
        Profiler.span("after") { }
        #expect(value == 7)
        // Other suites may record spans concurrently into their own collectors (and ours).
        let spans = collector.spans.filter { ["before", "work", "after"].contains($0.name) }
        #expect(spans.map(\.name) == ["work"])
        let s = try! #require(spans.first)
        #expect(s.voxels == 10 && s.bytesMoved == 80 && s.flops == 40)
        #expect(s.seconds >= 0.0015 && s.seconds < 5)
        #expect(s.threadID == Profiler.currentThreadID())
    }

    @Test func threadsGetDistinctStableIDs() throws {
        let collector = SpanCollector()
        Profiler.install(collector)
        defer { Profiler.uninstall(collector) }
        let threads = (0..<3).map { i in
            Thread { Profiler.span("t\(i)") { _ = usleep(1000) }; Profiler.span("t\(i)b") { } }
        }
        threads.forEach { $0.start() }
        let deadline = Date().addingTimeInterval(10)
        func ours() -> [SpanRecord] { collector.spans.filter { $0.name.hasPrefix("t") } }
        while ours().count < 6 && Date() < deadline { usleep(1000) }
        let spans = ours()
        try #require(spans.count == 6)
        let byName = Dictionary(uniqueKeysWithValues: spans.map { ($0.name, $0.threadID) })
        #expect(Set((0..<3).map { byName["t\($0)"]! }).count == 3)
        for i in 0..<3 { #expect(byName["t\(i)"] == byName["t\(i)b"]) }
    }
}
