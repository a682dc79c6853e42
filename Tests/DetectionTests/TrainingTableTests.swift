import Foundation
import Testing
@testable import Detection

extension DetectorCandidate {
    /// A candidate with the given features whose body and segmented region are centred as given.
    static func trainingExample(features: [Double], body: SIMD3<Double>, region: SIMD3<Double>) -> DetectorCandidate {
        DetectorCandidate(features: features, finding: Finding(
            id: "", rank: 0, score: 0, centerMM: body, centerVoxel: .zero, diameterMM: 6,
            longAxisMM: 6, shortAxisMM: 6, equivalentDiameterMM: 6, volumeMM3: 113, meanHU: -100, minHU: -600,
            maxHU: 40, type: .solid, lungRADS: .category3, lungSide: "right", lungZone: "upper", sphericity: 0.9,
            vesselness: 0.1, distanceToPleuraMM: 8), regionCentroidMM: region)
    }
}

@Suite("Training tables")
struct TrainingTableTests {
    /// Three scans (seeds 1100, 1100, 1120) of 2, 1 and 3 nodules, 25 candidates each; the
    /// features mix values that a short decimal form would round (thirds, 0.1 + 0.2, tiny and
    /// huge magnitudes) and every third candidate sits on a nodule.
    func trainingSet() -> TrainingSet {
        var set = TrainingSet()
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        let awkward = [1.0 / 3, 0.1 + 0.2, -1e-300, 1.2345678e15, Double.pi, -0.0]
        let plans: [(UInt64, Int)] = [(1100, 2), (1100, 1), (1120, 3)]
        for (scan, (seed, noduleCount)) in plans.enumerated() {
            let truth = (0..<noduleCount).map { TruthNodule(centerMM: SIMD3(Double(20 * $0), 10, -30), diameterMM: 8) }
            let candidates = (0..<25).map { k -> DetectorCandidate in
                let onNodule = k % 3 == 0 && k / 3 < noduleCount
                let center = onNodule ? truth[k / 3].centerMM + SIMD3(0.7, -0.4, 0.2) : SIMD3(next() * 100 + 50, next() * 80, next() * 60)
                var features = (0..<FalsePositiveModel.featureNames.count).map { _ in next() * 10 - 5 + (onNodule ? 2 : 0) }
                features[0] = awkward[(k + scan) % awkward.count]
                return .trainingExample(features: features, body: center, region: center)
            }
            set.add(candidates: candidates, truth: truth,
                    source: TrainingScan.Source(seed: seed, generator: "triage-phantom 3", caseID: "case-00\(scan)"))
        }
        return set
    }

    func readBack(_ set: TrainingSet, seeds: Set<UInt64>? = nil) throws -> TrainingSet {
        try TrainingSet(candidateTable: set.candidateTable(featureNames: FalsePositiveModel.featureNames),
                        scanTable: set.scanTable(), featureNames: FalsePositiveModel.featureNames, keepingSeeds: seeds)
    }

    @Test("a set read back from its tables is the set written, bit for bit, and fits the same trees")
    func roundTrip() throws {
        let set = trainingSet()
        #expect(set.positives == 6 && set.truthWithCandidate == 6)
        let back = try readBack(set)
        #expect(back.features.map { $0.map(\.bitPattern) } == set.features.map { $0.map(\.bitPattern) })
        #expect(back.labels == set.labels)
        #expect(back.scanIndex == set.scanIndex && back.noduleIndex == set.noduleIndex)
        #expect(back.centersMM == set.centersMM)
        #expect(back.scans == 3 && back.truthCount == 6 && back.truthWithCandidate == 6)
        #expect(back.scanRecords == set.scanRecords)
        var parameters = BoostedTrees.Parameters()
        parameters.rounds = 20
        let fitted = FalsePositiveModel.fitBoostedTrees(features: set.features, labels: set.labels, mode: "3d",
                                                        parameters: parameters, training: [:])
        let refitted = FalsePositiveModel.fitBoostedTrees(features: back.features, labels: back.labels, mode: "3d",
                                                          parameters: parameters, training: [:])
        #expect(fitted == refitted)
    }

    @Test("keeping some seeds keeps their scans' rows, scans and nodules renumbered")
    func keepingSeeds() throws {
        let set = trainingSet()
        let only1120 = try readBack(set, seeds: [1120])
        let rows = set.scanIndex.indices.filter { set.scanIndex[$0] == 2 }
        #expect(only1120.features == rows.map { set.features[$0] })
        #expect(only1120.labels == rows.map { set.labels[$0] })
        #expect(only1120.scans == 1 && Set(only1120.scanIndex) == [0])
        // Scan 2's nodules were numbered 3, 4, 5 after the first two scans' three.
        #expect(only1120.noduleIndex == rows.map { set.noduleIndex[$0] < 0 ? -1 : set.noduleIndex[$0] - 3 })
        #expect(Set(only1120.noduleIndex) == [-1, 0, 1, 2])
        #expect(only1120.truthCount == 3 && only1120.truthWithCandidate == 3)
        #expect(only1120.scanRecords.map(\.source.caseID) == ["case-002"])
        let only1100 = try readBack(set, seeds: [1100])
        #expect(only1100.scans == 2 && only1100.features.count == 50 && only1100.truthCount == 3)
        #expect(only1100.noduleIndex == set.noduleIndex.prefix(50).map { $0 })
        #expect(try readBack(set, seeds: [1999]).features.isEmpty)
        // The two seeds' tables joined are the whole set again.
        var joined = only1100
        joined.append(contentsOf: only1120)
        #expect(joined.features == set.features && joined.labels == set.labels && joined.centersMM == set.centersMM)
        #expect(joined.scanIndex == set.scanIndex && joined.noduleIndex == set.noduleIndex)
        #expect(joined.scans == 3 && joined.truthCount == 6 && joined.truthWithCandidate == 6)
        #expect(joined.scanRecords == set.scanRecords)
    }

    @Test("a table of other features, a bad label or an unknown scan is refused")
    func refused() {
        let set = trainingSet()
        let names = FalsePositiveModel.featureNames
        let table = set.candidateTable(featureNames: names)
        // A detector with one more feature than the table was written with.
        #expect(throws: TrainingTableError.self) {
            try TrainingSet(candidateTable: table, scanTable: set.scanTable(), featureNames: names + ["new_feature"])
        }
        var lines = table.split(separator: "\n").map(String.init)
        var cells = lines[1].split(separator: ",").map(String.init)
        cells[names.count] = "0.5"
        lines[1] = cells.joined(separator: ",")
        #expect(throws: TrainingTableError.self) {
            try TrainingSet(candidateTable: lines.joined(separator: "\n"), scanTable: set.scanTable(), featureNames: names)
        }
        cells[names.count] = "1"
        cells[names.count + 1] = "3"   // only scans 0-2 exist
        lines[1] = cells.joined(separator: ",")
        #expect(throws: TrainingTableError.self) {
            try TrainingSet(candidateTable: lines.joined(separator: "\n"), scanTable: set.scanTable(), featureNames: names)
        }
        // A scan claiming more nodules with a candidate than it has.
        let scans = set.scanTable().replacingOccurrences(of: "case-000,2,2", with: "case-000,2,3")
        #expect(throws: TrainingTableError.self) {
            try TrainingSet(candidateTable: table, scanTable: scans, featureNames: names)
        }
    }
}
