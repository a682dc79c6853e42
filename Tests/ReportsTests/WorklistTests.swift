import Foundation
import Testing
import Detection
import SeriesInput
import Volumes
@testable import Reports

/// An RFC 4180 reader, written for the test from the RFC's grammar (not from the writer).
func parseCSV(_ text: String) -> [[String]] {
    var rows: [[String]] = [], row: [String] = [], field = ""
    var inQuotes = false
    var chars = Array(text)[...]
    while let c = chars.popFirst() {
        if inQuotes {
            if c == "\"" {
                if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { inQuotes = false }
            } else {
                field.append(c)
            }
        } else if c == "\"" {
            inQuotes = true
        } else if c == "," {
            row.append(field); field = ""
        } else if c == "\r\n" || c == "\n" {   // Swift folds CR LF into one Character
            row.append(field); field = ""
            rows.append(row); row = []
        } else {
            field.append(c)
        }
    }
    if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
    return rows
}

@Suite struct WorklistTests {
    /// Writes six studies (five assessed with mixed priorities and scores, one failed) and
    /// the worklist; returns OUT.
    func writeBatch(hostileName: String = "Doe^Jane") throws -> URL {
        let out = try SyntheticStudy.temporaryDirectory()
        let writer = StudyReportWriter(outputDirectory: out, provenance: SyntheticStudy.provenance)
        let small = SyntheticStudy.ballSeries(columns: 24, rows: 24, slices: 6, center: SIMD3(12, 12, 3), diameterMM: 6)
        let cases: [(String, TriagePriority, Double, [Double])] = [
            ("s-routine-high", .routine, 0.30, []),
            ("s-urgent-low", .urgent, 0.70, [7]),
            ("s-soon", .soon, 0.55, [5, 6.5]),
            ("s-urgent-high", .urgent, 0.95, [4, 12, 9]),
            ("s-routine-low", .routine, 0.05, []),
        ]
        for (folder, priority, score, diameters) in cases {
            var series = small
            series.identity.patientName = folder == "s-soon" ? hostileName : "Patient \(folder)"
            let findings = diameters.enumerated().map { i, d in
                SyntheticStudy.finding(rank: i + 1, series: series, center: SIMD3(12, 12, 3), diameterMM: d,
                                       score: 0.9 - 0.1 * Double(i),
                                       type: d >= 9 ? .partSolid : .solid,
                                       lungRADS: d >= 8 ? .category4A : (d >= 6 ? .category3 : .category2))
            }
            try writer.writeReport(folderName: folder, series: series,
                                   assessment: SyntheticStudy.assessment(findings, priority: priority, score: score))
        }
        try writer.writeFailure(folderName: "s-failed", identity: SyntheticStudy.defaultIdentity,
                                sourcePaths: ["/in/x.dcm"], stage: "decode",
                                reason: "x.dcm: transfer syntax 1.2.840.10008.1.2.4.100 (MPEG2) is not supported")
        try WorklistWriter.writeFromReports(outputDirectory: out)
        return out
    }

    @Test func worklistRanksFailedFirstThenPriorityThenScore() throws {
        let out = try writeBatch()
        defer { try? FileManager.default.removeItem(at: out) }
        let json = try jsonObject(out.appendingPathComponent("worklist.json"))
        #expect(json["schema"] as? String == "triage.worklist.v1")
        #expect(json["study_count"] as? Int == 6 && json["failed_count"] as? Int == 1)
        let studies = try #require(json["studies"] as? [[String: Any]])
        #expect(studies.map { $0["folder"] as? String ?? "" }
                == ["s-failed", "s-urgent-high", "s-urgent-low", "s-soon", "s-routine-high", "s-routine-low"])
        let failed = studies[0]
        #expect(failed["status"] as? String == "failed" && failed["failed_stage"] as? String == "decode")
        #expect((failed["error"] as? String)?.contains("1.2.840.10008.1.2.4.100") == true)

        // The largest finding is by diameter, not by rank: 12 mm (rank 2) in s-urgent-high.
        let top = studies[1]
        #expect(top["finding_count"] as? Int == 3)
        #expect(top["actionable_count"] as? Int == 2)
        let largest = try #require(top["largest_finding"] as? [String: Any])
        #expect(largest["diameter_mm"] as? Double == 12 && largest["rank"] as? Int == 2)
        #expect(largest["type"] as? String == "part-solid" && largest["lung_rads"] as? String == "4A")
        // Its own score (rank 2 scores 0.9 - 0.1), shown because the largest may be a low-score finding.
        #expect(abs((largest["score"] as? Double ?? -1) - 0.8) < 1e-9)
        #expect(top["report"] as? String == "studies/s-urgent-high/report.html")
        let thumb = try #require(top["thumbnail"] as? String)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(thumb).path))
        #expect(studies[4]["thumbnail"] as? String == "studies/s-routine-high/key-images/overview.png")

        // worklist.html lists the same order: failed section first, then reading order.
        let html = try String(contentsOf: out.appendingPathComponent("worklist.html"), encoding: .utf8)
        let positions = ["s-failed/report.html", "s-urgent-high/report.html", "s-urgent-low/report.html",
                         "s-soon/report.html", "s-routine-high/report.html", "s-routine-low/report.html"]
            .map { try! #require(html.range(of: $0)).lowerBound }
        #expect(positions == positions.sorted())
        #expect(html.contains("Failed: not assessed (1)"))
        #expect(html.contains("12.0 mm part-solid (4A, score 0.80)"))
        // There the largest finding is also the leading one (4A at 0.8 beats 4A at 0.7).
        let leading = try #require(top["leading_finding"] as? [String: Any])
        #expect(leading["rank"] as? Int == 2 && leading["lung_rads"] as? String == "4A")
        #expect(html.contains("the leading one"))
        // Every thumbnail referenced exists.
        for src in html.components(separatedBy: "src=\"").dropFirst().map({ $0.components(separatedBy: "\"")[0] }) {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(src).path), "\(src)")
        }
    }

    /// The worklist's leading finding is the one that sets the study's category: among findings
    /// at or above the actionable score, the highest category, then score; the largest may be
    /// another (here a 23 mm ground-glass category 2 at 0.31, below the actionable score).
    @Test func leadingFindingIsTheOneThatSetsTheCategoryNotTheLargest() throws {
        let out = try SyntheticStudy.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let writer = StudyReportWriter(outputDirectory: out, provenance: SyntheticStudy.provenance)
        let series = SyntheticStudy.ballSeries(columns: 24, rows: 24, slices: 6, center: SIMD3(12, 12, 3), diameterMM: 6)
        func write(_ folder: String, _ spec: [(diameterMM: Double, score: Double, type: NoduleType, lungRADS: LungRADSCategory)],
                   priority: TriagePriority) throws {
            let findings = spec.enumerated().map { i, f in
                SyntheticStudy.finding(rank: i + 1, series: series, center: SIMD3(12, 12, 3), diameterMM: f.diameterMM,
                                       score: f.score, type: f.type, lungRADS: f.lungRADS)
            }
            var assessment = SyntheticStudy.assessment(findings, priority: priority, score: spec.map(\.score).max() ?? 0)
            assessment.actionableScore = 0.5
            try writer.writeReport(folderName: folder, series: series, assessment: assessment)
        }
        // Category before score: the 4B at 0.62 leads, not the 3 at 0.97 or the large 2 at 0.31.
        try write("s-a", [(6.5, 0.97, .solid, .category3), (16.9, 0.62, .solid, .category4B),
                          (23.4, 0.31, .groundGlass, .category2)], priority: .urgent)
        // Nothing at or above the actionable score: no leading finding, a largest one.
        try write("s-b", [(14, 0.05, .solid, .category4A)], priority: .routine)
        try WorklistWriter.writeFromReports(outputDirectory: out)

        let studies = try #require(try jsonObject(out.appendingPathComponent("worklist.json"))["studies"] as? [[String: Any]])
        let a = try #require(studies.first { $0["folder"] as? String == "s-a" })
        let leading = try #require(a["leading_finding"] as? [String: Any])
        #expect(leading["diameter_mm"] as? Double == 16.9 && leading["lung_rads"] as? String == "4B")
        #expect(leading["rank"] as? Int == 2)
        let largest = try #require(a["largest_finding"] as? [String: Any])
        #expect(largest["diameter_mm"] as? Double == 23.4 && largest["lung_rads"] as? String == "2")
        // The thumbnail is the leading finding's zoom (rank 2), not the top-ranked one's.
        #expect(a["thumbnail"] as? String == "studies/s-a/key-images/finding-2-zoom.png")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("studies/s-a/key-images/finding-2-zoom.png").path))
        // Without a leading finding: the top-ranked one's.
        #expect(thumbnailOfStudyB(studies) == "studies/s-b/key-images/finding-1-zoom.png")
        let b = try #require(studies.first { $0["folder"] as? String == "s-b" })
        #expect(b["leading_finding"] is NSNull)
        #expect((b["largest_finding"] as? [String: Any])?["diameter_mm"] as? Double == 14)

        let html = try String(contentsOf: out.appendingPathComponent("worklist.html"), encoding: .utf8)
        #expect(html.contains("<td>16.9 mm solid (4B, score 0.62)</td><td>23.4 mm ground-glass (2, score 0.31)</td>"))
        #expect(html.contains("<td>&mdash;</td><td>14.0 mm solid (4A, score 0.05)</td>"))

        let rows = parseCSV(try String(contentsOf: out.appendingPathComponent("worklist.csv"), encoding: .utf8))
        let header = rows[0]
        let folder = try #require(header.firstIndex(of: "folder"))
        let diameter = try #require(header.firstIndex(of: "leading_diameter_mm"))
        let category = try #require(header.firstIndex(of: "leading_lung_rads"))
        let rowA = try #require(rows.first { $0[folder] == "s-a" })
        let rowB = try #require(rows.first { $0[folder] == "s-b" })
        #expect(rowA[diameter] == "16.9" && rowA[category] == "4B")
        #expect(rowB[diameter] == "" && rowB[category] == "")
    }

    private func thumbnailOfStudyB(_ studies: [[String: Any]]) -> String? {
        studies.first { $0["folder"] as? String == "s-b" }?["thumbnail"] as? String
    }

    @Test func csvQuotesCommasQuotesAndNewlines() throws {
        let hostile = "Doe, \"Jim\"\nJr"
        let out = try writeBatch(hostileName: hostile)
        defer { try? FileManager.default.removeItem(at: out) }
        let text = try String(contentsOf: out.appendingPathComponent("worklist.csv"), encoding: .utf8)
        let rows = parseCSV(text)
        #expect(rows.count == 7)
        let header = rows[0]
        #expect(rows.allSatisfy { $0.count == header.count })
        let name = try #require(header.firstIndex(of: "patient_name"))
        let folder = try #require(header.firstIndex(of: "folder"))
        let soon = try #require(rows.first { $0[folder] == "s-soon" })
        #expect(soon[name] == hostile)
        #expect(rows.map { $0[folder] } == ["folder", "s-failed", "s-urgent-high", "s-urgent-low", "s-soon",
                                            "s-routine-high", "s-routine-low"])
        let order = try #require(header.firstIndex(of: "order"))
        #expect(rows.dropFirst().map { $0[order] } == ["1", "2", "3", "4", "5", "6"])
        let error = try #require(header.firstIndex(of: "error"))
        #expect(rows[1][error].contains("(MPEG2) is not supported"))
    }

    @Test func spreadsheetFormulasAreDefused() {
        #expect(WorklistWriter.csvField("a,b") == "\"a,b\"")
        #expect(WorklistWriter.csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(WorklistWriter.csvField("plain") == "plain")
        var entry = WorklistEntry(folder: "f", unreadableReason: "=HYPERLINK(\"http://x\")")
        entry.patientName = "@SUM(A1)"
        let rows = parseCSV(WorklistWriter.csv([entry]))
        let header = rows[0]
        #expect(rows[1][header.firstIndex(of: "patient_name")!] == "'@SUM(A1)")
        #expect(rows[1][header.firstIndex(of: "error")!] == "'=HYPERLINK(\"http://x\")")
    }

    @Test func unreadableFindingsBecomeAFailedRow() throws {
        let out = try writeBatch()
        defer { try? FileManager.default.removeItem(at: out) }
        try Data("{\"schema\": \"something.else\"}".utf8)
            .write(to: out.appendingPathComponent("studies/s-soon/findings.json"))
        let entries = WorklistWriter.ranked(WorklistWriter.collectEntries(outputDirectory: out))
        #expect(entries.prefix(2).map(\.folder) == ["s-failed", "s-soon"])
        #expect(entries[1].error?.contains("findings.json") == true)
    }
}
