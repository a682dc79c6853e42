import Foundation
import Logging
import Testing
@testable import Pipeline

/// Collects what a log handler writes.
final class LineSink: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ s: String) { lock.lock(); stored.append(s); lock.unlock() }
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return stored }
}

@Suite struct LogHandlerTests {
    @Test func jsonLinesCarryLevelMessageAndMetadataWithoutClobberingFixedFields() throws {
        let sink = LineSink()
        var logger = Logger(label: "t", factory: { JSONLogHandler(label: $0, sink: { sink.append($0) }) })
        logger[metadataKey: "run"] = "r1"
        logger.debug("not at the default level")
        logger.warning("study failed", metadata: ["series_id": "abc", "level": "spoofed"])
        #expect(sink.lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(sink.lines[0].utf8)) as? [String: String])
        #expect(object["level"] == "warning")
        #expect(object["message"] == "study failed")
        #expect(object["label"] == "t")
        #expect(object["series_id"] == "abc" && object["run"] == "r1")
        #expect(object["meta.level"] == "spoofed")
        #expect(sink.lines[0].hasSuffix("\n"))
    }

    @Test func plainLinesListMetadataSortedByKey() {
        let sink = LineSink()
        let logger = Logger(label: "t", factory: { _ in PlainLogHandler(sink: { sink.append($0) }) })
        logger.info("study finished", metadata: ["priority": "urgent", "findings": "3"])
        #expect(sink.lines.count == 1)
        #expect(sink.lines[0].hasSuffix(" info study finished findings=3 priority=urgent\n"), "\(sink.lines)")
    }
}
