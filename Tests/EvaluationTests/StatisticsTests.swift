@testable import Evaluation
import Foundation
import Testing

/// Study AUC and the bootstrap.
struct StatisticsTests {
    @Test func aucCountsTiesAsHalf() {
        // Positives 0.9, 0.5, 0.5; negatives 0.5, 0.1: pairs won 1+1 + (0.5+1) + (0.5+1) = 5 of 6.
        let auc = StudyAUC(items: [(0, 0.9, true), (1, 0.5, true), (2, 0.5, true), (3, 0.5, false), (4, 0.1, false)])
        #expect(abs(auc.auc() - 5.0 / 6.0) < 1e-15)
        #expect(StudyAUC(items: [(0, 0.9, true)]).auc().isNaN)
    }

    @Test func studyAUCExcludesSmallOnlyCasesAndRanksMissingReportsLowest() {
        let positive = truthCase("p", [nodule("n", 0, 0, 0, diameter: 8)])
        let positiveMissing = truthCase("pm", [nodule("n", 0, 0, 0, diameter: 6)])
        let small = truthCase("s", [nodule("n", 0, 0, 0, diameter: 5.9)])
        let clean = truthCase("c", [])
        let cleanFailed = truthCase("cf", [])
        let reports = [
            report(for: positive, [], triageScore: 0.3),
            report(for: small, [], triageScore: 0.99),
            report(for: clean, [], triageScore: 0.4),
            report(for: cleanFailed, [], failed: true),
        ]
        let summary = Evaluator.evaluate(truth: GroundTruth(cases: [positive, positiveMissing, small, clean, cleanFailed]),
                                         reports: reports, options: .init(bootstrapReplicates: 0))
        // Pairs: p(0.3) vs c(0.4) lost, vs cf(-inf) won; pm(-inf) vs c lost, vs cf tie 0.5 -> 1.5 / 4.
        #expect(summary.studyAUC.positives == 2)
        #expect(summary.studyAUC.negatives == 2)
        #expect(summary.studyAUC.excludedSmallNodulesOnly == 1)
        #expect(summary.studyAUC.unscored == 2)
        #expect(summary.studyAUC.auc == 0.375)
    }

    /// SplitMix64 reference outputs for seed 0 (from Vigna's splitmix64.c).
    @Test func splitMixMatchesTheReferenceGenerator() {
        var generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
        #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(generator.next() == 0x06C4_5D18_8009_454F)
    }

    @Test func percentileRuleIsLUNA16s() throws {
        let values = (0..<1000).map { Double($0) }.shuffled()
        let interval = try #require(ScanBootstrap.interval(values))
        #expect(interval.low == 25)     // sorted[floor(0.025 * 1000)]
        #expect(interval.high == 975)   // sorted[floor(0.975 * 1000)]
        #expect(interval.mean == 499.5)
        let withUndefined = try #require(ScanBootstrap.interval([.nan, 3, 1, 2]))
        #expect(withUndefined.replicates == 3)
        #expect(ScanBootstrap.interval([.nan]) == nil)
    }

    @Test func bootstrapIsDeterministicForASeedAndChangesWithIt() {
        let (truth, reports) = FROCTests.twoScans()
        var cases = truth.cases
        var allReports = reports
        // More scans so resamples differ.
        for index in 0..<6 {
            let extra = truthCase("x\(index)", [nodule("n", 0, 0, 0, diameter: 8)])
            cases.append(extra)
            allReports.append(report(for: extra, [finding(Double(index), 0, 0, score: 0.1 * Double(index)),
                                                  finding(90, 0, 0, score: 0.05 * Double(index + 1))]))
        }
        let bigger = GroundTruth(cases: cases)
        let first = Evaluator.evaluate(truth: bigger, reports: allReports, options: .init(bootstrapReplicates: 300, seed: 42))
        let second = Evaluator.evaluate(truth: bigger, reports: allReports, options: .init(bootstrapReplicates: 300, seed: 42))
        let other = Evaluator.evaluate(truth: bigger, reports: allReports, options: .init(bootstrapReplicates: 300, seed: 43))
        #expect(first == second)
        #expect(first.froc.cpmCI != nil)
        #expect(first.froc.cpmCI != other.froc.cpmCI)
        let interval = first.froc.cpmCI!
        #expect(interval.low <= first.froc.cpm! && first.froc.cpm! <= interval.high)
        #expect(interval.replicates == 300)
        // The replicate draws themselves: each has scanCount draws in all.
        let replicates = ScanBootstrap.replicates(scanCount: 8, count: 5, seed: 42)
        #expect(replicates.allSatisfy { $0.reduce(0, +) == 8 })
        #expect(replicates == ScanBootstrap.replicates(scanCount: 8, count: 5, seed: 42))
    }
}
