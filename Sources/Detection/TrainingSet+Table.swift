import Foundation

/// The training set as two CSV tables, so that a model can be refitted without reading the
/// scans again (`triage train --features-csv` writes them, `--features-from` reads them):
///
///     features.csv         one row per candidate: the features (named as
///                          `FalsePositiveModel.featureNames`), label, scan, nodule, x_mm, y_mm, z_mm
///     features.scans.csv   one row per scan: scan, seed, generator, case, nodules,
///                          nodules_with_candidate
///
/// Numbers are written in Swift's shortest round-trip form, so a set read back is the set
/// written, bit for bit, and a model fitted on it is the model fitted on the scans; tables of
/// separate collections join with `append(contentsOf:)`. Collecting
/// the candidates of the 128 training scans takes about half an hour on this 2-core machine;
/// fitting the trees on the table, about a minute.
extension TrainingSet {
    static let candidateColumns = ["label", "scan", "nodule", "x_mm", "y_mm", "z_mm"]
    static let scanColumns = ["scan", "seed", "generator", "case", "nodules", "nodules_with_candidate"]

    /// The sidecar's path beside a candidate table: `features.csv` -> `features.scans.csv`.
    public static func scanTablePath(besideCandidateTable path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let stem = url.deletingPathExtension().lastPathComponent
        return url.deletingLastPathComponent().appendingPathComponent(stem + ".scans.csv").path
    }

    /// One row per candidate, with the header `featureNames + candidateColumns`.
    public func candidateTable(featureNames: [String]) -> String {
        var text = (featureNames + Self.candidateColumns).joined(separator: ",") + "\n"
        for k in features.indices {
            let c = centersMM[k]
            // Labels are 0 or 1, written as integers for the analysis scripts that read them.
            text += features[k].map { "\($0)" }.joined(separator: ",")
                + ",\(Int(labels[k])),\(scanIndex[k]),\(noduleIndex[k]),\(c.x),\(c.y),\(c.z)\n"
        }
        return text
    }

    /// One row per scan (its phantom and how many of its nodules had a candidate).
    public func scanTable() -> String {
        var text = Self.scanColumns.joined(separator: ",") + "\n"
        for (k, scan) in scanRecords.enumerated() {
            // Generator names and case IDs are the phantom generator's own ("triage-phantom 3",
            // "case-003"); a comma would shift the columns, so it is dropped.
            let generator = scan.source.generator.replacingOccurrences(of: ",", with: " ")
            let caseID = scan.source.caseID.replacingOccurrences(of: ",", with: " ")
            text += "\(k),\(scan.source.seed),\(generator),\(caseID),\(scan.nodules),\(scan.nodulesWithCandidate)\n"
        }
        return text
    }

    /// Reads the two tables back, keeping only the scans made with `seeds` (all when nil),
    /// in the tables' order, scans and nodules renumbered as if only those had been collected.
    /// Throws when the tables were written with other features than `featureNames` (a table
    /// from an older detector), or are malformed.
    public init(candidateTable: String, scanTable: String, featureNames: [String],
                keepingSeeds seeds: Set<UInt64>? = nil) throws {
        self.init()
        // The scans, and for each kept one its new index and nodule offsets (old and new).
        var scanLines = scanTable.split(separator: "\n", omittingEmptySubsequences: true)
        guard let scanHeader = scanLines.first, scanHeader.split(separator: ",").map(String.init) == Self.scanColumns else {
            throw TrainingTableError("the scan table's header is not \(Self.scanColumns.joined(separator: ","))")
        }
        scanLines.removeFirst()
        var newScan: [Int?] = []
        var oldOffset: [Int] = [], newOffset: [Int] = []
        var oldNodules = 0
        for (k, line) in scanLines.enumerated() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard cells.count == Self.scanColumns.count, Int(cells[0]) == k, let seed = UInt64(cells[1]),
                  let nodules = Int(cells[4]), let withCandidate = Int(cells[5]),
                  nodules >= 0, (0...nodules).contains(withCandidate) else {
                throw TrainingTableError("scan table line \(k + 2) is malformed")
            }
            oldOffset.append(oldNodules)
            newOffset.append(truthCount)
            oldNodules += nodules
            guard seeds?.contains(seed) ?? true else { newScan.append(nil); continue }
            newScan.append(scans)
            scanRecords.append(TrainingScan(source: TrainingScan.Source(seed: seed, generator: cells[2], caseID: cells[3]),
                                            nodules: nodules, nodulesWithCandidate: withCandidate))
        }
        var lines = candidateTable.split(separator: "\n", omittingEmptySubsequences: true)
        let columns = featureNames + Self.candidateColumns
        guard let header = lines.first, header.split(separator: ",").map(String.init) == columns else {
            throw TrainingTableError("the candidate table's columns are not this detector's features "
                                     + "(\(featureNames.count) named in FalsePositiveModel.featureNames): collect the candidates again")
        }
        lines.removeFirst()
        let n = featureNames.count
        for (k, line) in lines.enumerated() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count == columns.count else { throw TrainingTableError("candidate table line \(k + 2) has \(cells.count) cells, not \(columns.count)") }
            guard let scan = Int(cells[n + 1]), newScan.indices.contains(scan), let nodule = Int(cells[n + 2]) else {
                throw TrainingTableError("candidate table line \(k + 2): no such scan in the scan table")
            }
            guard let kept = newScan[scan] else { continue }
            var row = [Double]()
            row.reserveCapacity(n + 4)
            for cell in cells[0..<n] + cells[n...n] + cells[(n + 3)...] {
                guard let value = Double(cell) else { throw TrainingTableError("candidate table line \(k + 2): \"\(cell)\" is not a number") }
                row.append(value)
            }
            guard row[n] == 0 || row[n] == 1 else { throw TrainingTableError("candidate table line \(k + 2): the label is not 0 or 1") }
            features.append(Array(row[0..<n]))
            labels.append(row[n])
            scanIndex.append(kept)
            noduleIndex.append(nodule < 0 ? -1 : nodule - oldOffset[scan] + newOffset[scan])
            centersMM.append(SIMD3(row[n + 1], row[n + 2], row[n + 3]))
        }
    }
}

extension TrainingSet {
    /// Appends another set's scans after this one's, their scans and nodules renumbered: the
    /// tables of several collections (one seed each, say) joined as if collected in one run.
    public mutating func append(contentsOf other: TrainingSet) {
        features += other.features
        labels += other.labels
        let scanOffset = scans, noduleOffset = truthCount
        scanIndex += other.scanIndex.map { $0 + scanOffset }
        noduleIndex += other.noduleIndex.map { $0 < 0 ? -1 : $0 + noduleOffset }
        centersMM += other.centersMM
        scanRecords += other.scanRecords
    }
}

/// A candidate or scan table that cannot be read back (`TrainingSet(candidateTable:...)`).
public struct TrainingTableError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
