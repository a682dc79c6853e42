import Foundation

/// One line of the resume journal (`OUT/journal.jsonl`).
public struct JournalRecord: Codable, Sendable, Equatable {
    public enum Event: String, Codable, Sendable {
        case started, finished, failed
    }

    public var event: Event
    /// Content-derived series id (never a patient identifier).
    public var seriesID: String
    /// The study's output folder under `OUT/studies/`.
    public var folder: String
    public var inputHash: String
    public var pipelineHash: String
    /// ISO 8601 UTC.
    public var time: String
    public var pid: Int32
    /// For `failed`: the stage that failed and why.
    public var stage: String?
    public var reason: String?

    enum CodingKeys: String, CodingKey {
        case event, seriesID = "series_id", folder, inputHash = "input_hash", pipelineHash = "pipeline_hash",
             time, pid, stage, reason
    }

    public init(event: Event, seriesID: String, folder: String, inputHash: String, pipelineHash: String,
                stage: String? = nil, reason: String? = nil) {
        self.event = event
        self.seriesID = seriesID
        self.folder = folder
        self.inputHash = inputHash
        self.pipelineHash = pipelineHash
        self.time = ISO8601DateFormatter().string(from: Date())
        self.pid = getpid()
        self.stage = stage
        self.reason = reason
    }
}

/// Append-only, fsync'd JSON-lines journal. Each record is one `write(2)` of a whole line
/// on an `O_APPEND` descriptor followed by `fsync`, so after a `kill -9` the file holds
/// every record that was acknowledged plus at most one torn last line, which `load`
/// ignores. A study is done when its last record is `finished` with the same input and
/// pipeline hashes; a `started` without an end was in flight and is redone.
public final class Journal: @unchecked Sendable {
    public let url: URL
    private let fd: Int32
    private let lock = NSLock()

    public init(url: URL) throws {
        self.url = url
        let fd = open(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw PipelineRunError.output("cannot open the journal \(url.path): \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        // Make the journal's directory entry durable too.
        let dirFD = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY)
        if dirFD >= 0 { fsync(dirFD); close(dirFD) }
    }

    deinit { close(fd) }

    public func append(_ record: JournalRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = try encoder.encode(record)
        line.append(0x0A)
        lock.lock()
        defer { lock.unlock() }
        try line.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw PipelineRunError.output("cannot write the journal: \(String(cString: strerror(errno)))")
                }
                offset += n
            }
        }
        guard fsync(fd) == 0 else {
            throw PipelineRunError.output("cannot fsync the journal: \(String(cString: strerror(errno)))")
        }
    }

    /// All complete records in file order (a torn or unparsable line is skipped).
    public static func load(url: URL) -> [JournalRecord] {
        guard let data = try? Data(contentsOf: url) else { return [] }
        let decoder = JSONDecoder()
        var records: [JournalRecord] = []
        for line in data.split(separator: 0x0A) where !line.isEmpty {
            if let record = try? decoder.decode(JournalRecord.self, from: Data(line)) { records.append(record) }
        }
        return records
    }

    /// The last record per series id.
    public static func latest(_ records: [JournalRecord]) -> [String: JournalRecord] {
        var last: [String: JournalRecord] = [:]
        for r in records { last[r.seriesID] = r }
        return last
    }
}
