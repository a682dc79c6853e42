import ArgumentParser
import Evaluation
import Foundation
import Phantoms

/// `triage evaluate`: LUNA16-style scoring of a batch's findings against phantom ground truth.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score findings reports against a truth file the LUNA16 way (FROC, CPM, study AUC).",
        discussion: """
        Reads every findings.json under REPORTS_DIR, matches each to a truth case by Series \
        Instance UID, and writes evaluation.json, froc.svg and froc.png to --out (default: \
        REPORTS_DIR/evaluation). The rules are in docs/evaluation.md.
        """)

    @Option(name: .long, help: "The truth file written by `triage phantom` (schema triage.truth.v1).")
    var truth: String

    @Argument(help: "Folder searched recursively for findings.json files.")
    var reportsDir: String

    @Option(name: .long, help: "Output folder for evaluation.json, froc.svg and froc.png (default: REPORTS_DIR/evaluation).")
    var out: String?

    @Option(name: .long, help: "Bootstrap replicates over scans for the 95% intervals (0 = none).")
    var bootstrap: Int = 1000

    @Option(name: .long, help: "Seed of the bootstrap's random stream.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "False positives per scan of the per-group operating point.")
    var operatingFps: Double = 1

    @Option(name: .customLong("actionable-score"),
            help: "Score from which a false positive counts as actionable (the detector's actionable_score, default 0.5).")
    var actionableScore: Double = 0.5

    @Flag(name: .long, help: "Print evaluation.json to stdout instead of the table.")
    var json = false

    @Flag(name: .customLong("phantom-lungs"),
          help: "Also check every finding's centre against the phantom's own lung surfaces (re-planned from the truth file's seed and options) and write lung-check.json.")
    var phantomLungs = false

    @Option(name: .customLong("lung-margin-mm"), help: "With --phantom-lungs: how far outside a lung surface (mm) a centre may lie.")
    var lungMarginMM: Double = 0

    func validate() throws {
        guard bootstrap >= 0 else { throw ValidationError("--bootstrap must be 0 or more") }
        guard operatingFps.isFinite, operatingFps > 0 else { throw ValidationError("--operating-fps must be positive") }
        guard (0...1).contains(actionableScore) else { throw ValidationError("--actionable-score must be in [0, 1]") }
    }

    func run() throws {
        let reportsURL = URL(fileURLWithPath: reportsDir)
        let outURL = out.map { URL(fileURLWithPath: $0) } ?? reportsURL.appendingPathComponent("evaluation")
        let options = EvaluationOptions(bootstrapReplicates: bootstrap, seed: seed,
                                        operatingFalsePositivesPerScan: operatingFps, actionableScore: actionableScore)
        let summary: EvaluationSummary
        let written: [URL]
        do {
            summary = try Evaluator.evaluate(truthFile: URL(fileURLWithPath: truth), reportsDirectory: reportsURL,
                                             options: options)
            written = try EvaluationOutput.write(summary, to: outURL)
        } catch let error as EvaluationError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        if json {
            FileHandle.standardOutput.write(try summary.jsonData())
            FileHandle.standardOutput.write(Data("\n".utf8))
        } else {
            print(EvaluationTable.render(summary), terminator: "")
            print("")
            for url in written { print("wrote \(url.path)") }
        }
        if phantomLungs { try checkPhantomLungs(reportsURL: reportsURL, outURL: outURL) }
    }

    /// "No finding outside the lungs", against the generator's geometry (PhantomLungCheck).
    private func checkPhantomLungs(reportsURL: URL, outURL: URL) throws {
        let truthData = try Data(contentsOf: URL(fileURLWithPath: truth))
        guard let phantomTruth = try? JSONDecoder().decode(PhantomTruth.self, from: truthData) else {
            FileHandle.standardError.write(Data("error: --phantom-lungs: \(truth) is not a truth file written by `triage phantom`\n".utf8))
            throw ExitCode(2)
        }
        var centers: [String: [SIMD3<Double>]] = [:]
        for report in try StudyReportCollector.collect(directory: reportsURL).reports {
            centers[report.seriesInstanceUID, default: []] += report.findings.map(\.centerMM)
        }
        let result = PhantomLungCheck.check(truth: phantomTruth, findings: centers, marginMM: lungMarginMM)
        let worst = result.outside.map(\.distanceOutsideMM).max()
        let outside: [[String: Any]] = result.outside.map {
            ["case_id": $0.caseID, "center_mm": [$0.centerMM.x, $0.centerMM.y, $0.centerMM.z],
             "distance_outside_mm": $0.distanceOutsideMM.isFinite ? $0.distanceOutsideMM : -1]
        }
        let document: [String: Any] = ["findings_checked": result.checked, "margin_mm": lungMarginMM,
                                       "findings_outside": outside, "cases_not_checked": result.skippedCases]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        let url = outURL.appendingPathComponent("lung-check.json")
        try EvaluationOutput.writeAtomically(data, to: url)
        print("Findings outside the phantom's lungs (margin \(lungMarginMM) mm): \(result.outside.count) of \(result.checked)"
              + (worst.map { $0.isFinite ? String(format: ", worst %.1f mm outside", $0) : ", one beyond the lungs' height" } ?? "")
              + (result.skippedCases.isEmpty ? "" : "; \(result.skippedCases.count) case(s) not of this truth file's seed, not checked"))
        for o in result.outside.prefix(20) {
            print(String(format: "  %@ at (%.1f, %.1f, %.1f) mm, %.1f mm outside", o.caseID, o.centerMM.x, o.centerMM.y,
                         o.centerMM.z, o.distanceOutsideMM))
        }
        print("wrote \(url.path)")
    }
}
