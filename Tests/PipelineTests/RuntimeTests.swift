import Foundation
import Logging
import Testing
import SeriesInput
import Detection
import Volumes
@testable import Pipeline

/// Stage doubles that record timing and concurrency, to test the runtime's scheduling
/// (backpressure, memory budget, overlap) without real decode cost.
final class Recorder: @unchecked Sendable {
    let lock = NSLock()
    var inFlight = 0, maxInFlight = 0
    var loaded = 0, detectStarted = 0, maxAhead = 0
    var oversizedAlone = true
    var oversizedRunning = false
    var written: [String] = []

    func loadStarted(oversized: Bool) {
        lock.lock(); defer { lock.unlock() }
        inFlight += 1
        maxInFlight = max(maxInFlight, inFlight)
        if oversized { oversizedRunning = true; if inFlight > 1 { oversizedAlone = false } }
        else if oversizedRunning { oversizedAlone = false }
        loaded += 1
        maxAhead = max(maxAhead, loaded - detectStarted)
    }
    @discardableResult func detectBegan() -> Int {
        lock.lock(); defer { lock.unlock() }; detectStarted += 1; return detectStarted
    }
    /// Polls until `n` loads have started (or 10 s pass), so a test can hold detect back
    /// until decode has filled the queues, whatever the machine's load.
    func waitUntilLoaded(_ n: Int) {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            lock.lock(); let count = loaded; lock.unlock()
            if count >= n { return }
            Thread.sleep(forTimeInterval: 0.002)
        }
    }
    func finished(_ id: String, oversized: Bool) {
        lock.lock(); inFlight -= 1; written.append(id); if oversized { oversizedRunning = false }; lock.unlock()
    }
}

struct FakeCatalog: SeriesCatalog {
    var count: Int
    var voxels: @Sendable (Int) -> Int
    var loadSeconds: Double
    var failing: Set<Int> = []
    let recorder: Recorder
    var budgetVoxelsPerStudyLimit = Int.max

    func discover(paths: [URL]) -> (series: [CatalogSeries], skipped: [SkippedInput]) {
        let series = (0..<count).map { i -> CatalogSeries in
            let n = voxels(i)
            let oversized = n > budgetVoxelsPerStudyLimit
            return CatalogSeries(
                id: String(format: "series%02d", i),
                facts: SeriesFacts(kind: "dicom", modality: "CT", sliceCount: n / 64, rows: 8, columns: 8,
                                   orientation: "axial", seriesDescription: nil, studyKey: "study\(i)"),
                identity: SeriesIdentity(patientID: "PAT\(i)"), sourcePaths: [],
                load: { [recorder, failing, loadSeconds] in
                    recorder.loadStarted(oversized: oversized)
                    Thread.sleep(forTimeInterval: loadSeconds)
                    if failing.contains(i) {
                        throw PipelineRunError.configuration("fake decode failure \(i)")
                    }
                    let volume = Volume(columns: 8, rows: 8, slices: 2, filledWith: -1000,
                                        spacing: VoxelSpacing(columnMM: 1, rowMM: 1, sliceMM: 1))
                    return ImageSeries(kind: .dicom, identity: SeriesIdentity(patientID: "PAT\(i)"), sourcePaths: [],
                                       grouping: "test", volume: volume, orientation: "axial", warnings: [],
                                       statistics: HUStatistics(minHU: -1000, maxHU: -1000, meanHU: -1000,
                                                                voxelCount: 128, paddingVoxelCount: 0))
                })
        }
        return (series, [SkippedInput(path: "/x/readme.txt", reason: "not DICOM")])
    }
}

struct SleepingProcessor: StudyProcessor {
    var seconds: Double
    let recorder: Recorder
    /// When > 0, the first study's detect waits until this many loads have started, then
    /// sleeps `firstHoldSeconds` more: decode is then certainly waiting on a full queue.
    var waitForLoads = 0
    var firstHoldSeconds = 0.2
    func assess(_ series: ImageSeries, kernelWorkers: Int) throws -> StudyAssessment {
        let isFirst = recorder.detectBegan() == 1
        if waitForLoads > 0 && isFirst {
            recorder.waitUntilLoaded(waitForLoads)
            Thread.sleep(forTimeInterval: firstHoldSeconds)
        }
        Thread.sleep(forTimeInterval: seconds)
        return StudyAssessment(findings: [], priority: .routine, score: 0, lungRADS: .category1, timingMS: [:])
    }
}

struct RecordingSink: ReportSink {
    let recorder: Recorder
    var oversizedIDs: Set<String> = []
    func writeStudy(_ outcome: StudyOutcome, settings: ReportSettings, pipeline: PipelineStamp, outputRoot: URL) throws {
        recorder.finished(outcome.seriesID, oversized: oversizedIDs.contains(outcome.seriesID))
    }
    func writeWorklist(settings: ReportSettings, outputRoot: URL) throws -> Int { 0 }
    func hasCompleteReport(folder: String, outputRoot: URL) -> Bool { false }
    func removeStaleTemporaryFiles(outputRoot: URL) throws {}
}

@Suite(.serialized) struct RuntimeTests {
    func run(_ yaml: String, catalog: FakeCatalog, detectSeconds: Double, recorder: Recorder,
             oversizedIDs: Set<String> = [], detectWaitsForLoads: Int = 0) throws -> RunSummary {
        let out = try makeTemporaryFolder("runtime")
        defer { try? FileManager.default.removeItem(at: out) }
        let definition = try PipelineDefinition.parse(yaml: yaml, file: "t")
        let runner = BatchRunner(definition: definition, catalog: catalog,
                                 processor: SleepingProcessor(seconds: detectSeconds, recorder: recorder,
                                                              waitForLoads: detectWaitsForLoads),
                                 sink: RecordingSink(recorder: recorder, oversizedIDs: oversizedIDs),
                                 logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        return try runner.run(BatchOptions(inputs: [out], outputRoot: out)).summary
    }

    @Test func slowDetectAppliesBackpressureToDecode() throws {
        let recorder = Recorder()
        let catalog = FakeCatalog(count: 10, voxels: { _ in 6400 }, loadSeconds: 0.001, recorder: recorder)
        let summary = try run("""
            decode: {workers: 1, queue_capacity: 1}
            preprocess: {workers: 1, queue_capacity: 1, clamp_hu: null}
            detect: {workers: 1, queue_capacity: 1}
            memory: {budget_mib: 4096}
            """, catalog: catalog, detectSeconds: 0.03, recorder: recorder, detectWaitsForLoads: 5)
        #expect(summary.studies.succeeded == 10)
        // Loaded but not yet in detect: at most the decode worker's item, the preprocess
        // queue (1), the preprocess worker's item and the detect queue (1).
        #expect(recorder.maxAhead <= 4, "decode ran \(recorder.maxAhead) studies ahead of detect")
        // The first detect holds its study until 5 loads have started (every queue full,
        // decode holding the fifth), then 200 ms more, all of which decode spends blocked
        // on its output. Relying on detect's sleeps alone was flaky: decode runs at nice +5,
        // and on a busy CI machine it was starved so long that it blocked only 41 ms.
        #expect(summary.stages["decode"]!.blockedOutputSeconds > 0.1)
        #expect(summary.decodeDetectOverlapSeconds >= 0)
    }

    @Test func decodeOverlapsDetect() throws {
        let recorder = Recorder()
        let catalog = FakeCatalog(count: 6, voxels: { _ in 6400 }, loadSeconds: 0.04, recorder: recorder)
        let summary = try run("memory: {budget_mib: 4096}", catalog: catalog, detectSeconds: 0.04, recorder: recorder)
        #expect(summary.studies.succeeded == 6)
        // Serial execution would take 6 * 80 ms; with overlap decode of study k+1 runs
        // during detect of study k for most of the batch.
        #expect(summary.decodeDetectOverlapSeconds > 0.1)
        #expect(summary.stages["detect"]!.busySeconds >= 0.24)
    }

    @Test func memoryBudgetCapsStudiesInFlight() throws {
        let recorder = Recorder()
        // budget 64 MiB, working factor 1: each study reserves 4 bytes * voxels = 24 MiB, so
        // at most two fit at once.
        let voxels = 6 << 20
        let catalog = FakeCatalog(count: 6, voxels: { _ in voxels }, loadSeconds: 0.01, recorder: recorder)
        let summary = try run("""
            decode: {workers: 3, queue_capacity: 4}
            preprocess: {workers: 2, queue_capacity: 4, clamp_hu: null}
            detect: {workers: 2, queue_capacity: 4}
            memory: {budget_mib: 64, working_factor: 1}
            """, catalog: catalog, detectSeconds: 0.03, recorder: recorder)
        #expect(summary.studies.succeeded == 6)
        #expect(recorder.maxInFlight == 2)
        #expect(summary.memory.peakReservedBytes == 2 * 4 * voxels)
    }

    @Test func studyLargerThanTheBudgetRunsAloneInsteadOfDeadlocking() throws {
        let recorder = Recorder()
        // Study 0 alone is bigger than the whole budget; the others fit two at a time.
        let small = 1 << 20, huge = 40 << 20
        var catalog = FakeCatalog(count: 5, voxels: { $0 == 0 ? huge : small }, loadSeconds: 0.01, recorder: recorder)
        catalog.budgetVoxelsPerStudyLimit = 10 << 20
        let summary = try run("""
            decode: {workers: 2, queue_capacity: 4}
            detect: {workers: 2, queue_capacity: 4}
            memory: {budget_mib: 64, working_factor: 1}
            """, catalog: catalog, detectSeconds: 0.02, recorder: recorder, oversizedIDs: ["series00"])
        #expect(summary.studies.succeeded == 5)
        #expect(summary.memory.oversizedStudies == 1)
        #expect(recorder.oversizedAlone)
    }

    @Test func failedDecodeIsQuarantinedAndTheBatchGoesOn() throws {
        let recorder = Recorder()
        let catalog = FakeCatalog(count: 4, voxels: { _ in 6400 }, loadSeconds: 0.001, failing: [2], recorder: recorder)
        let summary = try run("{}", catalog: catalog, detectSeconds: 0.001, recorder: recorder)
        #expect(summary.studies.succeeded == 3)
        #expect(summary.studies.failed == 1)
        #expect(summary.failures.map(\.seriesID) == ["series02"])
        #expect(summary.failures.first?.stage == "decode")
        #expect(summary.failures.first?.reason.contains("fake decode failure 2") == true)
        #expect(summary.skippedInputs.map(\.path) == ["/x/readme.txt"])
        #expect(Set(recorder.written) == ["series00", "series01", "series02", "series03"],
                "the failed study also reaches the report stage")
    }
}

@Suite struct BuildingBlockTests {
    @Test func sha256MatchesHashlib() {
        // Reference digests from Python's hashlib.sha256.
        #expect(SHA256.hexDigest([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hexDigest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hexDigest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        let bytes = (0..<3).flatMap { _ in (0..<256).map { UInt8($0) } }
        #expect(SHA256.hexDigest(bytes) == "f3a25aa93aa2fbba28d79260535bbd6a5eb0fc1c24a8b0f04e12b484c1dfe363")
    }

    @Test func hostileIdentifiersNeverMakeUnsafeFolderNames() {
        let hostile = ["../../x", "a/b/c", "x\u{0}y", String(repeating: "Z", count: 300), "..", ".", "", "name with space",
                       "ÄÖÜ", "1.2.840.113619.2.55.3"]
        var names = Set<String>()
        for id in hostile {
            let name = SafeNames.studyFolder(seriesID: id, prefix: "../CT\u{0}/")
            #expect(name.range(of: "^[a-z0-9]{0,8}-?[a-z0-9]{1,64}$", options: .regularExpression) != nil, "\(name)")
            #expect(!name.contains("/") && !name.contains("..") && !name.contains("\u{0}"))
            #expect(name.count <= 73)
            names.insert(name)
        }
        #expect(names.count == hostile.count, "distinct ids give distinct folders")
        #expect(SafeNames.studyFolder(seriesID: "9f86d081884c7d65", prefix: "dicom") == "dicom-9f86d081884c7d65")
    }

    @Test func journalSkipsATornLastLine() throws {
        let dir = try makeTemporaryFolder("journal")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("journal.jsonl")
        let journal = try Journal(url: url)
        try journal.append(JournalRecord(event: .started, seriesID: "s1", folder: "f1", inputHash: "i", pipelineHash: "p"))
        try journal.append(JournalRecord(event: .finished, seriesID: "s1", folder: "f1", inputHash: "i", pipelineHash: "p"))
        try journal.append(JournalRecord(event: .started, seriesID: "s2", folder: "f2", inputHash: "i", pipelineHash: "p"))
        // A kill in the middle of a write leaves a partial line.
        let handle = try FileHandle(forWritingTo: url)
        handle.seekToEndOfFile()
        handle.write(Data("{\"event\":\"finished\",\"series_id\":\"s2\",\"fol".utf8))
        try handle.close()
        let latest = Journal.latest(Journal.load(url: url))
        #expect(latest["s1"]?.event == .finished)
        #expect(latest["s2"]?.event == .started)
    }

    @Test func inputHashFollowsSizeAndModificationTime() throws {
        let dir = try makeTemporaryFolder("hash")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("a.dcm")
        try Data([1, 2, 3]).write(to: file)
        let before = InputHash.compute(paths: [file.path], mode: "metadata")
        #expect(before == InputHash.compute(paths: [file.path], mode: "metadata"))
        let content = InputHash.compute(paths: [file.path], mode: "content")
        try Data([1, 2, 4]).write(to: file)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 10)], ofItemAtPath: file.path)
        #expect(InputHash.compute(paths: [file.path], mode: "metadata") != before)
        #expect(InputHash.compute(paths: [file.path], mode: "content") != content)
    }

    @Test func jobQueueClaimsEachJobOnce() throws {
        let dir = try makeTemporaryFolder("jobs")
        defer { try? FileManager.default.removeItem(at: dir) }
        let queue = JobQueue(root: dir)
        try queue.enqueue(inputs: ["/data/a"])
        try queue.enqueue(inputs: ["/data/b", "/data/c"])
        let first = try queue.claimAll()
        #expect(first.flatMap(\.job.inputs).sorted() == ["/data/a", "/data/b", "/data/c"])
        #expect(try queue.claimAll().isEmpty, "claimed jobs of a live process are not handed out again")
        queue.complete(first[0], someFailed: false)
        queue.release(first[1])
        #expect(try queue.claimAll().map(\.job.inputs) == [["/data/b", "/data/c"]])
    }

    @Test func progressLineShowsCountsRateAndETA() {
        let progress = ProgressReporter(mode: .quiet)
        progress.begin(total: 4, totalSlices: 400)
        progress.setStage("detect")
        progress.studyDone(slices: 100, failed: false)
        progress.studyDone(slices: 100, failed: true)
        progress.stage("decode", entered: true)
        progress.stage("detect", entered: true)
        let line = progress.status(bar: true)
        #expect(line.contains("2/4 studies (1 failed)"))
        #expect(line.contains("| detect+decode |"), "decode of the next study overlaps detect: \(line)")
        progress.stage("decode", entered: false)
        #expect(progress.status().contains("| detect |"))
        #expect(line.contains("slices/s"))
        #expect(line.hasPrefix("[############------------]"))
        #expect(!line.contains("ETA --"))
    }
}
