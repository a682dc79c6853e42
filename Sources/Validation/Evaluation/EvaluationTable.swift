import Foundation

/// A plain-text rendering of an evaluation for the terminal.
public enum EvaluationTable {
    public static func render(_ summary: EvaluationSummary) -> String {
        var lines: [String] = []
        let cases = summary.cases
        lines.append("Cases: \(cases.truthCases) (\(cases.cleanCases) clean), nodules: \(cases.nodules); reports matched: \(cases.reportsMatched), failed: \(cases.failedReports), missing: \(cases.missingReports.count), unmatched: \(cases.unmatchedReports.count)")
        let findings = summary.findings
        lines.append("Findings: \(findings.total); nodules hit: \(findings.detectedNodules); false positives: \(findings.falsePositives); extra hits on a hit nodule (ignored): \(findings.duplicateHits); inside several nodules (nearest taken): \(findings.insideSeveralNodules)")
        if let g = summary.calcifiedGranulomas {
            lines.append("Calcified granulomas: \(g.granulomas); findings on them (neither hits nor false positives): \(g.findings), Lung-RADS 1: \(g.lungRADS1), 3 or higher: \(g.lungRADS3OrHigher)")
        }
        if let bootstrap = summary.bootstrap {
            lines.append("Bootstrap: \(bootstrap.replicates) replicates over scans, seed \(bootstrap.seed), \(Int((bootstrap.confidence * 100).rounded()))% percentile intervals")
        }
        lines.append("")

        // FROC table: one row per rate, both nodule sets side by side.
        let rateLabels = ["1/8", "1/4", "1/2", "1", "2", "4", "8"]
        let header = ["FPs/scan", "sensitivity (all)", "sensitivity (>= 6 mm)"]
        var rows: [[String]] = []
        for (index, label) in rateLabels.enumerated() {
            rows.append([label, cell(summary.froc.sensitivities[index].sensitivity, summary.froc.sensitivities[index].ci),
                         cell(summary.frocNodules6MMOrLarger.sensitivities[index].sensitivity,
                              summary.frocNodules6MMOrLarger.sensitivities[index].ci)])
        }
        rows.append(["CPM", cell(summary.froc.cpm, summary.froc.cpmCI),
                     cell(summary.frocNodules6MMOrLarger.cpm, summary.frocNodules6MMOrLarger.cpmCI)])
        rows.append(["nodules", String(summary.froc.nodules), String(summary.frocNodules6MMOrLarger.nodules)])
        lines.append(contentsOf: table(header: header, rows: rows, rightAlign: [false, true, true]))
        lines.append("")

        // Per-group sensitivities at both operating points.
        let budget = summary.operatingPoints[0], maximum = summary.operatingPoints[1]
        lines.append("Operating points: \(budget.name): threshold \(number(budget.threshold, digits: 4)), \(number(budget.falsePositivesPerScan, digits: 3)) FPs/scan; \(maximum.name): threshold \(number(maximum.threshold, digits: 4)), \(number(maximum.falsePositivesPerScan, digits: 3)) FPs/scan")
        var groupRows: [[String]] = []
        func addGroups(_ kind: String, _ atBudget: [EvaluationSummary.GroupSensitivity],
                       _ atMaximum: [EvaluationSummary.GroupSensitivity]) {
            for (first, second) in zip(atBudget, atMaximum) {
                groupRows.append([kind, first.group, String(first.nodules),
                                  "\(first.detected) (\(number(first.sensitivity, digits: 3)))",
                                  "\(second.detected) (\(number(second.sensitivity, digits: 3)))"])
            }
        }
        addGroups("size", budget.bySize, maximum.bySize)
        addGroups("type", budget.byType, maximum.byType)
        addGroups("location", budget.byLocation, maximum.byLocation)
        lines.append(contentsOf: table(header: ["by", "group", "nodules", "detected @ \(budget.name)", "detected @ max"],
                                       rows: groupRows, rightAlign: [false, false, true, true, true]))
        lines.append("")

        let measurement = maximum.measurement
        lines.append("Measurement (best hit per detected nodule): diameter MAE \(number(measurement.diameterMeanAbsoluteErrorMM, digits: 2)) mm over \(measurement.diameterCompared); solid >= 6 mm: \(number(measurement.solid6MMOrLargerMeanAbsoluteErrorMM, digits: 2)) mm over \(measurement.solid6MMOrLargerCompared); Lung-RADS diameter of spheres: MAE \(number(measurement.sphereLungRADSMeanAbsoluteErrorMM, digits: 2)) mm, bias \(number(measurement.sphereLungRADSMeanErrorMM, digits: 2)) mm over \(measurement.sphereLungRADSCompared); type correct \(measurement.typeCorrect)/\(measurement.typeCompared) (\(number(measurement.typeAccuracy, digits: 3)))")
        let f = summary.findings
        let clean = f.cleanStudiesByPriority.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        lines.append("Actionable (score >= \(number(f.actionableScore, digits: 2))): \(f.actionableFalsePositives) false positives; clean studies by priority: \(clean.isEmpty ? "none" : clean)")
        let auc = summary.studyAUC
        lines.append("Study AUC (nodule >= 6 mm vs clean): \(cell(auc.auc, auc.ci)) with \(auc.positives) positive, \(auc.negatives) clean; \(auc.excludedSmallNodulesOnly) cases with only < 6 mm nodules excluded; \(auc.unscored) unscored")
        if !summary.warnings.isEmpty {
            lines.append("")
            lines.append("Warnings (\(summary.warnings.count)):")
            for warning in summary.warnings.prefix(20) { lines.append("  " + warning) }
            if summary.warnings.count > 20 { lines.append("  ... \(summary.warnings.count - 20) more in evaluation.json") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func cell(_ value: Double?, _ ci: ConfidenceInterval?) -> String {
        guard let value else { return "n/a" }
        var text = String(format: "%.3f", value)
        if let ci { text += String(format: " [%.3f, %.3f]", ci.low, ci.high) }
        return text
    }

    static func number(_ value: Double?, digits: Int) -> String {
        guard let value else { return "n/a" }
        return String(format: "%.\(digits)f", value)
    }

    static func table(header: [String], rows: [[String]], rightAlign: [Bool]) -> [String] {
        var widths = header.map(\.count)
        for row in rows { for (index, value) in row.enumerated() { widths[index] = max(widths[index], value.count) } }
        func format(_ row: [String]) -> String {
            row.enumerated().map { index, value in
                let padding = String(repeating: " ", count: widths[index] - value.count)
                return rightAlign[index] ? padding + value : value + padding
            }.joined(separator: "  ")
        }
        var lines = [format(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        lines.append(contentsOf: rows.map(format))
        return lines
    }
}

/// Writes evaluation outputs, each to a temporary name first and then renamed into place.
public enum EvaluationOutput {
    /// Writes `evaluation.json`, `froc.svg` and `froc.png` into `directory` (created if
    /// needed); returns the written files.
    @discardableResult
    public static func write(_ summary: EvaluationSummary, to directory: URL) throws -> [URL] {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw EvaluationError.writeFailed(path: directory.path, reason: error.localizedDescription)
        }
        let json = directory.appendingPathComponent("evaluation.json")
        let svg = directory.appendingPathComponent("froc.svg")
        try writeAtomically(try summary.jsonData(), to: json)
        try writeAtomically(Data(FROCPlot.svg(for: summary).utf8), to: svg)
        let png = directory.appendingPathComponent("froc.png")
        let pngData: Data
        do {
            pngData = try FROCPlot.png(for: summary)
        } catch {
            throw EvaluationError.writeFailed(path: png.path, reason: "PNG encoding failed: \(error)")
        }
        try writeAtomically(pngData, to: png)
        return [json, svg, png]
    }

    /// Writes to `<name>.tmp-<pid>` in the same folder, then renames over the target.
    public static func writeAtomically(_ data: Data, to url: URL) throws {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try data.write(to: temporary)
            // rename(2) replaces the target atomically: a reader sees the old file or the new one.
            guard rename(temporary.path, url.path) == 0 else {
                throw EvaluationError.writeFailed(path: url.path, reason: String(cString: strerror(errno)))
            }
        } catch let error as EvaluationError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw EvaluationError.writeFailed(path: url.path, reason: error.localizedDescription)
        }
    }
}
