import Foundation

/// Settings of one evaluation.
public struct EvaluationOptions: Sendable, Equatable {
    /// Bootstrap replicates; 0 turns the bootstrap off.
    public var bootstrapReplicates: Int
    /// Seed of the SplitMix64 stream that draws the replicates.
    public var seed: UInt64
    public var confidence: Double
    /// The false-positive budget of the per-group operating point.
    public var operatingFalsePositivesPerScan: Double
    /// The score from which a finding counts as actionable false alarm when it hits no
    /// nodule; the detector's default `actionable_score` (0.5).
    public var actionableScore: Double

    public init(bootstrapReplicates: Int = 1000, seed: UInt64 = 0, confidence: Double = 0.95,
                operatingFalsePositivesPerScan: Double = 1, actionableScore: Double = 0.5) {
        self.bootstrapReplicates = bootstrapReplicates
        self.seed = seed
        self.confidence = confidence
        self.operatingFalsePositivesPerScan = operatingFalsePositivesPerScan
        self.actionableScore = actionableScore
    }
}

/// Scores detector reports against ground truth the LUNA16 way (see `LUNA16Matcher`,
/// `FROCCurve`) and adds per-group sensitivities, measurement errors and a study-level AUC.
public enum Evaluator {
    /// The size groups of the per-group sensitivities (diameter in mm).
    public static let sizeGroups: [(name: String, contains: (Double) -> Bool)] = [
        ("<6 mm", { $0 < 6 }),
        ("6-10 mm", { $0 >= 6 && $0 < 10 }),
        (">=10 mm", { $0 >= 10 }),
    ]
    static let typeOrder = ["solid", "part-solid", "ground-glass"]
    static let locationOrder = ["isolated", "juxtavascular", "juxtapleural", "juxtamediastinal"]
    /// Log-spaced sampling of the plotted curve: 2^(-3 + k/16), k = 0...96.
    public static let curveGrid: [Double] = (0...96).map { Foundation.pow(2.0, -3.0 + Double($0) / 16.0) }

    /// Reads the truth file and every findings.json under `reportsDirectory`, then evaluates.
    /// A folder without usable reports, or whose reports match no case, is an error.
    public static func evaluate(truthFile: URL, reportsDirectory: URL,
                                options: EvaluationOptions = EvaluationOptions()) throws -> EvaluationSummary {
        let truth = try GroundTruth.load(from: truthFile)
        let collection = try StudyReportCollector.collect(directory: reportsDirectory)
        // Scoring an empty or unrelated folder would print a CPM of 0 that looks like a result.
        guard !collection.reports.isEmpty else { throw EvaluationError.noReports(path: reportsDirectory.path) }
        let truthSeries = Set(truth.cases.map(\.seriesInstanceUID))
        guard collection.reports.contains(where: { truthSeries.contains($0.seriesInstanceUID) }) else {
            throw EvaluationError.noMatchingReports(reportsPath: reportsDirectory.path, truthPath: truthFile.path,
                                                    reports: collection.reports.count)
        }
        return evaluate(truth: truth, reports: collection.reports, warnings: collection.warnings, options: options)
    }

    /// Evaluates parsed reports against the truth. `warnings` are carried into the summary.
    public static func evaluate(truth: GroundTruth, reports: [StudyReport], warnings initialWarnings: [String] = [],
                                options: EvaluationOptions = EvaluationOptions()) -> EvaluationSummary {
        var warnings = initialWarnings
        var reportBySeries: [String: StudyReport] = [:]
        for report in reports where reportBySeries[report.seriesInstanceUID] == nil {
            reportBySeries[report.seriesInstanceUID] = report
        }
        let truthSeries = Set(truth.cases.map(\.seriesInstanceUID))
        let unmatched = reports.filter { !truthSeries.contains($0.seriesInstanceUID) }.map(\.path)
        for path in unmatched {
            // The path, not the UID: identifiers stay out of logs.
            warnings.append("\(path): its series is in no truth case; ignored")
        }

        var matches: [ScanMatch] = []
        var missing: [String] = []
        var failed = 0
        var totalFindings = 0
        var aucItems: [(study: Int, score: Double, positive: Bool)] = []
        var excludedSmallOnly = 0
        var unscored = 0
        var cleanByPriority: [String: Int] = [:]
        for (index, truthCase) in truth.cases.enumerated() {
            let report = reportBySeries[truthCase.seriesInstanceUID]
            var findings: [ReportedFinding] = []
            var triageScore: Double?
            if let report {
                if report.succeeded {
                    findings = report.findings
                    triageScore = report.triageScore
                    if triageScore == nil {
                        warnings.append("\(report.path): no triage.score; ranked lowest in the study AUC")
                    }
                } else {
                    failed += 1
                }
            } else {
                missing.append(truthCase.caseID)
                warnings.append("\(truthCase.caseID): no report found; its nodules count as missed")
            }
            totalFindings += findings.count
            if truthCase.nodules.isEmpty {
                let priority = report.map { $0.succeeded ? ($0.priority ?? "none") : "failed" } ?? "missing"
                cleanByPriority[priority, default: 0] += 1
            }
            matches.append(LUNA16Matcher.match(nodules: truthCase.nodules, findings: findings,
                                               granulomas: truthCase.calcifiedGranulomas ?? []))

            let hasLarge = truthCase.nodules.contains { $0.diameterMM >= 6 }
            if truthCase.nodules.isEmpty || hasLarge {
                if triageScore == nil { unscored += 1 }
                aucItems.append((index, triageScore ?? -.infinity, hasLarge))
            } else {
                excludedSmallOnly += 1
            }
        }

        let allCandidates = FROCCandidates(scans: matches)
        let largeCandidates = FROCCandidates(scans: matches) { $0.diameterMM >= 6 }
        let allCurve = allCandidates.curve()
        let largeCurve = largeCandidates.curve()
        let studyAUC = StudyAUC(items: aucItems)

        // Bootstrap: every statistic of a replicate comes from the same resampled scan set.
        var bootstrapAll: BootstrapSamples?
        var bootstrapLarge: BootstrapSamples?
        var aucSamples: [Double] = []
        if options.bootstrapReplicates > 0, !truth.cases.isEmpty {
            var samplesAll = BootstrapSamples(), samplesLarge = BootstrapSamples()
            ScanBootstrap.forEachReplicate(scanCount: truth.cases.count, count: options.bootstrapReplicates,
                                           seed: options.seed) { multiplicity in
                samplesAll.add(allCandidates.curve(scanMultiplicity: multiplicity))
                samplesLarge.add(largeCandidates.curve(scanMultiplicity: multiplicity))
                aucSamples.append(studyAUC.auc(studyMultiplicity: multiplicity))
            }
            bootstrapAll = samplesAll
            bootstrapLarge = samplesLarge
        }

        let nodules = matches.flatMap(\.nodules)
        let operatingBudget = options.operatingFalsePositivesPerScan
        let budgetPoint = allCurve.operatingPoint(maxFalsePositivesPerScan: operatingBudget)
        let lastIndex = allCurve.thresholds.count - 1
        let operatingPoints = [
            operatingPoint(name: "fps_per_scan<=\(formatRate(operatingBudget))", threshold: budgetPoint.threshold,
                           falsePositivesPerScan: budgetPoint.falsePositivesPerScan,
                           sensitivity: budgetPoint.sensitivity, nodules: nodules),
            operatingPoint(name: "max_sensitivity", threshold: allCurve.thresholds[lastIndex],
                           falsePositivesPerScan: allCurve.falsePositivesPerScan[lastIndex],
                           sensitivity: allCurve.sensitivity[lastIndex], nodules: nodules),
        ]

        let aucValue = studyAUC.auc()
        return EvaluationSummary(
            rules: .luna16,
            cases: .init(truthCases: truth.cases.count,
                         cleanCases: truth.cases.filter { $0.nodules.isEmpty }.count,
                         nodules: nodules.count,
                         reportsFound: reports.count,
                         reportsMatched: reports.count - unmatched.count,
                         failedReports: failed,
                         missingReports: missing,
                         unmatchedReports: unmatched),
            findings: .init(total: totalFindings,
                            detectedNodules: nodules.filter(\.isDetected).count,
                            falsePositives: matches.reduce(0) { $0 + $1.falsePositiveScores.count },
                            duplicateHits: matches.reduce(0) { $0 + $1.duplicateHits },
                            insideSeveralNodules: matches.reduce(0) { $0 + $1.findingsInsideSeveralNodules },
                            actionableScore: options.actionableScore,
                            actionableFalsePositives: matches.reduce(0) { total, scan in
                                total + scan.falsePositiveScores.filter { $0 >= options.actionableScore }.count
                            },
                            cleanStudiesByPriority: cleanByPriority),
            froc: summary(of: allCurve, included: "all", bootstrap: bootstrapAll, confidence: options.confidence),
            frocNodules6MMOrLarger: summary(of: largeCurve, included: "diameter_mm >= 6",
                                            bootstrap: bootstrapLarge, confidence: options.confidence),
            operatingPoints: operatingPoints,
            studyAUC: .init(positives: studyAUC.positiveCount, negatives: studyAUC.negativeCount,
                            excludedSmallNodulesOnly: excludedSmallOnly, unscored: unscored,
                            auc: aucValue.isNaN ? nil : aucValue,
                            ci: bootstrapAll == nil ? nil : ScanBootstrap.interval(aucSamples, confidence: options.confidence)),
            bootstrap: bootstrapAll == nil ? nil : .init(
                replicates: options.bootstrapReplicates, seed: options.seed, confidence: options.confidence,
                method: "resample scans with replacement (SplitMix64 stream, index = high 64 bits of next() * scans); percentile interval: sorted[floor(p*n)], sorted[floor((1-p)*n)], p = (1-confidence)/2; replicates without nodules (or without AUC classes) left out"),
            calcifiedGranulomas: granulomaSummary(truth: truth, matches: matches),
            warnings: warnings)
    }

    /// How the findings on calcified granulomas were categorised; nil when the truth has none.
    static func granulomaSummary(truth: GroundTruth, matches: [ScanMatch]) -> EvaluationSummary.GranulomaSummary? {
        let count = truth.cases.reduce(0) { $0 + ($1.calcifiedGranulomas?.count ?? 0) }
        guard count > 0 else { return nil }
        let on = matches.flatMap(\.findingsOnGranulomas)
        return .init(granulomas: count, findings: on.count,
                     lungRADS1: on.filter { $0.lungRADS == "1" }.count,
                     lungRADS3OrHigher: on.filter { ["3", "4A", "4B", "4X"].contains($0.lungRADS ?? "") }.count)
    }

    /// Per-replicate values of one FROC.
    struct BootstrapSamples {
        var rates: [[Double]] = Array(repeating: [], count: FROCCurve.luna16Rates.count)
        var cpm: [Double] = []
        var grid: [[Double]] = Array(repeating: [], count: Evaluator.curveGrid.count)

        mutating func add(_ curve: FROCCurve) {
            var sum = 0.0
            for (index, rate) in FROCCurve.luna16Rates.enumerated() {
                let value = curve.sensitivity(atFalsePositivesPerScan: rate)
                rates[index].append(value)
                sum += value
            }
            cpm.append(sum / Double(FROCCurve.luna16Rates.count))
            for (index, rate) in Evaluator.curveGrid.enumerated() {
                grid[index].append(curve.sensitivity(atFalsePositivesPerScan: rate))
            }
        }
    }

    static func summary(of curve: FROCCurve, included: String, bootstrap: BootstrapSamples?,
                        confidence: Double) -> EvaluationSummary.FROCSummary {
        let sensitivities = FROCCurve.luna16Rates.enumerated().map { index, rate in
            EvaluationSummary.RateSensitivity(
                falsePositivesPerScan: rate,
                sensitivity: finite(curve.sensitivity(atFalsePositivesPerScan: rate)),
                ci: bootstrap.flatMap { ScanBootstrap.interval($0.rates[index], confidence: confidence) })
        }
        let points = curve.falsePositivesPerScan.indices.map { index in
            EvaluationSummary.CurvePoint(falsePositivesPerScan: curve.falsePositivesPerScan[index],
                                         sensitivity: finite(curve.sensitivity[index]),
                                         threshold: finite(curve.thresholds[index]))
        }
        var sampled = EvaluationSummary.SampledCurve(
            falsePositivesPerScan: curveGrid,
            sensitivity: curveGrid.map { finite(curve.sensitivity(atFalsePositivesPerScan: $0)) },
            ciLow: nil, ciHigh: nil)
        if let bootstrap {
            let intervals = bootstrap.grid.map { ScanBootstrap.interval($0, confidence: confidence) }
            sampled.ciLow = intervals.map { $0?.low }
            sampled.ciHigh = intervals.map { $0?.high }
        }
        return .init(nodulesIncluded: included, nodules: curve.noduleCount, scans: curve.scanCount,
                     cpm: finite(curve.cpm),
                     cpmCI: bootstrap.flatMap { ScanBootstrap.interval($0.cpm, confidence: confidence) },
                     sensitivities: sensitivities, points: points, curve: sampled)
    }

    static func operatingPoint(name: String, threshold: Double, falsePositivesPerScan: Double, sensitivity: Double,
                               nodules: [NoduleOutcome]) -> EvaluationSummary.OperatingPoint {
        func detected(_ outcome: NoduleOutcome) -> Bool {
            guard let score = outcome.bestScore else { return false }
            return score >= threshold
        }
        func groups(_ key: (TruthNodule) -> String, order: [String]) -> [EvaluationSummary.GroupSensitivity] {
            var byKey: [String: (nodules: Int, detected: Int)] = [:]
            for outcome in nodules {
                let name = key(outcome.nodule)
                byKey[name, default: (0, 0)].nodules += 1
                if detected(outcome) { byKey[name, default: (0, 0)].detected += 1 }
            }
            let names = order.filter { byKey[$0] != nil } + byKey.keys.filter { !order.contains($0) }.sorted()
            return names.map { name in
                let counts = byKey[name]!
                return .init(group: name, nodules: counts.nodules, detected: counts.detected,
                             sensitivity: Double(counts.detected) / Double(counts.nodules))
            }
        }
        let bySize = sizeGroups.map { group -> EvaluationSummary.GroupSensitivity in
            let members = nodules.filter { group.contains($0.nodule.diameterMM) }
            let hits = members.filter(detected).count
            return .init(group: group.name, nodules: members.count, detected: hits,
                         sensitivity: members.isEmpty ? nil : Double(hits) / Double(members.count))
        }

        let detectedNodules = nodules.filter(detected)
        let diameterErrors = detectedNodules.compactMap { outcome in
            outcome.measuredDiameterMM.map { abs($0 - outcome.nodule.diameterMM) }
        }
        let solidLargeErrors = detectedNodules
            .filter { $0.nodule.type == "solid" && $0.nodule.diameterMM >= 6 }
            .compactMap { outcome in outcome.measuredDiameterMM.map { abs($0 - outcome.nodule.diameterMM) } }
        let sphereErrors = detectedNodules
            .filter { $0.nodule.shape == "spherical" }
            .compactMap { outcome in outcome.measuredLungRADSDiameterMM.map { $0 - outcome.nodule.diameterMM } }
        let typed = detectedNodules.filter { $0.measuredType != nil && $0.nodule.type != nil }
        let typeCorrect = typed.filter { $0.measuredType == $0.nodule.type }.count
        let measurement = EvaluationSummary.Measurement(
            diameterCompared: diameterErrors.count,
            diameterMeanAbsoluteErrorMM: mean(diameterErrors),
            solid6MMOrLargerCompared: solidLargeErrors.count,
            solid6MMOrLargerMeanAbsoluteErrorMM: mean(solidLargeErrors),
            sphereLungRADSCompared: sphereErrors.count,
            sphereLungRADSMeanAbsoluteErrorMM: mean(sphereErrors.map(abs)),
            sphereLungRADSMeanErrorMM: mean(sphereErrors),
            typeCompared: typed.count, typeCorrect: typeCorrect,
            typeAccuracy: typed.isEmpty ? nil : Double(typeCorrect) / Double(typed.count))

        return .init(name: name, threshold: finite(threshold), falsePositivesPerScan: falsePositivesPerScan,
                     sensitivity: finite(sensitivity),
                     bySize: bySize,
                     byType: groups({ $0.type ?? "unspecified" }, order: typeOrder),
                     byLocation: groups({ $0.location ?? "unspecified" }, order: locationOrder),
                     measurement: measurement)
    }

    static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    static func finite(_ value: Double) -> Double? {
        value.isFinite ? value : nil
    }

    /// "1", "0.5", "0.125": a rate as a short decimal.
    static func formatRate(_ rate: Double) -> String {
        rate == rate.rounded() ? String(Int(rate)) : String(rate)
    }
}
