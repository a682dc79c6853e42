@testable import Evaluation
import Foundation
import Testing

/// Cross-check against the independent Python implementation
/// (`scripts/reference/froc_reference.py`) on a random case set committed under
/// Fixtures/random-cases: 40 cases with score ties, duplicate hits, findings inside two
/// nodules and on a nodule's boundary, two failed, two missing and one unmatched report.
/// `reference.json` is that script's output (`evaluate --bootstrap 200 --seed 7`); see
/// Fixtures/random-cases/README.md.
struct ReferenceCrossCheckTests {
    static let tolerance = 1e-12

    static func fixture() throws -> URL {
        try #require(Bundle.module.url(forResource: "Fixtures/random-cases", withExtension: nil))
    }

    static func evaluate() throws -> (EvaluationSummary, [String: Any]) {
        let folder = try fixture()
        let summary = try Evaluator.evaluate(truthFile: folder.appendingPathComponent("truth.json"),
                                             reportsDirectory: folder.appendingPathComponent("reports"),
                                             options: .init(bootstrapReplicates: 200, seed: 7))
        let data = try Data(contentsOf: folder.appendingPathComponent("reference.json"))
        let reference = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return (summary, reference)
    }

    static func close(_ a: Double?, _ b: Any?, tolerance: Double = tolerance) -> Bool {
        switch (a, b) {
        case (nil, nil), (nil, is NSNull): return true
        case let (value?, number as NSNumber): return abs(value - number.doubleValue) <= tolerance
        default: return false
        }
    }

    static func close(_ interval: ConfidenceInterval?, _ reference: Any?) -> Bool {
        guard let interval, let reference = reference as? [String: Any] else {
            return interval == nil && (reference == nil || reference is NSNull)
        }
        return close(interval.low, reference["low"]) && close(interval.high, reference["high"])
            && close(interval.mean, reference["mean"], tolerance: 1e-9)
            && interval.replicates == (reference["replicates"] as? Int)
    }

    @Test func countsAgree() throws {
        let (summary, reference) = try Self.evaluate()
        #expect(summary.cases.missingReports == reference["missing_reports"] as? [String])
        #expect(summary.cases.failedReports == reference["failed_reports"] as? Int)
        #expect(summary.cases.unmatchedReports == reference["unmatched_reports"] as? [String])
        #expect(summary.findings.total == reference["findings"] as? Int)
        #expect(summary.findings.falsePositives == reference["false_positives"] as? Int)
        #expect(summary.findings.duplicateHits == reference["duplicate_hits"] as? Int)
        #expect(summary.findings.insideSeveralNodules == reference["inside_several_nodules"] as? Int)
        // The set exercises what it is meant to.
        #expect(summary.findings.insideSeveralNodules > 0)
        #expect(summary.findings.duplicateHits > 0)
        #expect(summary.cases.missingReports.count == 2)
    }

    @Test(arguments: ["all", "ge6"])
    func frocAgrees(selection: String) throws {
        let (summary, reference) = try Self.evaluate()
        let froc = selection == "all" ? summary.froc : summary.frocNodules6MMOrLarger
        let expected = try #require(reference[selection] as? [String: Any])
        #expect(froc.nodules == expected["nodules"] as? Int)
        let points = try #require(expected["points"] as? [[String: Any]])
        try #require(froc.points.count == points.count)
        for (mine, theirs) in zip(froc.points, points) {
            #expect(Self.close(mine.falsePositivesPerScan, theirs["fps_per_scan"]))
            #expect(Self.close(mine.sensitivity, theirs["sensitivity"]))
            #expect(Self.close(mine.threshold, theirs["threshold"]))
        }
        let sensitivities = try #require(expected["sensitivities"] as? [Double])
        for (mine, theirs) in zip(froc.sensitivities, sensitivities) {
            #expect(Self.close(mine.sensitivity, theirs))
        }
        #expect(Self.close(froc.cpm, expected["cpm"]))
        // Bootstrap: same draws, same percentile rule -> same intervals.
        #expect(Self.close(froc.cpmCI, expected["cpm_ci"]))
        let rateIntervals = try #require(expected["sensitivity_ci"] as? [Any])
        for (mine, theirs) in zip(froc.sensitivities, rateIntervals) {
            #expect(Self.close(mine.ci, theirs))
        }
        let grid = try #require(expected["grid"] as? [Double])
        let gridIntervals = try #require(expected["grid_ci"] as? [[String: Any]])
        for index in grid.indices {
            #expect(Self.close(froc.curve.sensitivity[index], grid[index]))
            #expect(Self.close(froc.curve.ciLow?[index], gridIntervals[index]["low"]))
            #expect(Self.close(froc.curve.ciHigh?[index], gridIntervals[index]["high"]))
        }
    }

    @Test func studyAUCAgrees() throws {
        let (summary, reference) = try Self.evaluate()
        let expected = try #require(reference["study_auc"] as? [String: Any])
        #expect(summary.studyAUC.positives == expected["positives"] as? Int)
        #expect(summary.studyAUC.negatives == expected["negatives"] as? Int)
        #expect(summary.studyAUC.excludedSmallNodulesOnly == expected["excluded_small_nodules_only"] as? Int)
        #expect(Self.close(summary.studyAUC.auc, expected["auc"]))
        #expect(Self.close(summary.studyAUC.ci, expected["ci"]))
    }

    @Test func operatingPointsAgree() throws {
        let (summary, reference) = try Self.evaluate()
        let expected = try #require(reference["operating_points"] as? [String: [String: Any]])
        for point in summary.operatingPoints {
            let theirs = try #require(expected[point.name])
            #expect(Self.close(point.threshold, theirs["threshold"]))
            let groups = try #require(theirs["groups"] as? [String: [String: [String: Int]]])
            for (kind, mine) in [("size", point.bySize), ("type", point.byType), ("location", point.byLocation)] {
                let table = try #require(groups[kind])
                #expect(mine.count == table.count)
                for group in mine {
                    #expect(group.nodules == table[group.group]?["nodules"], "\(kind) \(group.group)")
                    #expect(group.detected == table[group.group]?["detected"], "\(kind) \(group.group)")
                }
            }
            #expect(Self.close(point.measurement.diameterMeanAbsoluteErrorMM, theirs["diameter_mae_mm"]))
            #expect(Self.close(point.measurement.solid6MMOrLargerMeanAbsoluteErrorMM,
                               theirs["solid_6mm_or_larger_diameter_mae_mm"]))
            #expect(point.measurement.sphereLungRADSCompared == theirs["sphere_lung_rads_compared"] as? Int)
            #expect(Self.close(point.measurement.sphereLungRADSMeanAbsoluteErrorMM,
                               theirs["sphere_lung_rads_diameter_mae_mm"]))
            #expect(Self.close(point.measurement.sphereLungRADSMeanErrorMM, theirs["sphere_lung_rads_diameter_bias_mm"]))
            #expect(point.measurement.typeCompared == theirs["type_compared"] as? Int)
            #expect(point.measurement.typeCorrect == theirs["type_correct"] as? Int)
        }
    }
}
