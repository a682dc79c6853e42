import ArgumentParser
import Evaluation
import Foundation

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

    @Flag(name: .long, help: "Print evaluation.json to stdout instead of the table.")
    var json = false

    func validate() throws {
        guard bootstrap >= 0 else { throw ValidationError("--bootstrap must be 0 or more") }
        guard operatingFps.isFinite, operatingFps > 0 else { throw ValidationError("--operating-fps must be positive") }
    }

    func run() throws {
        let reportsURL = URL(fileURLWithPath: reportsDir)
        let outURL = out.map { URL(fileURLWithPath: $0) } ?? reportsURL.appendingPathComponent("evaluation")
        let options = EvaluationOptions(bootstrapReplicates: bootstrap, seed: seed,
                                        operatingFalsePositivesPerScan: operatingFps)
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
    }
}
