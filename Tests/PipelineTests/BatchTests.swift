import Foundation
import Testing
@testable import Pipeline

/// A real batch: DICOM files on disk -> `triage run` (the built executable) -> reports.
@Suite(.serialized) struct BatchTests {
    struct Worklist: Decodable {
        struct Row: Decodable {
            var folder: String
            var status: String
            var error: String?
            var patient_id: String?
        }
        var studies: [Row]
    }

    struct Summary: Decodable {
        struct Studies: Decodable { var processed: Int; var succeeded: Int; var failed: Int; var already_done: Int }
        struct Failure: Decodable { var folder: String; var stage: String; var reason: String }
        struct Skipped: Decodable { var path: String; var reason: String }
        var studies: Studies
        var failures: [Failure]
        var skipped_inputs: [Skipped]
        var failures_by_reason: [String: Int]
    }

    @Test func batchWithBadInputsQuarantinesAndContinues() throws {
        let root = try makeTemporaryFolder("batch")
        defer { try? FileManager.default.removeItem(at: root) }
        let inputs = root.appendingPathComponent("inputs")
        let hostileID = "../../x/" + String(repeating: "A/", count: 150)
        try TestStudy(patientID: "P-NODULE", studyUID: "1.2.3.1", seriesUID: "1.2.3.1.1")
            .write(to: inputs.appendingPathComponent("nodule"))
        try TestStudy(patientID: "P-CLEAN", studyUID: "1.2.3.2", seriesUID: "1.2.3.2.1", nodule: false)
            .write(to: inputs.appendingPathComponent("clean"))
        try TestStudy(patientID: hostileID, studyUID: "1.2.3.3", seriesUID: "1.2.3.3.1")
            .write(to: inputs.appendingPathComponent("hostile"))
        try TestStudy(patientID: "P-GAP", studyUID: "1.2.3.4", seriesUID: "1.2.3.4.1", missingSlice: 10)
            .write(to: inputs.appendingPathComponent("gap"))
        // Every file cut inside the pixel data: the headers read, the pixels do not.
        try TestStudy(patientID: "P-TRUNC", studyUID: "1.2.3.5", seriesUID: "1.2.3.5.1", slices: 6, truncateTo: 3000)
            .write(to: inputs.appendingPathComponent("truncated"))
        try Data("not a DICOM file\n".utf8).write(to: inputs.appendingPathComponent("notes.txt"))
        try FileManager.default.createDirectory(at: inputs.appendingPathComponent("empty"), withIntermediateDirectories: true)
        let pipeline = root.appendingPathComponent("test.yaml")
        try testPipelineYAML.write(to: pipeline, atomically: true, encoding: .utf8)
        let out = root.appendingPathComponent("out")

        let (status, stderr) = try runTriage(["run", "--pipeline", pipeline.path, inputs.path, "--out", out.path,
                                              "--log-format", "json"])
        #expect(status == BatchExitCode.studiesFailed, "one study is unreadable: \(stderr.suffix(2000))")

        // Logs: JSON lines, and no patient identifiers without --log-phi.
        let lines = stderr.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(!lines.isEmpty)
        for line in lines {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil)
            #expect(!line.contains("P-NODULE") && !line.contains("P-GAP") && !line.contains("../../x"))
        }

        let worklist = try JSONDecoder().decode(Worklist.self, from: Data(contentsOf: out.appendingPathComponent("worklist.json")))
        #expect(worklist.studies.count == 5)
        let failed = worklist.studies.filter { $0.status == "failed" }
        #expect(failed.count == 1)
        #expect(failed.first?.patient_id == "P-TRUNC")
        #expect(failed.first?.error?.isEmpty == false)
        #expect(worklist.studies.first?.status == "failed", "failed studies are listed first")
        let ok = Set(worklist.studies.filter { $0.status == "ok" }.compactMap(\.patient_id))
        #expect(ok == ["P-NODULE", "P-CLEAN", hostileID, "P-GAP"])

        // Every study folder is a single safe component directly under OUT/studies.
        let studies = out.appendingPathComponent("studies")
        let folders = try FileManager.default.contentsOfDirectory(atPath: studies.path).sorted()
        #expect(folders.count == 5)
        for folder in folders {
            #expect(folder.range(of: "^[a-z0-9-]{1,80}$", options: .regularExpression) != nil, "\(folder)")
            let findings = try readFindings(studies.appendingPathComponent(folder).appendingPathComponent("findings.json"))
            #expect(["ok", "failed"].contains(findings.status))
        }
        // Nothing escaped OUT: the hostile ID's "../../x" would land beside `out`.
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("x").path))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("x").path))

        let summary = try JSONDecoder().decode(Summary.self, from: Data(contentsOf: out.appendingPathComponent("run-summary.json")))
        #expect(summary.studies.processed == 5)
        #expect(summary.studies.succeeded == 4)
        #expect(summary.studies.failed == 1)
        #expect(summary.failures.first?.stage == "decode")
        #expect(summary.failures_by_reason.values.reduce(0, +) == 1)
        #expect(summary.skipped_inputs.contains { $0.path.hasSuffix("notes.txt") && !$0.reason.isEmpty })

        // Rerun: everything finished is skipped; the failed study is tried again.
        let (again, _) = try runTriage(["run", "--pipeline", pipeline.path, inputs.path, "--out", out.path, "--quiet"])
        #expect(again == BatchExitCode.studiesFailed)
        let second = try JSONDecoder().decode(Summary.self, from: Data(contentsOf: out.appendingPathComponent("run-summary.json")))
        #expect(second.studies.already_done == 4)
        #expect(second.studies.processed == 1)
        let worklist2 = try JSONDecoder().decode(Worklist.self, from: Data(contentsOf: out.appendingPathComponent("worklist.json")))
        #expect(worklist2.studies.count == 5, "the worklist covers studies finished by the earlier run")
    }

    @Test func configurationErrorsExitWithTheirOwnCode() throws {
        let root = try makeTemporaryFolder("config")
        defer { try? FileManager.default.removeItem(at: root) }
        let pipeline = root.appendingPathComponent("bad.yaml")
        try "name: bad\ndetect:\n  wrokers: 2\n".write(to: pipeline, atomically: true, encoding: .utf8)
        let (status, stderr) = try runTriage(["run", "--pipeline", pipeline.path, root.path, "--out",
                                              root.appendingPathComponent("out").path])
        #expect(status == BatchExitCode.configuration)
        #expect(stderr.contains("bad.yaml:3"))
        #expect(stderr.contains("detect.wrokers"))
        let (validateStatus, validateErr) = try runTriage(["validate", pipeline.path])
        #expect(validateStatus == BatchExitCode.configuration)
        #expect(validateErr.contains("bad.yaml:3"))
        let (missing, _) = try runTriage(["run", root.appendingPathComponent("nope").path, "--out",
                                          root.appendingPathComponent("out").path])
        #expect(missing == BatchExitCode.configuration)
    }

    @Test func queueIsDrainedOnce() throws {
        let root = try makeTemporaryFolder("queue")
        defer { try? FileManager.default.removeItem(at: root) }
        let study = root.appendingPathComponent("study")
        try TestStudy(patientID: "Q1", studyUID: "1.2.9.1", seriesUID: "1.2.9.1.1", nodule: false).write(to: study)
        let pipeline = root.appendingPathComponent("test.yaml")
        try testPipelineYAML.write(to: pipeline, atomically: true, encoding: .utf8)
        let queue = root.appendingPathComponent("queue")
        let out = root.appendingPathComponent("out")
        let (enqueued, _) = try runTriage(["enqueue", queue.path, study.path])
        #expect(enqueued == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: queue.appendingPathComponent("pending").path).count == 1)
        let (status, _) = try runTriage(["run", "--pipeline", pipeline.path, "--queue", queue.path, "--out", out.path, "--quiet"])
        #expect(status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: queue.appendingPathComponent("pending").path).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: queue.appendingPathComponent("done").path).count == 1)
        let worklist = try JSONDecoder().decode(Worklist.self, from: Data(contentsOf: out.appendingPathComponent("worklist.json")))
        #expect(worklist.studies.map(\.patient_id) == ["Q1"])
        // An empty queue is not an error.
        let (empty, _) = try runTriage(["run", "--pipeline", pipeline.path, "--queue", queue.path, "--out", out.path, "--quiet"])
        #expect(empty == 0)
    }
}
