import Foundation
import Testing
@testable import Pipeline

/// `kill -9` the real `triage` process at several points, rerun, and check that every
/// study ends with exactly one complete report and that the journal agrees with the disk.
@Suite(.serialized) struct KillResumeTests {
    func completeJournalLines(_ url: URL) -> Int {
        guard let data = try? Data(contentsOf: url) else { return 0 }
        return data.split(separator: 0x0A, omittingEmptySubsequences: true)
            .filter { (try? JSONSerialization.jsonObject(with: Data($0))) != nil }.count
    }

    /// Starts a run and SIGKILLs it once the journal holds `records` complete records (or
    /// after `seconds` when given). Returns false when the run ended before the kill.
    func runAndKill(_ args: [String], journal: URL, records: Int?, seconds: Double?) throws -> Bool {
        let process = Process()
        let executable: URL = try #require(triageExecutable())
        process.executableURL = executable
        process.arguments = args
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let start = Date()
        try process.run()
        while process.isRunning {
            if let records, completeJournalLines(journal) >= records { break }
            if let seconds, Date().timeIntervalSince(start) >= seconds { break }
            usleep(2_000)
        }
        guard process.isRunning else { return false }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        return true
    }

    @Test func killedBatchesResumeToExactlyOneReportPerStudy() throws {
        let root = try makeTemporaryFolder("kill")
        defer { try? FileManager.default.removeItem(at: root) }
        let inputs = root.appendingPathComponent("inputs")
        let uids = (1...4).map { "1.2.7.\($0).1" }
        for (i, uid) in uids.enumerated() {
            try TestStudy(patientID: "K\(i)", studyUID: "1.2.7.\(i + 1)", seriesUID: uid, nodule: i % 2 == 0)
                .write(to: inputs.appendingPathComponent("s\(i)"))
        }
        let pipeline = root.appendingPathComponent("test.yaml")
        try testPipelineYAML.write(to: pipeline, atomically: true, encoding: .utf8)
        let out = root.appendingPathComponent("out")
        let journal = out.appendingPathComponent("journal.jsonl")
        let args = ["run", "--pipeline", pipeline.path, inputs.path, "--out", out.path, "--quiet"]

        // Kill points: right after the first "started", mid-batch, during a report, at a time.
        var kills = 0
        for records in [1, 3, 5] {
            let before = completeJournalLines(journal)
            if try runAndKill(args, journal: journal, records: before + records, seconds: nil) { kills += 1 }
        }
        if try runAndKill(args, journal: journal, records: nil, seconds: 0.4) { kills += 1 }
        #expect(kills >= 2, "the batch should still have been running at most kill points")

        let (status, stderr) = try runTriage(args)
        #expect(status == 0, "\(stderr.suffix(1500))")

        // Exactly one complete report per study, no half-built folders left.
        let studies = out.appendingPathComponent("studies")
        let names = try FileManager.default.contentsOfDirectory(atPath: studies.path).sorted()
        #expect(names.count == 4, "\(names)")
        #expect(!names.contains { $0.hasPrefix(".") })
        var seriesOnDisk: [String: String] = [:]
        for name in names {
            let findings = try readFindings(studies.appendingPathComponent(name).appendingPathComponent("findings.json"))
            #expect(findings.status == "ok")
            let uid = try #require(findings.study.series_instance_uid)
            #expect(seriesOnDisk[uid] == nil, "two reports for one series")
            seriesOnDisk[uid] = name
        }
        #expect(Set(seriesOnDisk.keys) == Set(uids))

        // The journal agrees: every study's last record is "finished" with its folder, and
        // every record parses (single-write records leave no torn line under SIGKILL).
        let records = Journal.load(url: journal)
        let lines = try Data(contentsOf: journal).split(separator: 0x0A).count
        #expect(records.count == lines)
        let latest = Journal.latest(records)
        #expect(latest.count == 4)
        for (_, record) in latest {
            #expect(record.event == .finished)
            #expect(names.contains(record.folder))
        }
        #expect(Set(latest.values.map(\.folder)) == Set(names))
        // Work that was in flight at a kill was redone: more "started" than studies.
        let started = records.filter { $0.event == .started }.count
        #expect(started >= 4)
        #expect(records.filter { $0.event == .finished }.count <= started)

        // One more run has nothing left to do.
        let (again, _) = try runTriage(args)
        #expect(again == 0)
        #expect(Journal.load(url: journal).count == records.count, "a finished batch is not redone")
    }
}
