@testable import Evaluation
import Testing

/// FROC points, interpolation and CPM on cases computed by hand.
struct FROCTests {
    /// Two scans, four nodules. Candidates by score (H = hit, F = false positive):
    /// 0.95 F (on n3's boundary), 0.9 H (n1), 0.8 F, 0.7 H (n4), 0.6 F, 0.3 F, 0.2 F;
    /// n1's second finding (0.5) is a duplicate; n2 and n3 are missed.
    static func twoScans() -> (GroundTruth, [StudyReport]) {
        let a = truthCase("a", [nodule("n1", 0, 0, 0, diameter: 10), nodule("n2", 50, 0, 0, diameter: 8)])
        let b = truthCase("b", [nodule("n3", 0, 0, 0, diameter: 6), nodule("n4", 0, 50, 0, diameter: 20)])
        let reportA = report(for: a, [
            finding(1, 0, 0, score: 0.9), finding(0, 2, 0, score: 0.5),
            finding(100, 0, 0, score: 0.8), finding(0, 100, 0, score: 0.3),
        ])
        let reportB = report(for: b, [
            finding(0, 45, 0, score: 0.7), finding(3, 0, 0, score: 0.95),  // |d| = 3 = radius: not inside
            finding(-80, 0, 0, score: 0.6), finding(0, -80, 0, score: 0.2),
        ])
        return (GroundTruth(cases: [a, b]), [reportA, reportB])
    }

    @Test func pointsMatchHandComputation() {
        let (truth, reports) = Self.twoScans()
        let summary = Evaluator.evaluate(truth: truth, reports: reports, options: .init(bootstrapReplicates: 0))
        let points = summary.froc.points
        let expected: [(Double, Double, Double?)] = [
            (0, 0, nil), (0.5, 0, 0.95), (0.5, 0.25, 0.9), (1.0, 0.25, 0.8),
            (1.0, 0.5, 0.7), (1.5, 0.5, 0.6), (2.0, 0.5, 0.3), (2.5, 0.5, 0.2),
        ]
        #expect(points.count == expected.count)
        for (point, want) in zip(points, expected) {
            #expect(point.falsePositivesPerScan == want.0)
            #expect(point.sensitivity == want.1)
            #expect(point.threshold == want.2)
        }
        // numpy.interp: 1/8, 1/4 on the flat start; 1/2 and 1 take the highest of the tied points.
        let sensitivities = summary.froc.sensitivities.map(\.sensitivity)
        #expect(sensitivities == [0, 0, 0.25, 0.5, 0.5, 0.5, 0.5])
        #expect(abs(summary.froc.cpm! - 2.25 / 7) < 1e-15)
        #expect(summary.findings.falsePositives == 5)
        #expect(summary.findings.duplicateHits == 1)
        #expect(summary.findings.detectedNodules == 2)
        #expect(summary.froc.nodules == 4)
    }

    /// `twoScans`' findings already matched to nodules, as `triage train` has its labelled
    /// candidates (nodule indices over both scans; n1 found twice): the curve the reports give.
    @Test func matchedCandidatesGiveTheSameCurve() {
        let curve = FROCCandidates(scores: [0.9, 0.5, 0.8, 0.3, 0.7, 0.95, 0.6, 0.2],
                                   scanOfCandidate: [0, 0, 0, 0, 1, 1, 1, 1],
                                   noduleOfCandidate: [0, 0, nil, nil, 3, nil, nil, nil],
                                   nodulesPerScan: [2, 2]).curve()
        #expect(curve.falsePositivesPerScan == [0, 0.5, 0.5, 1.0, 1.0, 1.5, 2.0, 2.5])
        #expect(curve.sensitivity == [0, 0, 0.25, 0.25, 0.5, 0.5, 0.5, 0.5])
        #expect(curve.thresholds == [.infinity, 0.95, 0.9, 0.8, 0.7, 0.6, 0.3, 0.2])
        #expect(abs(curve.cpm - 2.25 / 7) < 1e-15)
        // Everything scoring >= 0.5: the false positives 0.95, 0.8, 0.6 and n1, n4.
        let actionable = curve.point(atScore: 0.5)
        #expect(actionable.falsePositivesPerScan == 1.5 && actionable.sensitivity == 0.5)
        let atHit = curve.point(atScore: 0.7)   // a candidate scoring exactly that counts
        #expect(atHit.falsePositivesPerScan == 1.0 && atHit.sensitivity == 0.5)
        let strict = curve.point(atScore: 0.85), none = curve.point(atScore: 0.99)
        #expect(strict.falsePositivesPerScan == 0.5 && strict.sensitivity == 0.25)
        #expect(none.falsePositivesPerScan == 0 && none.sensitivity == 0)
        // A tie between a hit and a false positive is one point.
        let tied = FROCCandidates(scores: [0.7, 0.7], scanOfCandidate: [0, 0], noduleOfCandidate: [0, nil],
                                  nodulesPerScan: [1]).curve()
        #expect(tied.falsePositivesPerScan == [0, 1] && tied.sensitivity == [0, 1])
    }

    /// The false alarms a reader sees first: false positives at or above the actionable score
    /// (the FROC's five are 0.95, 0.8, 0.6, 0.3 and 0.2; the duplicate hit at 0.5 is none), and
    /// clean studies by the priority their report gave (one without a report).
    @Test func actionableFalsePositivesAndCleanStudiesByPriority() {
        let (truth, reports) = Self.twoScans()
        let c = truthCase("c", []), d = truthCase("d", []), e = truthCase("e", [])
        let all = GroundTruth(cases: truth.cases + [c, d, e])
        let withClean = reports + [report(for: c, [finding(9, 9, 9, score: 0.55)], priority: "urgent"),
                                   report(for: d, [], priority: "routine")]
        let summary = Evaluator.evaluate(truth: all, reports: withClean, options: .init(bootstrapReplicates: 0))
        #expect(summary.findings.actionableScore == 0.5)
        #expect(summary.findings.actionableFalsePositives == 4)   // 0.95, 0.8, 0.6 and c's 0.55
        #expect(summary.findings.cleanStudiesByPriority == ["urgent": 1, "routine": 1, "missing": 1])
        let stricter = Evaluator.evaluate(truth: all, reports: withClean,
                                          options: .init(bootstrapReplicates: 0, actionableScore: 0.7))
        #expect(stricter.findings.actionableFalsePositives == 2)  // 0.95, 0.8
        #expect(EvaluationTable.render(summary).contains(
            "Actionable (score >= 0.50): 4 false positives; clean studies by priority: 1 missing, 1 routine, 1 urgent"))
    }

    /// One scan, two nodules: a hit and a false positive tied at 0.8 (a sloped segment), two
    /// false positives at 0.5, a hit at 0.3. Points (0,0), (1,.5), (3,.5), (3,1).
    @Test func interpolationBetweenPointsAndBeyondTheLast() {
        let scan = truthCase("s", [nodule("n1", 0, 0, 0, diameter: 10), nodule("n2", 40, 0, 0, diameter: 10)])
        let reports = [report(for: scan, [
            finding(0, 0, 1, score: 0.8), finding(90, 0, 0, score: 0.8),
            finding(-90, 0, 0, score: 0.5), finding(0, 90, 0, score: 0.5), finding(41, 0, 0, score: 0.3),
        ])]
        let curve = FROCCandidates(scans: [LUNA16Matcher.match(nodules: scan.nodules, findings: reports[0].findings)]).curve()
        #expect(curve.falsePositivesPerScan == [0, 1, 3, 3])
        #expect(curve.sensitivity == [0, 0.5, 0.5, 1])
        let atRates = FROCCurve.luna16Rates.map { curve.sensitivity(atFalsePositivesPerScan: $0) }
        #expect(atRates == [0.0625, 0.125, 0.25, 0.5, 0.5, 1, 1])
        #expect(abs(curve.cpm - 3.4375 / 7) < 1e-15)
        // Operating point for <= 1 FP/scan: threshold 0.8 (the next one, 0.5, gives 3 FPs).
        let operating = curve.operatingPoint(maxFalsePositivesPerScan: 1)
        #expect(operating.threshold == 0.8)
        #expect(operating.sensitivity == 0.5)
    }

    @Test func noFalsePositivesGivesFlatCurveAtZero() {
        let scan = truthCase("s", [nodule("n1", 0, 0, 0, diameter: 10), nodule("n2", 40, 0, 0, diameter: 10)])
        let match = LUNA16Matcher.match(nodules: scan.nodules, findings: [finding(0, 0, 0, score: 0.4)])
        let curve = FROCCandidates(scans: [match]).curve()
        #expect(curve.falsePositivesPerScan == [0, 0])
        #expect(FROCCurve.luna16Rates.map { curve.sensitivity(atFalsePositivesPerScan: $0) } == Array(repeating: 0.5, count: 7))
    }

    @Test func noNodulesGivesUndefinedSensitivity() {
        let scan = truthCase("clean", [])
        let match = LUNA16Matcher.match(nodules: [], findings: [finding(0, 0, 0, score: 0.4)])
        let summary = Evaluator.evaluate(truth: GroundTruth(cases: [scan]),
                                         reports: [report(for: scan, [finding(0, 0, 0, score: 0.4)])],
                                         options: .init(bootstrapReplicates: 0))
        #expect(match.falsePositiveScores == [0.4])
        #expect(summary.froc.cpm == nil)
        #expect(summary.froc.sensitivities.allSatisfy { $0.sensitivity == nil })
    }

    /// The subset FROC for nodules >= 6 mm drops hits on smaller nodules: not hits, not FPs.
    @Test func subsetIgnoresHitsOnSmallNodules() {
        let scan = truthCase("s", [nodule("small", 0, 0, 0, diameter: 4), nodule("large", 50, 0, 0, diameter: 12)])
        let reports = [report(for: scan, [
            finding(0, 0, 0, score: 0.9),     // on the 4 mm nodule
            finding(100, 0, 0, score: 0.8),   // false positive
            finding(52, 0, 0, score: 0.7),    // on the 12 mm nodule
        ])]
        let summary = Evaluator.evaluate(truth: GroundTruth(cases: [scan]), reports: reports,
                                         options: .init(bootstrapReplicates: 0))
        let large = summary.frocNodules6MMOrLarger
        #expect(large.nodules == 1)
        #expect(large.points.map(\.falsePositivesPerScan) == [0, 1, 1])
        #expect(large.points.map(\.sensitivity) == [0, 0, 1])
        #expect(summary.froc.points.map(\.falsePositivesPerScan) == [0, 0, 1, 1])
        #expect(summary.froc.points.map(\.sensitivity) == [0, 0.5, 0.5, 1])
    }
}
