import Foundation

/// Where each maximum of the dot filter ended in one detection: the detector's funnel
/// (maxima -> selection -> measurement -> the location rules -> score -> report), one entry
/// per maximum. A nodule without a finding was lost at one of these steps, and each step
/// needs a different fix (docs/detection.md, "Where the missed nodules are lost");
/// `triage detect --trace-candidates` writes it as CSV and `scripts/candidate_funnel.py`
/// matches it to a truth file.
public struct CandidateTrace: Sendable {
    /// The step at which a maximum left the funnel, in funnel order.
    public enum Fate: String, Sendable, CaseIterable {
        /// Not selected for measurement: within a stronger or kept candidate's radius or
        /// `minimumSeparationMM`, or beyond the candidate and faint quotas.
        case notSelected = "not_selected"
        /// Selected, but the segmentation found no region (`NoduleMeasurement.measure` nil).
        case notMeasured = "not_measured"
        /// Measured region centred outside the lung mask.
        case outsideLungMask = "outside_lung_mask"
        /// Centred on a hilar vessel or bronchus (not a bump on the mediastinal pleura).
        case hilarStructure = "hilar_structure"
        /// On or against a main bronchus's wall.
        case airwayWall = "airway_wall"
        /// Surrounded by tissue (a corner of the mediastinum the closing took in).
        case surroundedByTissue = "surrounded_by_tissue"
        /// A plate on the pleura (`DetectorConfiguration.pleuralPlateAxisRatio`).
        case pleuralPlate = "pleural_plate"
        /// Fat density (`DetectorConfiguration.fatDensityRule`).
        case fatDensity = "fat_density"
        /// Within the hilar or mediastinal margin and scored below
        /// `nearMediastinumMinimumScore`.
        case nearMediastinumLowScore = "near_mediastinum_low_score"
        /// Scored, but below the report threshold or smaller than `minimumDiameterMM`.
        case belowThreshold = "below_threshold"
        /// Above the threshold but not reported: a duplicate of a higher-scored finding, a
        /// second piece of one opacity, or beyond `maximumFindings`.
        case notReported = "not_reported"
        /// A reported finding.
        case reported
    }

    /// One dot-filter maximum and what became of it.
    public struct Entry: Sendable {
        /// The maximum's position (LPS, mm).
        public var positionMM: SIMD3<Double>
        /// Scale-normalised dot response (HU), scale (mm), roundness, tubularity and smoothed
        /// HU at the best scale (`BlobCandidate`).
        public var responseHU: Double
        public var sigmaMM: Double
        public var roundness: Double
        public var tubularity: Double
        public var smoothedHU: Double
        public var fate: Fate = .notSelected
        /// For measured candidates that reached the score: the score and the measured centre
        /// (LPS mm) and diameter (mm) the finding would have.
        public var score: Double? = nil
        public var centerMM: SIMD3<Double>? = nil
        public var diameterMM: Double? = nil
        public var type: NoduleType? = nil
    }

    public var entries: [Entry] = []

    public init(entries: [Entry] = []) { self.entries = entries }

    /// Marks the entries whose finding was reported: for each finding, one entry that reached
    /// the score with the finding's centre and score (two maxima measured alike give one
    /// finding); the other scored ones are below the threshold or not reported (duplicates,
    /// pieces of a reported opacity).
    mutating func markReported(_ findings: [Finding], minimumScore: Double, minimumDiameterMM: Double) {
        for f in findings {
            if let i = entries.firstIndex(where: { $0.fate == .belowThreshold && $0.score == f.score
                                                   && $0.centerMM == f.centerMM }) {
                entries[i].fate = .reported
            }
        }
        for i in entries.indices where entries[i].fate == .belowThreshold {
            if let score = entries[i].score, let diameter = entries[i].diameterMM,
               score >= minimumScore && diameter >= minimumDiameterMM {
                entries[i].fate = .notReported
            }
        }
    }

    /// Count of entries per fate.
    public var counts: [Fate: Int] {
        var c: [Fate: Int] = [:]
        for e in entries { c[e.fate, default: 0] += 1 }
        return c
    }

    /// CSV header of `csv()`.
    public static let csvHeader = "x_mm,y_mm,z_mm,response_hu,response_rank,sigma_mm,roundness,tubularity,smoothed_hu,"
        + "fate,score,center_x_mm,center_y_mm,center_z_mm,diameter_mm,type"

    /// One row per maximum, strongest response first (`response_rank` 1 is the strongest);
    /// the measured columns empty where the maximum did not reach the score.
    public func csv() -> String {
        let order = entries.indices.sorted { entries[$0].responseHU > entries[$1].responseHU || (entries[$0].responseHU == entries[$1].responseHU && $0 < $1) }
        var lines = [Self.csvHeader]
        lines.reserveCapacity(order.count + 1)
        func f(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }
        for (rank, i) in order.enumerated() {
            let e = entries[i]
            var row = [f(e.positionMM.x, 2), f(e.positionMM.y, 2), f(e.positionMM.z, 2), f(e.responseHU, 3),
                       String(rank + 1), f(e.sigmaMM, 2), f(e.roundness, 3), f(e.tubularity, 3), f(e.smoothedHU, 1),
                       e.fate.rawValue]
            row += [e.score.map { String(format: "%.6g", $0) } ?? "",
                    e.centerMM.map { f($0.x, 2) } ?? "", e.centerMM.map { f($0.y, 2) } ?? "",
                    e.centerMM.map { f($0.z, 2) } ?? "", e.diameterMM.map { f($0, 2) } ?? "", e.type?.rawValue ?? ""]
            lines.append(row.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Collects a `CandidateTrace` during one detection (the detector's steps call it serially).
final class CandidateTraceRecorder {
    var trace = CandidateTrace()
    /// Entry index of each candidate selected for measurement in the current slab (3D: the
    /// volume; 2D: one slice), in the order of the selection.
    var selectedEntries: [Int] = []

    /// Records a slab's maxima and which of them were selected (`selected` is a subset of
    /// `maxima`, as `BlobFilter.select` returns it).
    func record(maxima: [BlobCandidate], selected: [BlobCandidate], position: (BlobCandidate) -> SIMD3<Double>) {
        let base = trace.entries.count
        // Maxima are matched to the selection by identity of their values; a coarse scale's
        // faint maximum can repeat a maximum over scales, so each index is taken once.
        var open: [Key: [Int]] = [:]
        for (i, m) in maxima.enumerated() {
            open[Key(m), default: []].append(base + i)
            trace.entries.append(CandidateTrace.Entry(
                positionMM: position(m), responseHU: m.response, sigmaMM: m.sigmaMM, roundness: m.roundness,
                tubularity: m.tubularity, smoothedHU: m.smoothedHU))
        }
        selectedEntries = selected.map { s in
            let key = Key(s)
            guard var list = open[key], !list.isEmpty else {
                preconditionFailure("a selected candidate that is not one of the maxima")
            }
            let i = list.removeFirst()
            open[key] = list
            return i
        }
    }

    /// The fate of the `k`th selected candidate of the current slab.
    func set(_ k: Int, _ fate: CandidateTrace.Fate) { trace.entries[selectedEntries[k]].fate = fate }

    /// The `k`th selected candidate reached the score (`belowThreshold` until the report
    /// says otherwise, `CandidateTrace.markReported`).
    func scored(_ k: Int, score: Double, centerMM: SIMD3<Double>, diameterMM: Double, type: NoduleType) {
        let i = selectedEntries[k]
        trace.entries[i].fate = .belowThreshold
        trace.entries[i].score = score
        trace.entries[i].centerMM = centerMM
        trace.entries[i].diameterMM = diameterMM
        trace.entries[i].type = type
    }

    private struct Key: Hashable {
        var x: Double, y: Double, z: Double, sigma: Double, response: Double
        init(_ c: BlobCandidate) {
            x = c.gridPosition.x; y = c.gridPosition.y; z = c.gridPosition.z
            sigma = c.sigmaMM; response = c.response
        }
    }
}
