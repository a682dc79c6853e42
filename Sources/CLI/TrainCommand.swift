import ArgumentParser
import Detection
// Only the FROC: Evaluation has a TruthNodule of its own.
import struct Evaluation.FROCCandidates
import struct Evaluation.FROCCurve
import Foundation
import Phantoms
import SeriesInput
import Volumes

/// `triage train`: fits the detector's false-positive model on phantom scans rendered in
/// memory from TRAINING seeds (1000-1999 by default; the evaluation seeds 9000-9099 are
/// refused), and writes the parameters as JSON. scripts/train_detector.sh calls it with the
/// committed settings, so the model in Sources/Detection/Model/ can be reproduced.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the detector's false-positive model on training-seed phantoms.",
        discussion: "Seeds 9000-9099 are evaluation seeds and are refused. See docs/detection.md.")

    @Option(help: "First training seed.") var seed: UInt64 = 1000
    @Option(help: "Number of seeds (seed, seed+1, ...).") var seeds: Int = 2
    @Option(help: "Cases per seed.") var cases: Int = 6
    @Option(help: "Matrix size of the training phantoms.") var size: Int = 512
    @Option(help: "Slices per training phantom.") var slices: Int = 120
    @Option(name: .customLong("mode"), help: "3d, or 2d (axial slices through nodules and random levels).")
    var mode: String = "3d"
    @Option(name: .customLong("l2"), help: "L2 regularisation strength.") var l2: Double = 1.0
    @Option(help: "Classifier: trees (gradient-boosted trees) or logistic.") var classifier: String = "trees"
    @Option(help: "Detector settings as JSON (keys as in a pipeline's detect section) for collecting candidates.")
    var config: String?
    @Option(help: "Boosting rounds (trees).") var rounds: Int = 300
    @Option(help: "Depth of each tree.") var depth: Int = 3
    @Option(name: .customLong("learning-rate"), help: "The trees' learning rate (shrinkage).") var learningRate: Double = 0.08
    @Option(name: .customLong("leaf-l2"), help: "The trees' L2 penalty on leaf outputs.") var leafL2: Double = 2.0
    @Option(name: .customLong("min-child-weight"), help: "The trees' smallest sum of hessians in a leaf.")
    var minimumChildWeight: Double = 1.0
    @Option(help: "Output JSON path (default Sources/Detection/Model/fp-model-3d.json, the committed model).")
    var out: String?
    @Option(name: .customLong("holdout-seeds"),
            help: "Fit without these seeds' scans (comma-separated) and print the model's candidate-level FROC on them; needs --out.")
    var holdoutSeeds: String?
    @Option(name: .customLong("cross-validate"),
            help: "Fit K times, each without one fold of seeds (dealt round-robin), and print the out-of-fold candidate-level FROC; writes no model.")
    var crossValidateFolds: Int?
    @Option(name: .customLong("features-csv"),
            help: "Also write the labelled candidates as CSV here (and their scans beside it, NAME.scans.csv), to refit with --features-from.")
    var featuresCSV: String?
    @Option(name: .customLong("features-from"), parsing: .singleValue,
            help: "Train on candidates collected earlier with the same --mode (a --features-csv table and its .scans.csv) instead of reading the scans again; repeatable, joined in the order given; --from folders are added after them.")
    var featuresFrom: [String] = []
    @Option(name: .customLong("table-seeds"),
            help: "With --features-from: only the table's scans made with these seeds (comma-separated), in the table's order.")
    var tableSeeds: String?
    @Option(name: .customLong("from"), parsing: .singleValue,
            help: "Train on phantom folders already written by `triage phantom` (their truth.json) instead of rendering in memory; repeatable.")
    var fromFolders: [String] = []

    func run() throws {
        guard mode == "3d" || mode == "2d" else { throw ValidationError("--mode must be 3d or 2d") }
        guard classifier == "trees" || classifier == "logistic" else { throw ValidationError("--classifier must be trees or logistic") }
        guard (1...5000).contains(rounds), (1...8).contains(depth) else { throw ValidationError("--rounds 1-5000, --depth 1-8") }
        guard learningRate > 0, learningRate <= 1, leafL2 >= 0, minimumChildWeight >= 0 else {
            throw ValidationError("--learning-rate in (0, 1], --leaf-l2 and --min-child-weight >= 0")
        }
        let heldOutSeeds = try holdoutSeeds.map { try Self.seedList($0, option: "--holdout-seeds") }
        // A model fitted without some seeds is not the committed one: it must not replace it by default.
        guard heldOutSeeds == nil || out != nil else { throw ValidationError("--holdout-seeds needs --out") }
        guard heldOutSeeds == nil || featuresCSV == nil else { throw ValidationError("--holdout-seeds and --features-csv exclude each other") }
        if let k = crossValidateFolds {
            guard k >= 2 else { throw ValidationError("--cross-validate needs at least 2 folds") }
            guard heldOutSeeds == nil, featuresCSV == nil, out == nil else {
                throw ValidationError("--cross-validate writes nothing: no --holdout-seeds, --features-csv or --out")
            }
        }
        let outPath = out ?? "Sources/Detection/Model/fp-model-3d.json"
        let seedRange = seed..<(seed + UInt64(max(0, seeds)))
        guard !seedRange.contains(where: { (9000...9099).contains($0) }) else {
            throw ValidationError("seeds 9000-9099 are evaluation seeds; train on 1000-1999")
        }
        var options = PhantomOptions()
        options.size = size
        options.slices = slices
        try options.validate()
        // Candidates are collected with the untrained prior so training never depends on
        // an earlier model; scores are not used, only features.
        var configuration = DetectorConfiguration()
        if let path = config {
            configuration = try JSONDecoder().decode(DetectorConfiguration.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        }
        configuration.minimumScore = 0
        let detector = NoduleDetector(configuration: configuration, model: .prior)
        var set = TrainingSet()
        let started = Date()
        // Either phantom folders on disk (--from) or phantoms rendered here from the seeds.
        var generators: Set<String> = []
        var fromSeeds: [UInt64] = []
        for table in featuresFrom {
            let part = try Self.readTable(table, seeds: tableSeeds)
            set.append(contentsOf: part)
            print("\(part.scans) scans and \(part.features.count) candidates from \(table)")
        }
        for scan in set.scanRecords where fromSeeds.last != scan.source.seed { fromSeeds.append(scan.source.seed) }
        generators.formUnion(set.scanRecords.map(\.source.generator))
        if featuresFrom.isEmpty && tableSeeds != nil { throw ValidationError("--table-seeds needs --features-from") }
        fromSeeds += try collect(fromFolders: fromFolders, detector: detector, into: &set, generators: &generators)
        let fromDisk = !fromSeeds.isEmpty || !featuresFrom.isEmpty
        let renderSeeds = fromDisk ? seed..<seed : seedRange
        for s in renderSeeds {
            let generator = PhantomGenerator(options: options, seed: s)
            for i in 0..<cases {
                let (phantom, volume) = generator.render(case: i)
                let entry = PhantomTruth.entry(for: phantom, folder: phantom.caseID, format: "dicom")
                let truth = Self.truthNodules(entry)
                let source = TrainingScan.Source(seed: s, generator: PhantomGenerator.generatorName(for: options), caseID: phantom.caseID)
                try addCandidates(of: volume, truth: truth, source: source, detector: detector, to: &set)
                print("seed \(s) \(phantom.caseID): \(truth.count) nodules, \(set.features.count) candidates so far, "
                      + "\(set.positives) positive, \(set.truthWithCandidate)/\(set.truthCount) nodules with a candidate")
            }
        }
        var parameters = BoostedTrees.Parameters()
        parameters.rounds = rounds
        parameters.maximumDepth = depth
        parameters.learningRate = learningRate
        parameters.l2 = leafL2
        parameters.minimumChildWeight = minimumChildWeight
        if let k = crossValidateFolds {
            try crossValidate(set, folds: k, parameters: parameters)
            return
        }
        var heldOut: TrainingSet?
        if let heldOutSeeds {
            let parts = set.split(holdingOut: heldOutSeeds)
            guard parts.heldOut.scans > 0 else { throw ValidationError("--holdout-seeds: no scan made with those seeds") }
            set = parts.training
            heldOut = parts.heldOut
            fromSeeds.removeAll { heldOutSeeds.contains($0) }
            print("holding out \(parts.heldOut.scans) scans (\(parts.heldOut.features.count) candidates) of seeds "
                  + heldOutSeeds.sorted().map(String.init).joined(separator: ","))
        }
        guard set.positives > 0, set.positives < set.features.count else {
            throw ValidationError("need both positive and negative candidates (got \(set.positives) of \(set.features.count))")
        }
        let command = !fromDisk
            ? "triage train --seed \(seed) --seeds \(seeds) --cases \(cases) --size \(size) --slices \(slices) --mode \(mode) --l2 \(l2) --classifier \(classifier) --rounds \(rounds) --depth \(depth)"
            : "triage train --mode \(mode) --l2 \(l2) --classifier \(classifier) --rounds \(rounds) --depth \(depth) "
              + fromSeeds.map { "--from <phantom seed \($0)>" }.joined(separator: " ")
        // Tree settings other than the defaults are part of the command that reproduces the model.
        let defaults = BoostedTrees.Parameters()
        let treeSettings = [("--learning-rate", learningRate, defaults.learningRate), ("--leaf-l2", leafL2, defaults.l2),
                            ("--min-child-weight", minimumChildWeight, defaults.minimumChildWeight)]
            .filter { $0.1 != $0.2 }.map { " \($0.0) \($0.1)" }.joined()
        let recordedCommand = command + treeSettings
        var training: [String: String] = [
            "command": recordedCommand,
            "seeds": !fromDisk ? "\(seedRange.lowerBound)-\(seedRange.upperBound - 1)"
                : fromSeeds.map(String.init).joined(separator: ","),
            "scans": "\(set.scans)",
            "candidates": "\(set.features.count)",
            "positives": "\(set.positives)",
            "truth_nodules": "\(set.truthCount)",
            "truth_nodules_with_candidate": "\(set.truthWithCandidate)",
            // The phantom folders' generators (revision 3 or 4), or the one rendered here.
            "generator": !fromDisk ? PhantomGenerator.generatorName(for: options)
                : generators.sorted().joined(separator: ","),
        ]
        if let heldOutSeeds { training["held_out_seeds"] = heldOutSeeds.sorted().map(String.init).joined(separator: ",") }
        let model = classifier == "trees"
            ? FalsePositiveModel.fitBoostedTrees(features: set.features, labels: set.labels, mode: mode, l2: l2,
                                                 parameters: parameters, training: training)
            : FalsePositiveModel.fit(features: set.features, labels: set.labels, mode: mode, l2: l2, training: training)
        // Training-set log loss and how well the model separates (for the record only).
        var loss = 0.0
        for (f, y) in zip(set.features, set.labels) {
            let p = min(1 - 1e-9, max(1e-9, model.score(f)))
            loss -= y * log(p) + (1 - y) * log(1 - p)
        }
        print(String(format: "fitted on %d candidates (%d positive) in %.0f s; training log loss %.4f",
                     set.features.count, set.positives, Date().timeIntervalSince(started), loss / Double(set.features.count)))
        for (name, w) in zip(FalsePositiveModel.featureNames, model.weights) { print(String(format: "  %-26@ %+.3f", name as NSString, w)) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]   // compact: 300 trees pretty-printed are 600 kB
        let url = URL(fileURLWithPath: outPath)
        let tmp = url.deletingLastPathComponent().appendingPathComponent("." + url.lastPathComponent + ".tmp")
        try encoder.encode(model).write(to: tmp)
        _ = try? FileManager.default.removeItem(at: url)
        try FileManager.default.moveItem(at: tmp, to: url)
        print("wrote \(outPath)")
        if let heldOut {
            print(Self.describe(scores: heldOut.features.map { model.score($0) }, set: heldOut))
        }
        if let csv = featuresCSV {
            try set.candidateTable(featureNames: FalsePositiveModel.featureNames)
                .write(toFile: csv, atomically: true, encoding: .utf8)
            try set.scanTable().write(toFile: TrainingSet.scanTablePath(besideCandidateTable: csv), atomically: true, encoding: .utf8)
        }
    }

    /// `--cross-validate`: one line per fold and one for the out-of-fold scores of all folds.
    func crossValidate(_ set: TrainingSet, folds count: Int, parameters: BoostedTrees.Parameters) throws {
        let folds = SeedCrossValidation.folds(of: set, count: count)
        guard folds.count >= 2 else { throw ValidationError("--cross-validate needs scans of at least 2 seeds") }
        let scores = SeedCrossValidation.outOfFoldScores(set, folds: folds) { part in
            let model = classifier == "trees"
                ? FalsePositiveModel.fitBoostedTrees(features: part.features, labels: part.labels, mode: mode, l2: l2,
                                                     parameters: parameters, training: [:])
                : FalsePositiveModel.fit(features: part.features, labels: part.labels, mode: mode, l2: l2, training: [:])
            return model.score
        }
        for fold in folds {
            let heldOut = set.split(holdingOut: fold).heldOut
            let foldScores = set.features.indices.filter { fold.contains(set.scanRecords[set.scanIndex[$0]].source.seed) }.map { scores[$0] }
            print("fold " + fold.sorted().map(String.init).joined(separator: ",") + ":")
            print(Self.describe(scores: foldScores, set: heldOut))
        }
        print("all \(folds.count) folds (out-of-fold scores):")
        print(Self.describe(scores: scores, set: set))
    }

    /// A comma-separated list of seeds.
    static func seedList(_ list: String, option: String) throws -> Set<UInt64> {
        let parsed = list.split(separator: ",").map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        guard !parsed.isEmpty, !parsed.contains(nil) else { throw ValidationError("\(option): a comma-separated list of seeds") }
        return Set(parsed.compactMap { $0 })
    }

    /// The held-out figures, one line each: the trees alone on the labelled candidates,
    /// counted as `triage evaluate` counts reports (LUNA16; Setio et al., Med. Image Anal. 42,
    /// 2017; docs/detection.md, "Judging a refit on training seeds alone").
    static func describe(scores: [Double], set: TrainingSet, actionableScore: Double = 0.5) -> String {
        let curve = FROCCandidates(scores: scores, scanOfCandidate: set.scanIndex, noduleOfCandidate: set.candidateNodules,
                                   nodulesPerScan: set.nodulesPerScan).curve()
        // A held-out part without nodules has no sensitivity (NaN in the curve): printed as 0.
        // (Typed locals: inside String(format:)'s CVarArg list, `c ? x : 0` passes the Int 0.)
        let hasNodules = set.truthCount > 0
        let rates = FROCCurve.luna16Rates.map { rate -> String in
            let sensitivity: Double = hasNodules ? curve.sensitivity(atFalsePositivesPerScan: rate) : 0
            return String(format: "%g:%.3f", rate, sensitivity)
        }.joined(separator: " ")
        let cpm: Double = hasNodules ? curve.cpm : 0
        let actionable = curve.point(atScore: actionableScore)
        let found = hasNodules ? Int((actionable.sensitivity * Double(set.truthCount)).rounded()) : 0
        let falsePositives = Int((actionable.falsePositivesPerScan * Double(set.scans)).rounded())
        return String(format: "held out: %d scans, %d nodules (%d with a candidate); candidate-level CPM %.3f", set.scans,
                      set.truthCount, set.truthWithCandidate, cpm) + " (\(rates))\n"
            + String(format: "held out at score >= %.2f: %d false positives (%.2f per scan), %d of %d nodules found",
                     actionableScore, falsePositives, actionable.falsePositivesPerScan, found, set.truthCount)
    }

    /// The training set of an earlier `--features-csv`, optionally only some seeds' scans.
    static func readTable(_ path: String, seeds list: String?) throws -> TrainingSet {
        let seeds = try list.map { try seedList($0, option: "--table-seeds") }
        let scansPath = TrainingSet.scanTablePath(besideCandidateTable: path)
        for file in [path, scansPath] where !FileManager.default.isReadableFile(atPath: file) {
            throw ValidationError("\(file): no such readable file (--features-from needs the table and its .scans.csv)")
        }
        do {
            let set = try TrainingSet(candidateTable: String(contentsOfFile: path, encoding: .utf8),
                                      scanTable: String(contentsOfFile: scansPath, encoding: .utf8),
                                      featureNames: FalsePositiveModel.featureNames, keepingSeeds: seeds)
            guard !set.scanRecords.contains(where: { (9000...9099).contains($0.source.seed) }) else {
                throw ValidationError("\(path) holds scans made with evaluation seeds 9000-9099; train on 1000-1999")
            }
            return set
        } catch let error as TrainingTableError {
            throw ValidationError("\(path): \(error)")
        }
    }

    /// One scan's labelled candidates: the whole volume in 3D; in 2D the axial slices
    /// through its nodules (`trainingSlices`).
    func addCandidates(of volume: Volume, truth: [TruthNodule], source: TrainingScan.Source, detector: NoduleDetector,
                       to set: inout TrainingSet) throws {
        if mode == "3d" {
            let (candidates, _) = try detector.detectCandidates(in: volume)
            set.add(candidates: candidates, truth: truth, source: source)
            return
        }
        for (slice, truthInSlice) in Self.trainingSlices(volume: volume, truth: truth) {
            // A slice near the apex or base may hold too little lung for the 2D lung mask;
            // the detector reports nothing there, so skip it.
            guard let (candidates, _) = try? detector.detectCandidates(in: slice) else { continue }
            set.add(candidates: candidates, truth: truthInSlice, source: source)
        }
    }

    static func truthNodules(_ entry: PhantomTruth.Case) -> [TruthNodule] {
        entry.nodules.map {
            TruthNodule(centerMM: SIMD3($0.centerMM[0], $0.centerMM[1], $0.centerMM[2]), diameterMM: $0.diameterMM,
                        type: NoduleType(rawValue: $0.type))
        }
    }

    /// Candidates of every case in phantom folders on disk (read back through the DICOM
    /// reader, as the product reads scans). Refuses folders made with evaluation seeds.
    /// Returns the folders' seeds, for the model's training record.
    func collect(fromFolders folders: [String], detector: NoduleDetector, into set: inout TrainingSet,
                 generators: inout Set<String>) throws -> [UInt64] {
        try Self.forEachScan(inFolders: folders) { truthFile, entry, volume in
            generators.insert(truthFile.generator)
            let truth = Self.truthNodules(entry)
            let before = set.truthWithCandidate
            let source = TrainingScan.Source(seed: truthFile.seed, generator: truthFile.generator, caseID: entry.caseID)
            try addCandidates(of: volume, truth: truth, source: source, detector: detector, to: &set)
            print("seed \(truthFile.seed) \(entry.caseID): \(truth.count) nodules (\(set.truthWithCandidate - before) with a candidate), "
                  + "\(set.features.count) candidates so far, \(set.positives) positive, "
                  + "\(set.truthWithCandidate)/\(set.truthCount) nodules with a candidate")
            for (k, n) in entry.nodules.enumerated() where mode == "3d" && !set.lastScanHits[k] {
                print(String(format: "  missed %@: %.1f mm %@ %@ %@", n.id, n.diameterMM, n.type, n.shape, n.location))
            }
        }
    }

    /// Reads every DICOM case of phantom folders written by `triage phantom` (through the
    /// product's reader) and hands it to `body` with its truth. Refuses folders made with the
    /// evaluation seeds. Returns the folders' seeds, in order.
    static func forEachScan(inFolders folders: [String],
                            _ body: (PhantomTruth, PhantomTruth.Case, Volume) throws -> Void) throws -> [UInt64] {
        var seeds: [UInt64] = []
        for folder in folders {
            let root = URL(fileURLWithPath: folder)
            let truthURL = root.appendingPathComponent("truth.json")
            let truthFile: PhantomTruth
            do {
                truthFile = try JSONDecoder().decode(PhantomTruth.self, from: Data(contentsOf: truthURL))
            } catch {
                let reason = error is DecodingError ? "not a phantom truth file (\(error))" : "cannot be read"
                throw ValidationError("\(truthURL.path): \(reason); --from takes a folder written by `triage phantom`")
            }
            guard !(9000...9099).contains(truthFile.seed) else {
                throw ValidationError("\(folder) was made with evaluation seed \(truthFile.seed); train on 1000-1999")
            }
            seeds.append(truthFile.seed)
            for entry in truthFile.cases where entry.format == "dicom" {
                let discovery = SeriesDiscovery.discover(paths: [root.appendingPathComponent(entry.folder)])
                guard let descriptor = discovery.series.first(where: { $0.identity.seriesInstanceUID == entry.seriesInstanceUID })
                else { throw ValidationError("\(folder)/\(entry.folder): series \(entry.caseID) not found") }
                try body(truthFile, entry, try descriptor.load().volume)
            }
        }
        return seeds
    }

    /// 2D training material: the axial slice through each nodule's centre, and (for scans
    /// without nodules) the middle slice; truth restricted to nodules cut by that slice.
    static func trainingSlices(volume: Volume, truth: [TruthNodule]) -> [(Volume, [TruthNodule])] {
        var levels: [Int] = []
        for t in truth {
            if let v = volume.affine.voxelIndex(ofPatientPosition: t.centerMM) {
                let k = Int(v.z.rounded())
                if k >= 0 && k < volume.slices { levels.append(k) }
            }
        }
        if levels.isEmpty { levels = [volume.slices / 2] }
        return levels.map { k in
            let plane = volume.columns * volume.rows
            let voxels = Array(volume.voxels[(k * plane)..<((k + 1) * plane)])
            var affine = volume.affine
            affine.origin = volume.affine.patientPosition(column: 0, row: 0, slice: Double(k))
            let slice = Volume(columns: volume.columns, rows: volume.rows, slices: 1, voxels: voxels,
                                       spacing: volume.spacing, affine: affine)
            let inSlice = truth.compactMap { t -> TruthNodule? in
                let dz = abs(t.centerMM.z - affine.origin.z)
                guard dz < t.diameterMM / 2 else { return nil }
                // The cross-section the slice shows.
                let r = (t.diameterMM * t.diameterMM / 4 - dz * dz).squareRoot()
                return TruthNodule(centerMM: SIMD3(t.centerMM.x, t.centerMM.y, affine.origin.z), diameterMM: 2 * r, type: t.type)
            }
            return (slice, inSlice)
        }
    }
}
