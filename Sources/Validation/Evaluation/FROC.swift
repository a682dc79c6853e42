/// A free-response ROC curve: sensitivity against the average number of false positives per
/// scan as the score threshold sweeps from high to low.
///
/// The points are those of LUNA16's `computeFROC` (scikit-learn's `roc_curve` rescaled): one
/// point per distinct score, counting every candidate with score >= that score, plus the
/// starting point (0, 0) at threshold +infinity.
public struct FROCCurve: Sendable, Equatable {
    /// Average false positives per scan at each point (non-decreasing).
    public var falsePositivesPerScan: [Double]
    /// Sensitivity at each point (non-decreasing); NaN when there are no nodules.
    public var sensitivity: [Double]
    /// The score threshold of each point (`+infinity` for the starting point).
    public var thresholds: [Double]
    public var noduleCount: Int
    public var scanCount: Int

    /// The false-positive rates of the LUNA16 competition performance metric.
    public static let luna16Rates: [Double] = [0.125, 0.25, 0.5, 1, 2, 4, 8]

    /// Sensitivity at an average false-positive rate, interpolated exactly as LUNA16's script
    /// does (`numpy.interp(rate, fps, sens)`): linear between neighbouring points; where several
    /// points share the rate (hits gained without new false positives), the highest of them;
    /// beyond the last point, the last sensitivity (the curve does not extend itself).
    public func sensitivity(atFalsePositivesPerScan rate: Double) -> Double {
        let index = lastIndex(atOrBelow: rate)
        guard index >= 0 else { return sensitivity[0] }
        if index == falsePositivesPerScan.count - 1 || falsePositivesPerScan[index] == rate {
            return sensitivity[index]
        }
        let x0 = falsePositivesPerScan[index], x1 = falsePositivesPerScan[index + 1]
        let y0 = sensitivity[index], y1 = sensitivity[index + 1]
        return y0 + (y1 - y0) * (rate - x0) / (x1 - x0)
    }

    /// The competition performance metric: mean sensitivity at 1/8 ... 8 false positives per scan.
    public var cpm: Double {
        let values = FROCCurve.luna16Rates.map { sensitivity(atFalsePositivesPerScan: $0) }
        return values.reduce(0, +) / Double(values.count)
    }

    /// The operating point for a false-positive budget: the lowest threshold whose average
    /// false positives per scan do not exceed `rate` (a threshold a user can actually set,
    /// unlike the interpolated sensitivity between two points).
    public func operatingPoint(maxFalsePositivesPerScan rate: Double) -> (threshold: Double, falsePositivesPerScan: Double, sensitivity: Double) {
        let index = max(0, lastIndex(atOrBelow: rate))
        return (thresholds[index], falsePositivesPerScan[index], sensitivity[index])
    }

    /// The point of the lowest threshold at or above `score`: every candidate scoring at least
    /// that counted (the starting point (0, 0) when none does). `triage train` reads the
    /// actionable false positives and nodules found at 0.5 here.
    public func point(atScore score: Double) -> (falsePositivesPerScan: Double, sensitivity: Double) {
        // Thresholds fall from +infinity at the starting point.
        let index = thresholds.lastIndex { $0 >= score } ?? 0
        return (falsePositivesPerScan[index], sensitivity[index])
    }

    /// The last point index with false positives per scan <= rate, or -1.
    private func lastIndex(atOrBelow rate: Double) -> Int {
        var low = 0, high = falsePositivesPerScan.count  // first index with fps > rate in [low, high]
        while low < high {
            let middle = (low + high) / 2
            if falsePositivesPerScan[middle] <= rate { low = middle + 1 } else { high = middle }
        }
        return low - 1
    }
}

/// All scored candidates of a scan set in one array sorted by descending score, so the curve of
/// any bootstrap resample is one weighted pass without re-sorting.
public struct FROCCandidates: Sendable {
    /// Descending scores.
    var scores: [Double] = []
    var isHit: [Bool] = []
    var scan: [Int32] = []
    /// Nodules counted in the denominator, per scan.
    var nodulesPerScan: [Int]

    /// Builds the candidate list. Only nodules accepted by `includeNodule` count; findings whose
    /// nodule is not included are dropped (neither hits nor false positives), which is how a
    /// subset FROC such as "nodules >= 6 mm" treats hits on smaller nodules.
    public init(scans: [ScanMatch], includeNodule: (TruthNodule) -> Bool = { _ in true }) {
        var nodulesPerScan = Array(repeating: 0, count: scans.count)
        var entries: [(score: Double, hit: Bool, scan: Int32)] = []
        for (scanIndex, scanMatch) in scans.enumerated() {
            for outcome in scanMatch.nodules where includeNodule(outcome.nodule) {
                nodulesPerScan[scanIndex] += 1
                if let score = outcome.bestScore { entries.append((score, true, Int32(scanIndex))) }
            }
            for score in scanMatch.falsePositiveScores { entries.append((score, false, Int32(scanIndex))) }
        }
        self.init(nodulesPerScan: nodulesPerScan, entries: entries)
    }

    /// Builds the list from candidates already matched to nodules (`triage train`'s labelled
    /// candidates): per candidate its score, its scan and the nodule it lies on (an index
    /// unique over all scans, nil for none); per scan the nodules counted, those without any
    /// candidate included. As with reports, a nodule counts once at its best candidate's score
    /// and its other candidates are neither hits nor false positives.
    public init(scores: [Double], scanOfCandidate: [Int], noduleOfCandidate: [Int?], nodulesPerScan: [Int]) {
        precondition(scores.count == scanOfCandidate.count && scores.count == noduleOfCandidate.count,
                     "one scan and one nodule (or nil) per score")
        var best: [Int: (score: Double, scan: Int)] = [:]
        var entries: [(score: Double, hit: Bool, scan: Int32)] = []
        for (k, score) in scores.enumerated() {
            guard let nodule = noduleOfCandidate[k] else {
                entries.append((score, false, Int32(scanOfCandidate[k])))
                continue
            }
            if score > best[nodule]?.score ?? -.infinity { best[nodule] = (score, scanOfCandidate[k]) }
        }
        for hit in best.values { entries.append((hit.score, true, Int32(hit.scan))) }
        self.init(nodulesPerScan: nodulesPerScan, entries: entries)
    }

    private init(nodulesPerScan: [Int], entries: [(score: Double, hit: Bool, scan: Int32)]) {
        self.nodulesPerScan = nodulesPerScan
        // Order within equal scores does not matter: a threshold takes a whole tie group.
        let sorted = entries.sorted { $0.score > $1.score }
        scores = sorted.map(\.score)
        isHit = sorted.map(\.hit)
        scan = sorted.map(\.scan)
    }

    public var scanCount: Int { nodulesPerScan.count }

    /// The FROC curve of all scans (each counted once).
    public func curve() -> FROCCurve {
        curve(scanMultiplicity: nil)
    }

    /// The FROC curve where scan `s` counts `scanMultiplicity[s]` times (a bootstrap resample).
    func curve(scanMultiplicity: [Int]?) -> FROCCurve {
        let nodules: Int
        if let multiplicity = scanMultiplicity {
            nodules = zip(multiplicity, nodulesPerScan).reduce(0) { $0 + $1.0 * $1.1 }
        } else {
            nodules = nodulesPerScan.reduce(0, +)
        }
        let scans = Double(scanCount)
        var fps: [Double] = [0], sens: [Double] = [nodules > 0 ? 0 : .nan], thresholds: [Double] = [.infinity]
        var truePositives = 0, falsePositives = 0
        var index = 0
        while index < scores.count {
            let score = scores[index]
            var changed = false
            while index < scores.count && scores[index] == score {
                let weight = scanMultiplicity?[Int(scan[index])] ?? 1
                if weight > 0 {
                    changed = true
                    if isHit[index] { truePositives += weight } else { falsePositives += weight }
                }
                index += 1
            }
            if changed {
                fps.append(Double(falsePositives) / scans)
                sens.append(nodules > 0 ? Double(truePositives) / Double(nodules) : .nan)
                thresholds.append(score)
            }
        }
        return FROCCurve(falsePositivesPerScan: fps, sensitivity: sens, thresholds: thresholds,
                         noduleCount: nodules, scanCount: scanCount)
    }
}
