import Foundation
import Testing
import Volumes
@testable import Detection

@Suite("Candidate trace")
struct CandidateTraceTests {
    /// The hilar rule drops what is centred on the trunk; the two balls are nodules.
    func chest() -> SyntheticChest { .withHilum() }

    /// The scales these balls need and a small candidate cap (fast in debug builds).
    func configuration() -> DetectorConfiguration {
        var c = DetectorConfiguration()
        c.blobScalesMM = [1.3, 1.9, 2.8, 4.1]
        c.maximumCandidates = 40
        return c
    }

    static let balls = [SIMD3<Double>(68, 40, 16), SIMD3(24, 40, 44)]

    static func distance(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> Double {
        let d = a - b
        return (d * d).sum().squareRoot()
    }

    /// Distance (mm) of `p` from the trunk's axis segment.
    static func distanceFromTrunk(_ p: SIMD3<Double>) -> Double {
        let from = SIMD3<Double>(48, 40, 30), ab = SIMD3<Double>(24, 40, 30) - from
        let t = max(0, min(1, ((p - from) * ab).sum() / (ab * ab).sum()))
        return distance(p, from + t * ab)
    }

    @Test("tracing changes no finding, the reported entries are exactly the findings, and the CSV says so")
    func reportedEntriesAreTheFindings() throws {
        let volume = chest().makeVolume()
        let detector = NoduleDetector(configuration: configuration())
        let plain = try detector.assess(volume: volume)
        let (traced, trace) = try detector.assessTracingCandidates(volume: volume)
        let plainScores = plain.findings.map(\.score), tracedScores = traced.findings.map(\.score)
        let plainCentres = plain.findings.map(\.centerMM), tracedCentres = traced.findings.map(\.centerMM)
        #expect(plainScores == tracedScores)
        #expect(plainCentres == tracedCentres)
        let reported = trace.entries.filter { $0.fate == .reported }
        #expect(!traced.findings.isEmpty)
        #expect(reported.count == traced.findings.count)
        for f in traced.findings {
            let match = reported.contains { $0.score == f.score && $0.centerMM == f.centerMM }
            #expect(match, "finding \(f.id) at \(f.centerMM) has no reported entry")
        }
        // Both balls (radius 5 mm) are reported, each from a maximum inside it, measured near its centre.
        for ball in Self.balls {
            let near = reported.contains { Self.distance($0.positionMM, ball) < 5 && Self.distance($0.centerMM!, ball) < 2.5 }
            #expect(near, "ball at \(ball): \(reported.map { ($0.positionMM, $0.centerMM!, $0.score!) })")
        }
        try checkCSV(trace)
    }

    @Test("every maximum once: the scored ones are the detector's candidates, the trunk's dropped by the hilar rule")
    func everyMaximumHasOneFate() throws {
        let volume = chest().makeVolume()
        var config = configuration()
        config.minimumScore = 0   // nothing below the threshold: every scored entry is a finding or a duplicate
        let detector = NoduleDetector(configuration: config)
        let (_, trace) = try detector.assessTracingCandidates(volume: volume)
        // As many entries as the dot filter has maxima in this lung mask.
        let grid = WorkingGrid(volume: volume, spacingMM: config.workingSpacingMM, workers: 2)
        let lungs = try LungSegmentation.segment(grid: grid, configuration: config, superiorIsHighZ: NoduleDetector.superiorIsHighZ(volume), workers: 2)
        let maxima = BlobFilter.maxima(grid: grid, lungs: lungs, configuration: config, workers: 2)
        #expect(trace.entries.count == maxima.count)
        // The entries that reached the score are the detector's scored candidates.
        let counts = trace.counts
        let scored = counts[.reported, default: 0] + counts[.notReported, default: 0] + counts[.belowThreshold, default: 0]
        let candidates = try detector.detectCandidates(in: volume).0
        #expect(scored == candidates.count)
        // With no score threshold only the size limit leaves a scored entry below it.
        for e in trace.entries where e.fate == .belowThreshold {
            #expect(e.diameterMM! < config.minimumDiameterMM, "below threshold at \(e.diameterMM!) mm")
        }
        let selected = trace.entries.count - counts[.notSelected, default: 0]
        #expect(selected > scored)
        #expect(selected <= config.maximumCandidates + config.maximumFaintCandidates + config.maximumCoarseFaintCandidates)
        // The hilar rule drops maxima on the trunk; with the rule off, no entry says so.
        let onTrunk = trace.entries.filter { $0.fate == .hilarStructure }
        #expect(!onTrunk.isEmpty)
        for e in onTrunk { #expect(Self.distanceFromTrunk(e.positionMM) < 5 + 3, "hilar entry at \(e.positionMM)") }
        var off = config
        off.hilarOpeningRadiusMM = 0
        let (_, withoutRule) = try NoduleDetector(configuration: off).assessTracingCandidates(volume: volume)
        #expect(withoutRule.counts[.hilarStructure, default: 0] == 0)
    }

    /// The CSV: one row per maximum, ranked by response, the measured columns only where scored.
    func checkCSV(_ trace: CandidateTrace) throws {
        let lines = trace.csv().split(separator: "\n").map(String.init)
        #expect(lines.first == CandidateTrace.csvHeader)
        #expect(lines.count == trace.entries.count + 1)
        let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let columns = CandidateTrace.csvHeader.split(separator: ",").count
        #expect(rows.allSatisfy { $0.count == columns })
        let responses = rows.map { Double($0[3])! }, ranks = rows.map { Int($0[4])! }
        #expect(ranks == Array(1...rows.count))
        #expect(zip(responses, responses.dropFirst()).allSatisfy { $0 >= $1 })
        let fates = Set(CandidateTrace.Fate.allCases.map(\.rawValue))
        #expect(rows.allSatisfy { fates.contains($0[9]) })
        let scoredFates: Set<String> = ["reported", "not_reported", "below_threshold"]
        for row in rows {
            #expect(row[10].isEmpty == !scoredFates.contains(row[9]), "row \(row)")
        }
        let best = try #require(trace.entries.filter { $0.fate == .reported }.max { $0.score! < $1.score! })
        let bestRow = try #require(rows.first { $0[9] == "reported" && abs(Double($0[11])! - best.centerMM!.x) < 0.006
                                                && abs(Double($0[13])! - best.centerMM!.z) < 0.006 })
        #expect(abs(Double(bestRow[10])! - best.score!) <= 1e-5 * max(1, best.score!))
    }
}
