import ArgumentParser
import Detection
import Foundation
import Phantoms
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
    @Option(help: "Output JSON path.") var out: String = "Sources/Detection/Model/fp-model-3d.json"
    @Option(name: .customLong("features-csv"), help: "Also write the labelled features as CSV here.")
    var featuresCSV: String?

    func run() throws {
        guard mode == "3d" || mode == "2d" else { throw ValidationError("--mode must be 3d or 2d") }
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
        var config = DetectorConfiguration()
        config.minimumScore = 0
        let detector = NoduleDetector(configuration: config, model: .prior)
        var set = TrainingSet()
        let started = Date()
        for s in seedRange {
            let generator = PhantomGenerator(options: options, seed: s)
            for i in 0..<cases {
                let (phantom, volume) = generator.render(case: i)
                let entry = PhantomTruth.entry(for: phantom, folder: phantom.caseID, format: "dicom")
                let truth = entry.nodules.map {
                    TruthNodule(centerMM: SIMD3($0.centerMM[0], $0.centerMM[1], $0.centerMM[2]), diameterMM: $0.diameterMM,
                                type: NoduleType(rawValue: $0.type))
                }
                if mode == "3d" {
                    let (candidates, _) = try detector.detectCandidates(in: volume)
                    set.add(candidates: candidates, truth: truth)
                } else {
                    for (slice, truthInSlice) in Self.trainingSlices(volume: volume, truth: truth) {
                        let (candidates, _) = try detector.detectCandidates(in: slice)
                        set.add(candidates: candidates, truth: truthInSlice)
                    }
                }
                print("seed \(s) \(phantom.caseID): \(truth.count) nodules, \(set.features.count) candidates so far, "
                      + "\(set.positives) positive, \(set.truthWithCandidate)/\(set.truthCount) nodules with a candidate")
            }
        }
        guard set.positives > 0, set.positives < set.features.count else {
            throw ValidationError("need both positive and negative candidates (got \(set.positives) of \(set.features.count))")
        }
        let training: [String: String] = [
            "command": "triage train --seed \(seed) --seeds \(seeds) --cases \(cases) --size \(size) --slices \(slices) --mode \(mode) --l2 \(l2)",
            "seeds": "\(seedRange.lowerBound)-\(seedRange.upperBound - 1)",
            "scans": "\(set.scans)",
            "candidates": "\(set.features.count)",
            "positives": "\(set.positives)",
            "truth_nodules": "\(set.truthCount)",
            "truth_nodules_with_candidate": "\(set.truthWithCandidate)",
            "generator": PhantomGenerator.generatorName,
        ]
        let model = FalsePositiveModel.fit(features: set.features, labels: set.labels, mode: mode, l2: l2, training: training)
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
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let url = URL(fileURLWithPath: out)
        let tmp = url.deletingLastPathComponent().appendingPathComponent("." + url.lastPathComponent + ".tmp")
        try encoder.encode(model).write(to: tmp)
        _ = try? FileManager.default.removeItem(at: url)
        try FileManager.default.moveItem(at: tmp, to: url)
        print("wrote \(out)")
        if let csv = featuresCSV {
            var text = (FalsePositiveModel.featureNames + ["label"]).joined(separator: ",") + "\n"
            for (f, y) in zip(set.features, set.labels) {
                text += (f + [y]).map { String(format: "%.6g", $0) }.joined(separator: ",") + "\n"
            }
            try text.write(toFile: csv, atomically: true, encoding: .utf8)
        }
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
