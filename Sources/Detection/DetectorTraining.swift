import Foundation

/// A nodule known to be in a training scan (from a phantom's truth.json).
public struct TruthNodule: Sendable, Equatable {
    public var centerMM: SIMD3<Double>
    public var diameterMM: Double
    public var type: NoduleType?

    public init(centerMM: SIMD3<Double>, diameterMM: Double, type: NoduleType? = nil) {
        self.centerMM = centerMM
        self.diameterMM = diameterMM
        self.type = type
    }

    /// Whether a training label taken at `p` (LPS, mm) hits this nodule: within its radius,
    /// at least 1.5 mm, as LUNA16 counts a hit.
    public func contains(_ p: SIMD3<Double>) -> Bool {
        let d = p - centerMM
        return (d * d).sum().squareRoot() <= max(1.5, diameterMM / 2)
    }
}

/// One training scan: which phantom it is and how many of its truth nodules had a candidate.
public struct TrainingScan: Sendable, Equatable {
    /// The phantom a scan was rendered from (seed, generator revision, case).
    public struct Source: Sendable, Equatable {
        public var seed: UInt64
        public var generator: String
        public var caseID: String

        public init(seed: UInt64 = 0, generator: String = "", caseID: String = "") {
            self.seed = seed
            self.generator = generator
            self.caseID = caseID
        }
    }

    public var source: Source
    public var nodules: Int
    public var nodulesWithCandidate: Int

    public init(source: Source, nodules: Int, nodulesWithCandidate: Int) {
        self.source = source
        self.nodules = nodules
        self.nodulesWithCandidate = nodulesWithCandidate
    }
}

/// Labelled candidate features collected from training scans.
public struct TrainingSet: Sendable {
    public var features: [[Double]] = []
    public var labels: [Double] = []
    /// Per candidate: the scan it came from (0-based) and the truth nodule it hits (index
    /// over all scans' nodules, -1 when none), for per-nodule analysis of a training set.
    public var scanIndex: [Int] = []
    public var noduleIndex: [Int] = []
    /// Per candidate: the centre its label was taken at (`add`), in patient coordinates (LPS,
    /// mm), to find it in the scan; the patch network's training cubes are centred there.
    public var centersMM: [SIMD3<Double>] = []
    /// Truth nodules seen and how many of them had at least one candidate.
    public var truthCount: Int { scanRecords.reduce(0) { $0 + $1.nodules } }
    public var truthWithCandidate: Int { scanRecords.reduce(0) { $0 + $1.nodulesWithCandidate } }
    public var scans: Int { scanRecords.count }
    /// Per scan: where it came from and how many of its nodules had a candidate, for the
    /// candidate table (`TrainingSet+Table.swift`) and the model's training record.
    public var scanRecords: [TrainingScan] = []
    /// Per truth nodule of the last scan added, whether a candidate hit it.
    public private(set) var lastScanHits: [Bool] = []

    public init() {}

    /// Adds one scan's candidates: a candidate is positive when its centre lies within the
    /// radius (at least 1.5 mm) of a truth nodule, as LUNA16 counts a hit. The centre is the
    /// whole segmented region's centroid (`DetectorCandidate.regionCentroidMM`), which the
    /// features describe and the committed models were trained with; the reported centre has
    /// been the nodule's body since 2026-12-06, and labels taken there gave a model that did
    /// worse on the development seeds (docs/detection.md, "Training").
    public mutating func add(candidates: [DetectorCandidate], truth: [TruthNodule],
                             source: TrainingScan.Source = TrainingScan.Source()) {
        let scan = scans, noduleOffset = truthCount
        var hit = [Bool](repeating: false, count: truth.count)
        for c in candidates {
            let center = c.regionCentroidMM ?? c.finding.centerMM
            var nodule = -1
            for (k, t) in truth.enumerated() where t.contains(center) { nodule = noduleOffset + k; hit[k] = true }
            features.append(c.features)
            labels.append(nodule >= 0 ? 1 : 0)
            scanIndex.append(scan)
            noduleIndex.append(nodule)
            centersMM.append(center)
        }
        lastScanHits = hit
        scanRecords.append(TrainingScan(source: source, nodules: truth.count, nodulesWithCandidate: hit.filter { $0 }.count))
    }

    public var positives: Int { labels.filter { $0 > 0.5 }.count }
}
