import ArgumentParser
import Detection
import Foundation
import Phantoms
import Volumes

/// `triage train-prior`: learns the order of the detector's faint candidates
/// (`FaintCandidatePrior`) from the dot filter's faint maxima in phantom folders made with
/// TRAINING seeds (the evaluation seeds 9000-9099 are refused), and writes it as JSON. No
/// prior is bundled (it gained one nodule of 106 on held-out training seeds, docs/detection.md
/// "The learned faint order"), so scripts/train_detector.sh does not run it; a prior put in
/// Sources/Detection/Model/ chooses the candidates `triage train` then learns from.
///
///     triage train-prior --from /tmp/triage-training/train1100 --from /tmp/triage-training/train1101
///     triage train-prior --from ... --holdout-seeds 1103,1104 --out /tmp/prior.json
struct TrainPriorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-prior",
        abstract: "Learn the order of the detector's faint candidates from training-seed phantoms.",
        discussion: """
            Every faint maximum of the dot filter (smoothed centre below faint_candidate_hu) of \
            every scan is labelled by whether it lies within a truth nodule's radius; boosted \
            trees learn the log-odds from its response, scale, smoothed HU, roundness and \
            tubularity. Prints, for the held-out seeds (or the training scans), how many nodules \
            the first --budget maxima reach in the learned order and in the hand-made one. \
            With --maxima-csv it also writes every faint maximum as a table, the training \
            material of scripts/train_faint_network.py. See docs/detection.md, "The learned \
            faint order" and "The faint network".
            """)

    @Option(name: .customLong("from"), parsing: .singleValue,
            help: "A phantom folder written by `triage phantom` with a training seed; repeatable.")
    var fromFolders: [String] = []
    @Option(name: .customLong("holdout-seeds"),
            help: "Fit without these seeds' scans (comma-separated) and compare the orders on them; needs --out.")
    var holdoutSeeds: String?
    @Option(name: .customLong("negative-stride"), help: "Keep every N-th negative maximum.") var negativeStride: Int = 8
    @Option(help: "Boosting rounds.") var rounds: Int = 200
    @Option(help: "Depth of each tree.") var depth: Int = 3
    @Option(help: "Faint maxima per scan the comparison counts (the detector's maximum_faint_candidates).")
    var budget: Int = 200
    @Option(help: "Detector settings as JSON (keys as in a pipeline's detect section).") var config: String?
    @Option(help: "Output JSON path (default Sources/Detection/Model/faint-prior-3d.json, where the detector looks for it).")
    var out: String?
    @Option(name: .customLong("maxima-csv"),
            help: "Also write every faint maximum of every scan (held-out ones too, negatives not thinned) as CSV: seed, case, LPS centre, features, hand-made rank, and the index of the truth nodule it lies in (-1: none). For training a next candidate stage outside Swift.")
    var maximaCSV: String?

    func run() throws {
        guard !fromFolders.isEmpty else { throw ValidationError("give the phantom folders with --from") }
        guard negativeStride >= 1, (1...5000).contains(rounds), (1...8).contains(depth), budget >= 1 else {
            throw ValidationError("--negative-stride >= 1, --rounds 1-5000, --depth 1-8, --budget >= 1")
        }
        let heldOutSeeds = try holdoutSeeds.map { try TrainCommand.seedList($0, option: "--holdout-seeds") }
        // A prior fitted without some seeds is not the committed one: it must not replace it by default.
        guard heldOutSeeds == nil || out != nil else { throw ValidationError("--holdout-seeds needs --out") }
        var configuration = DetectorConfiguration()
        if let path = config {
            configuration = try JSONDecoder().decode(DetectorConfiguration.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        }
        let detector = NoduleDetector(configuration: configuration, model: .prior)
        var set = FaintPriorTrainingSet(negativeStride: negativeStride)
        // Scans the orders are compared on: the held-out ones, or (without) the training ones.
        var comparison: [(maxima: [FaintMaximum], truth: [TruthNodule])] = []
        var trainingSeeds: [UInt64] = []
        var generators: Set<String> = []
        let started = Date()
        let maximaTable = try maximaCSV.map { try FaintMaximaTable(path: $0) }
        _ = try TrainCommand.forEachScan(inFolders: fromFolders) { truthFile, entry, volume in
            let maxima = try detector.faintMaxima(in: volume)
            let truth = TrainCommand.truthNodules(entry)
            try maximaTable?.append(maxima, truth: truth, seed: truthFile.seed, caseID: entry.caseID)
            let heldOut = heldOutSeeds?.contains(truthFile.seed) ?? false
            if heldOut || heldOutSeeds == nil { comparison.append((maxima, truth)) }
            if !heldOut {
                set.add(maxima, truth: truth)
                generators.insert(truthFile.generator)
                if trainingSeeds.last != truthFile.seed { trainingSeeds.append(truthFile.seed) }
            }
            print("seed \(truthFile.seed) \(entry.caseID): \(maxima.count) faint maxima, \(truth.count) nodules"
                  + (heldOut ? " (held out)" : ", \(set.positives) positive maxima so far"))
        }
        if let table = maximaTable { try table.finish(); print("wrote \(table.path)") }
        guard set.positives > 0, set.positives < set.features.count else {
            throw ValidationError("need both positive and negative maxima (got \(set.positives) of \(set.features.count))")
        }
        var parameters = BoostedTrees.Parameters()
        parameters.rounds = rounds
        parameters.maximumDepth = depth
        let training = [
            "command": "triage train-prior --rounds \(rounds) --depth \(depth) --negative-stride \(negativeStride) "
                + trainingSeeds.map { "--from <phantom seed \($0)>" }.joined(separator: " "),
            "seeds": trainingSeeds.map(String.init).joined(separator: ","),
            "scans": "\(set.scans)",
            "faint_maxima": "\(set.maximaSeen)",
            "positives": "\(set.positives)",
            "rows": "\(set.features.count)",
            "generator": generators.sorted().joined(separator: ","),
        ]
        let prior = FaintCandidatePrior.fit(set, parameters: parameters, training: training)
        print(String(format: "fitted on %d maxima (%d positive, every %d-th of %d negatives) of %d scans in %.0f s",
                     set.features.count, set.positives, negativeStride, set.maximaSeen - set.positives, set.scans,
                     Date().timeIntervalSince(started)))
        let outPath = out ?? "Sources/Detection/Model/\(FaintCandidatePrior.bundledFileName)"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let url = URL(fileURLWithPath: outPath)
        let tmp = url.deletingLastPathComponent().appendingPathComponent("." + url.lastPathComponent + ".tmp")
        try encoder.encode(prior).write(to: tmp)
        _ = try? FileManager.default.removeItem(at: url)
        try FileManager.default.moveItem(at: tmp, to: url)
        print("wrote \(outPath)")
        print(Self.compare(prior: prior, on: comparison, budget: budget, heldOut: heldOutSeeds != nil))
    }

    /// How many nodules (all; ground glass and part-solid; solid) the first `budget` maxima
    /// of each scan reach, in the hand-made order and in the prior's.
    static func compare(prior: FaintCandidatePrior, on scans: [(maxima: [FaintMaximum], truth: [TruthNodule])],
                        budget: Int, heldOut: Bool) -> String {
        var handMade = [0, 0, 0], learned = [0, 0, 0], total = [0, 0, 0]
        for (maxima, truth) in scans {
            let a = FaintPriorTrainingSet.nodulesReached(by: maxima.map(\.huMassRank), maxima: maxima, truth: truth,
                                                         budget: budget)
            let b = FaintPriorTrainingSet.nodulesReached(by: maxima.map { prior.margin($0.features) }, maxima: maxima,
                                                         truth: truth, budget: budget)
            for (k, t) in truth.enumerated() {
                let group = t.type == .solid ? 2 : 1
                for g in [0, group] {
                    total[g] += 1
                    if a[k] { handMade[g] += 1 }
                    if b[k] { learned[g] += 1 }
                }
            }
        }
        let names = ["all nodules", "ground glass and part-solid", "solid"]
        var lines = ["\(heldOut ? "held-out" : "training") scans (\(scans.count)): nodules with a faint maximum "
                     + "among the first \(budget) of the scan (no suppression), hand-made order -> learned order"]
        for g in 0..<3 { lines.append("  \(names[g]): \(handMade[g]) -> \(learned[g]) of \(total[g])") }
        return lines.joined(separator: "\n")
    }
}

/// The faint maxima of `triage train-prior --maxima-csv` (`FaintMaximum.tableRows`), scan by
/// scan, written to a temporary name and renamed when complete (a run stopped midway leaves
/// no half table).
final class FaintMaximaTable {
    let path: String
    private let temporaryURL: URL
    private let handle: FileHandle

    init(path: String) throws {
        self.path = path
        let url = URL(fileURLWithPath: path)
        temporaryURL = url.deletingLastPathComponent().appendingPathComponent("." + url.lastPathComponent + ".tmp")
        guard FileManager.default.createFile(atPath: temporaryURL.path, contents: nil) else {
            throw ValidationError("--maxima-csv: cannot write \(path) (its folder must exist and be writable)")
        }
        handle = try FileHandle(forWritingTo: temporaryURL)
        try handle.write(contentsOf: Data((FaintMaximum.tableHeader + "\n").utf8))
    }

    func append(_ maxima: [FaintMaximum], truth: [TruthNodule], seed: UInt64, caseID: String) throws {
        try handle.write(contentsOf: Data(FaintMaximum.tableRows(maxima, truth: truth, seed: seed, caseID: caseID).utf8))
    }

    func finish() throws {
        try handle.close()
        let url = URL(fileURLWithPath: path)
        _ = try? FileManager.default.removeItem(at: url)
        try FileManager.default.moveItem(at: temporaryURL, to: url)
    }
}
