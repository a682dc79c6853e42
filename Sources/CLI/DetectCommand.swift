import ArgumentParser
import Detection
import Foundation
import Reports
import SeriesInput

/// `triage detect PATH... --out DIR`: runs the nodule detector on every series found and
/// writes OUT/studies/<series id>/findings.json (+ report and key images) per series, without
/// the staged pipeline. Used to evaluate and time the detector on its own. Exit code 3 when
/// a series failed or none was found.
struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Detect lung nodules in every series under the paths and write findings.json per series.")

    @Argument(help: "Files or folders holding image series.") var paths: [String]
    @Option(help: "Output folder.") var out: String
    @Option(help: "Detector settings as JSON (keys as in a pipeline's detect section).") var config: String?
    @Option(name: .customLong("repeat"), help: "Run detection this many times per series and report the median time.") var runs: Int = 1
    @Option(help: "Worker threads (default: one per core).") var workers: Int?
    @Flag(help: "Print one JSON line per series instead of text.") var json = false
    @Flag(help: ArgumentHelp(
        "Also write OUT/candidates/<series id>.csv: every maximum of the dot filter and the step where it left the detector.",
        discussion: "Columns and fates in docs/detection.md (\"Where the missed nodules are lost\"); "
            + "scripts/candidate_funnel.py matches the files to a truth file."))
    var traceCandidates = false

    func run() throws {
        var configuration = DetectorConfiguration()
        if let path = config {
            configuration = try JSONDecoder().decode(DetectorConfiguration.self,
                                                     from: Data(contentsOf: URL(fileURLWithPath: path)))
        }
        if let w = workers { configuration.threads = max(1, w) }
        let detector = NoduleDetector(configuration: configuration)
        if !detector.usesTrainedModel {
            FileHandle.standardError.write(Data("warning: no trained false-positive model bundled; using the prior\n".utf8))
        }
        if let problem = detector.patchNetworkProblem {
            FileHandle.standardError.write(Data("warning: patch network not used (\(problem)); scoring with the trees alone\n".utf8))
        }
        let discovery = SeriesDiscovery.discover(paths: paths.map { URL(fileURLWithPath: $0) })
        for s in discovery.skipped {
            FileHandle.standardError.write(Data("skipped \(s.path): \(s.reason)\n".utf8))
        }
        guard !discovery.series.isEmpty else {
            // Say so: a folder of unreadable files or a wrong path is not a clean night.
            FileHandle.standardError.write(Data(("error: no image series found under \(paths.joined(separator: ", "))"
                + " (\(discovery.skipped.count) file(s) skipped)\n").utf8))
            throw ExitCode(3)
        }
        let writer = StudyReportWriter(outputDirectory: URL(fileURLWithPath: out),
                                       provenance: ReportProvenance(pipelineName: "detect", pipelineVersion: "1",
                                                                    softwareVersion: TriageVersion.string))
        var failures = 0
        for descriptor in discovery.series {
            let series: ImageSeries
            do { series = try descriptor.load() } catch {
                failures += 1
                try writer.writeFailure(folderName: descriptor.id, identity: descriptor.identity,
                                        sourcePaths: descriptor.sourcePaths, stage: "decode", reason: "\(error)")
                print("\(descriptor.id): decode failed: \(error)")
                continue
            }
            var times: [Double] = []
            var assessment: StudyAssessment? = nil
            var trace: CandidateTrace? = nil
            do {
                for _ in 0..<max(1, runs) {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    if traceCandidates {
                        let (a, t) = try detector.assessTracingCandidates(volume: series.volume)
                        assessment = a; trace = t
                    } else {
                        assessment = try detector.assess(series)
                    }
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                }
            } catch {
                failures += 1
                try writer.writeFailure(folderName: descriptor.id, identity: series.identity, sourcePaths: series.sourcePaths,
                                        series: series, stage: "detect", reason: "\(error)")
                print("\(descriptor.id): detection failed: \(error)")
                continue
            }
            guard let a = assessment else { continue }
            let median = times.sorted()[times.count / 2]
            try writer.writeReport(folderName: descriptor.id, series: series, assessment: a, timingMS: ["detect": median])
            if let trace {
                // Named like the study's report folder (a digest, never a DICOM value); written
                // to a temporary name and renamed.
                let folder = URL(fileURLWithPath: out).appendingPathComponent("candidates", isDirectory: true)
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try Data(trace.csv().utf8).write(to: folder.appendingPathComponent(descriptor.id + ".csv"),
                                                 options: .atomic)
            }
            let v = series.volume
            if json {
                let line: [String: Any] = [
                    "series": descriptor.id, "size": [v.columns, v.rows, v.slices], "detect_ms_median": median,
                    "detect_ms_all": times, "findings": a.findings.count, "priority": a.priority.rawValue,
                    "score": a.score, "steps_ms": a.timingMS,
                ]
                let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(String(format: "%@: %dx%dx%d, %d findings, %@ (score %.2f), detection median %.0f ms of %d run(s)",
                             descriptor.id, v.columns, v.rows, v.slices, a.findings.count, a.priority.rawValue, a.score,
                             median, times.count))
                for f in a.findings.prefix(10) {
                    print(String(format: "  #%d score %.2f  %.1f mm %@ LR %@  at (%.1f, %.1f, %.1f) mm, %@ %@",
                                 f.rank, f.score, f.diameterMM, f.type.rawValue, f.lungRADS.rawValue,
                                 f.centerMM.x, f.centerMM.y, f.centerMM.z, f.lungSide, f.lungZone))
                }
            }
        }
        if failures > 0 { throw ExitCode(3) }
    }
}
