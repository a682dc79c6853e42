@testable import Evaluation
import Foundation
import Testing

/// The hit rule, the nearest-nodule choice, duplicates, missing and failed reports.
struct MatchingTests {
    @Test func hitIsStrictlyInsideTheRadius() {
        let nodules = [nodule("n1", 10, 20, 30, diameter: 10)]
        let inside = LUNA16Matcher.match(nodules: nodules, findings: [finding(14.99, 20, 30, score: 0.5)])
        let onBoundary = LUNA16Matcher.match(nodules: nodules, findings: [finding(10, 20, 35, score: 0.5)])
        // 3-4-0 triangle: distance exactly 5 in a diagonal direction is also not inside.
        let diagonal = LUNA16Matcher.match(nodules: nodules, findings: [finding(13, 24, 30, score: 0.5)])
        #expect(inside.nodules[0].isDetected)
        #expect(inside.falsePositiveScores.isEmpty)
        #expect(!onBoundary.nodules[0].isDetected)
        #expect(onBoundary.falsePositiveScores == [0.5])
        #expect(!diagonal.nodules[0].isDetected)
    }

    @Test func findingInsideTwoNodulesGoesToTheNearest() {
        // Overlapping 20 mm nodules at x = 0 and x = 12.
        let nodules = [nodule("n1", 0, 0, 0, diameter: 20), nodule("n2", 12, 0, 0, diameter: 20)]
        // x = 7: 7 mm from n1, 5 mm from n2 -> n2 (LUNA16's script would give it to n1, listed first).
        let nearer = LUNA16Matcher.match(nodules: nodules, findings: [finding(7, 0, 0, score: 0.6)])
        #expect(!nearer.nodules[0].isDetected)
        #expect(nearer.nodules[1].bestScore == 0.6)
        #expect(nearer.findingsInsideSeveralNodules == 1)
        // x = 6: equidistant -> the first listed.
        let tie = LUNA16Matcher.match(nodules: nodules, findings: [finding(6, 0, 0, score: 0.6)])
        #expect(tie.nodules[0].bestScore == 0.6)
        #expect(!tie.nodules[1].isDetected)
    }

    @Test func severalFindingsOnOneNoduleCountOnceWithTheBestScore() {
        let nodules = [nodule("n1", 0, 0, 0, diameter: 10, type: "solid")]
        let match = LUNA16Matcher.match(nodules: nodules, findings: [
            finding(1, 0, 0, score: 0.4, diameter: 7, type: "ground-glass"),
            finding(0, 1, 0, score: 0.9, diameter: 9.5, type: "solid"),
            finding(0, 0, 1, score: 0.9, diameter: 3, type: "part-solid"),   // tie: the first keeps it
        ])
        #expect(match.nodules[0].bestScore == 0.9)
        #expect(match.nodules[0].hitCount == 3)
        #expect(match.duplicateHits == 2)
        #expect(match.falsePositiveScores.isEmpty)
        #expect(match.nodules[0].measuredDiameterMM == 9.5)
        #expect(match.nodules[0].measuredType == "solid")
    }

    @Test func findingsOnCalcifiedGranulomasAreNeitherHitsNorFalsePositives() throws {
        let granulomas = [TruthGranuloma(centerMM: [40, 0, 0], diameterMM: 3),   // radius floored to 2.5 mm
                          TruthGranuloma(centerMM: [-40, 0, 0], diameterMM: 7)]
        var onSmall = finding(42.4, 0, 0, score: 0.7)
        onSmall.lungRADS = "1"
        var onLarge = finding(-40, 3.4, 0, score: 0.6)
        onLarge.lungRADS = "3"
        let beside = finding(40, 2.6, 0, score: 0.5)   // 2.6 mm from the 3 mm one: a false positive
        let match = LUNA16Matcher.match(nodules: [nodule("n1", 0, 0, 0, diameter: 10)],
                                        findings: [finding(0, 0, 0, score: 0.9), onSmall, onLarge, beside],
                                        granulomas: granulomas)
        #expect(match.nodules[0].bestScore == 0.9)
        #expect(match.falsePositiveScores == [0.5])
        #expect(match.findingsOnGranulomas.map(\.score) == [0.7, 0.6])
        // Through the evaluator: the FROC counts one false positive, the summary the categories.
        var c = truthCase("a", [nodule("n1", 0, 0, 0, diameter: 10)])
        c.calcifiedGranulomas = granulomas
        let summary = Evaluator.evaluate(truth: GroundTruth(cases: [c]),
                                         reports: [report(for: c, [finding(0, 0, 0, score: 0.9), onSmall, onLarge, beside])],
                                         options: .init(bootstrapReplicates: 0))
        #expect(summary.findings.falsePositives == 1)
        let g = try #require(summary.calcifiedGranulomas)
        #expect(g == .init(granulomas: 2, findings: 2, lungRADS1: 1, lungRADS3OrHigher: 1))
        // Without granulomas in the truth there is no such section.
        let plain = Evaluator.evaluate(truth: GroundTruth(cases: [truthCase("a", [])]),
                                       reports: [report(for: truthCase("a", []), [onSmall])], options: .init(bootstrapReplicates: 0))
        #expect(plain.calcifiedGranulomas == nil && plain.findings.falsePositives == 1)
    }

    @Test func missingReportCountsAllMissedAndStillCountsAsAScan() {
        let a = truthCase("a", [nodule("n1", 0, 0, 0, diameter: 10)])
        let b = truthCase("b", [nodule("n2", 0, 0, 0, diameter: 10)])
        let reports = [report(for: a, [finding(0, 0, 0, score: 0.9), finding(50, 0, 0, score: 0.8)])]
        let summary = Evaluator.evaluate(truth: GroundTruth(cases: [a, b]), reports: reports,
                                         options: .init(bootstrapReplicates: 0))
        #expect(summary.cases.missingReports == ["b"])
        #expect(summary.warnings.contains { $0.hasPrefix("b: no report found") })
        // One FP over two scans = 0.5 FPs/scan; b's nodule is in the denominator.
        #expect(summary.froc.points.map(\.falsePositivesPerScan) == [0, 0, 0.5])
        #expect(summary.froc.points.map(\.sensitivity) == [0, 0.5, 0.5])
        #expect(summary.froc.nodules == 2)
    }

    @Test func failedReportHasNoFindingsEvenIfTheFileListsSome() throws {
        let json = """
        {"schema": "triage.findings.v1", "status": "failed", "error": "decode failed",
         "study": {"series_instance_uid": "1.2.3.a"},
         "findings": [{"center_mm": [0, 0, 0], "score": 0.99}]}
        """
        let parsed = try StudyReportCollector.parse(Data(json.utf8), path: "a/findings.json")
        #expect(!parsed.succeeded)
        #expect(parsed.findings.isEmpty)
        let a = truthCase("a", [nodule("n1", 0, 0, 0, diameter: 10)])
        let summary = Evaluator.evaluate(truth: GroundTruth(cases: [a]), reports: [parsed],
                                         options: .init(bootstrapReplicates: 0))
        #expect(summary.cases.failedReports == 1)
        #expect(summary.cases.missingReports.isEmpty)
        #expect(summary.findings.detectedNodules == 0)
        #expect(summary.froc.sensitivities.allSatisfy { $0.sensitivity == 0 })
    }

    @Test func unmatchedReportIsIgnoredWithAWarning() {
        let a = truthCase("a", [nodule("n1", 0, 0, 0, diameter: 10)])
        let stray = StudyReport(path: "x/findings.json", seriesInstanceUID: "9.9.9", triageScore: 1,
                                findings: [finding(0, 0, 0, score: 1)])
        let summary = Evaluator.evaluate(truth: GroundTruth(cases: [a]),
                                         reports: [stray, report(for: a, [])], options: .init(bootstrapReplicates: 0))
        #expect(summary.cases.unmatchedReports == ["x/findings.json"])
        #expect(summary.findings.total == 0)
        #expect(summary.warnings.contains { $0.hasPrefix("x/findings.json") && !$0.contains("9.9.9") })
    }

    @Test func lungRADSDiameterOfSpheres() {
        // Two spheres and an ellipsoid, each hit once. The Lung-RADS diameter (diameter_mm) is
        // compared for the spheres only; the equal-volume diameter for all three.
        var a = nodule("a", 0, 0, 0, diameter: 8), b = nodule("b", 50, 0, 0, diameter: 12)
        var c = nodule("c", 100, 0, 0, diameter: 10)
        a.shape = "spherical"; b.shape = "spherical"; c.shape = "ellipsoidal"
        let scan = truthCase("s", [a, b, c])
        var hits = [finding(0, 0, 0, score: 0.9, diameter: 9.5), finding(50, 0, 0, score: 0.8, diameter: 11),
                    finding(100, 0, 0, score: 0.7, diameter: 14)]
        hits[0].equivalentDiameterMM = 8.2
        hits[1].equivalentDiameterMM = 12.4
        hits[2].equivalentDiameterMM = 10
        let summary = Evaluator.evaluate(truth: GroundTruth(cases: [scan]), reports: [report(for: scan, hits)],
                                         options: .init(bootstrapReplicates: 0))
        let m = summary.operatingPoints[0].measurement
        #expect(m.sphereLungRADSCompared == 2)
        #expect(abs(m.sphereLungRADSMeanAbsoluteErrorMM! - 1.25) < 1e-12)   // |9.5-8|, |11-12|
        #expect(abs(m.sphereLungRADSMeanErrorMM! - 0.25) < 1e-12)           // (+1.5 - 1) / 2
        #expect(abs(m.diameterMeanAbsoluteErrorMM! - 0.2) < 1e-12)          // 0.2, 0.4, 0
    }

    @Test func groupsAtOperatingPoints() {
        // Sizes 4, 8, 12 mm; types solid / ground-glass / solid; locations vary.
        let scan = truthCase("s", [
            nodule("a", 0, 0, 0, diameter: 4, type: "solid", location: "juxtapleural"),
            nodule("b", 50, 0, 0, diameter: 8, type: "ground-glass", location: "isolated"),
            nodule("c", 100, 0, 0, diameter: 12, type: "solid", location: "juxtavascular"),
        ])
        let reports = [report(for: scan, [
            finding(0, 0, 0, score: 0.2, diameter: 5, type: "solid"),
            finding(50, 0, 0, score: 0.9, diameter: 7, type: "solid"),
            finding(101, 0, 0, score: 0.7, diameter: 12.5, type: "solid"),
            finding(-60, 0, 0, score: 0.8),
            finding(-90, 0, 0, score: 0.5),
        ])]
        let summary = Evaluator.evaluate(truth: GroundTruth(cases: [scan]), reports: reports,
                                         options: .init(bootstrapReplicates: 0))
        // Points: .9 (0,1/3) .8 (1,1/3) .7 (1,2/3) .5 (2,2/3) .2 (2,1): <= 1 FP/scan -> threshold 0.7.
        let budget = summary.operatingPoints[0]
        #expect(budget.threshold == 0.7)
        #expect(budget.bySize.map(\.detected) == [0, 1, 1])
        #expect(budget.bySize.map(\.nodules) == [1, 1, 1])
        #expect(budget.byType.map(\.group) == ["solid", "ground-glass"])
        #expect(budget.byType.map(\.detected) == [1, 1])
        #expect(budget.byLocation.map(\.group) == ["isolated", "juxtavascular", "juxtapleural"])
        #expect(budget.byLocation.map(\.detected) == [1, 1, 0])
        #expect(budget.measurement.diameterMeanAbsoluteErrorMM == 0.75)   // |7-8|, |12.5-12|
        #expect(budget.measurement.solid6MMOrLargerMeanAbsoluteErrorMM == 0.5)
        #expect(budget.measurement.typeCorrect == 1)
        #expect(budget.measurement.typeCompared == 2)
        let maximum = summary.operatingPoints[1]
        #expect(maximum.threshold == 0.2)
        #expect(maximum.bySize.map(\.detected) == [1, 1, 1])
        #expect(maximum.falsePositivesPerScan == 2)
    }
}
