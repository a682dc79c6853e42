import Foundation

/// The nightly queue: a folder of small job files. `enqueue` writes
/// `QUEUE/pending/<time>-<pid>-<random>.json` through a temporary name and a rename, so a
/// reader never sees half a job; `claim` moves a job to `QUEUE/claimed/` with `rename(2)`,
/// which is atomic, so two concurrent drainers never take the same job. Finished jobs move
/// to `QUEUE/done/`; a claimed job whose claiming process no longer runs is taken back.
public struct JobQueue: Sendable {
    public let root: URL

    public struct Job: Codable, Sendable {
        /// Absolute input paths (files or folders).
        public var inputs: [String]
        public var enqueuedAt: String

        enum CodingKeys: String, CodingKey { case inputs, enqueuedAt = "enqueued_at" }
    }

    /// A job taken by this process.
    public struct ClaimedJob: Sendable {
        public var name: String
        public var url: URL
        public var job: Job
    }

    public init(root: URL) {
        self.root = root
    }

    var pending: URL { root.appendingPathComponent("pending") }
    var claimed: URL { root.appendingPathComponent("claimed") }
    var done: URL { root.appendingPathComponent("done") }

    public func createFolders() throws {
        for dir in [pending, claimed, done] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
    }

    /// Writes one job holding `inputs` (made absolute); returns its file name.
    @discardableResult
    public func enqueue(inputs: [String]) throws -> String {
        try createFolders()
        let cwd = FileManager.default.currentDirectoryPath
        let absolute = inputs.map { path in
            path.hasPrefix("/") ? path : URL(fileURLWithPath: cwd).appendingPathComponent(path).standardizedFileURL.path
        }
        let job = Job(inputs: absolute, enqueuedAt: ISO8601DateFormatter().string(from: Date()))
        let stamp = String(format: "%.6f", Date().timeIntervalSince1970)
        let name = "\(stamp)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).json"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(job)
        try AtomicFile.write(data, to: pending.appendingPathComponent(name))
        return name
    }

    /// Claims every pending job (oldest first) plus jobs left claimed by dead processes.
    public func claimAll() throws -> [ClaimedJob] {
        try createFolders()
        let fm = FileManager.default
        var result: [ClaimedJob] = []
        // Jobs claimed by a process that is gone (e.g. killed) go back to pending first.
        for name in (try? fm.contentsOfDirectory(atPath: claimed.path)) ?? [] {
            guard let owner = Self.claimOwner(name), kill(owner, 0) != 0, errno == ESRCH else { continue }
            let original = String(name[..<name.range(of: ".claimed-")!.lowerBound])
            _ = rename(claimed.appendingPathComponent(name).path, pending.appendingPathComponent(original).path)
        }
        let names = ((try? fm.contentsOfDirectory(atPath: pending.path)) ?? [])
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
        for name in names {
            let source = pending.appendingPathComponent(name)
            let target = claimed.appendingPathComponent("\(name).claimed-\(getpid())")
            guard rename(source.path, target.path) == 0 else { continue } // another drainer won
            guard let data = try? Data(contentsOf: target),
                  let job = try? JSONDecoder().decode(Job.self, from: data) else {
                // An unreadable job is parked in done/ with a marker instead of blocking the queue.
                _ = rename(target.path, done.appendingPathComponent("\(name).unreadable").path)
                continue
            }
            result.append(ClaimedJob(name: name, url: target, job: job))
        }
        return result
    }

    /// Moves a claimed job to done/ (suffix `.failed` when some of its studies failed).
    public func complete(_ job: ClaimedJob, someFailed: Bool) {
        let name = someFailed ? "\(job.name).failed" : job.name
        _ = rename(job.url.path, done.appendingPathComponent(name).path)
    }

    /// Puts a claimed job back into pending/ (the run could not start).
    public func release(_ job: ClaimedJob) {
        _ = rename(job.url.path, pending.appendingPathComponent(job.name).path)
    }

    static func claimOwner(_ name: String) -> pid_t? {
        guard let r = name.range(of: ".claimed-") else { return nil }
        return pid_t(name[r.upperBound...])
    }
}

/// Whole-file writes through a temporary name in the same folder, fsync, then rename,
/// so a reader (or a rerun after `kill -9`) sees the old file or the new one, never half.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        let temp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw PipelineRunError.output("cannot create \(temp.path): \(String(cString: strerror(errno)))")
        }
        var ok = true
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; ok = false; return }
                offset += n
            }
        }
        if ok && fsync(fd) != 0 { ok = false }
        close(fd)
        guard ok, rename(temp.path, url.path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(temp.path)
            throw PipelineRunError.output("cannot write \(url.path): \(why)")
        }
    }
}
