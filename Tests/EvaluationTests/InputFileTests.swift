@testable import Evaluation
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// Reading truth.json and findings.json: good files, bad files, clear reasons.
struct InputFileTests {
    static let truthJSON = """
    {"schema": "triage.truth.v1", "seed": 7, "generator": "test",
     "cases": [{"case_id": "case-000", "patient_id": "P0", "study_instance_uid": "1.1",
                "series_instance_uid": "1.1.1", "folder": "case-000", "format": "dicom",
                "slices": 10, "rows": 64, "columns": 64,
                "nodules": [{"id": "n1", "center_mm": [1.5, -2, 30], "diameter_mm": 8, "volume_mm3": 268.1,
                             "type": "part-solid", "shape": "lobulated", "location": "juxtapleural"}]},
               {"case_id": "case-001", "series_instance_uid": "1.1.2", "nodules": []}]}
    """

    @Test func readsTruth() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("truth.json")
        try write(Self.truthJSON, to: url)
        let truth = try GroundTruth.load(from: url)
        #expect(truth.cases.count == 2)
        #expect(truth.cases[0].nodules[0].centerMM == [1.5, -2, 30])
        #expect(truth.cases[0].nodules[0].type == "part-solid")
        #expect(truth.cases[0].nodules[0].location == "juxtapleural")
        #expect(truth.cases[1].nodules.isEmpty)
    }

    @Test(arguments: [
        ("{\"schema\": \"triage.truth.v2\", \"cases\": []}", "expected \"triage.truth.v1\""),
        ("{\"schema\": \"triage.truth.v1\"}", "missing key \"cases\""),
        ("{\"schema\": \"triage.truth.v1\", \"cases\": [{\"case_id\": \"c\", \"series_instance_uid\": \"1\", \"nodules\": [{\"id\": \"n\", \"center_mm\": [0, 0], \"diameter_mm\": 5}]}]}",
         "center_mm must be three numbers"),
        ("{\"schema\": \"triage.truth.v1\", \"cases\": [{\"case_id\": \"c\", \"series_instance_uid\": \"1\", \"nodules\": [{\"id\": \"n\", \"center_mm\": [0, 0, 0], \"diameter_mm\": -5}]}]}",
         "diameter_mm must be a positive number"),
        ("{\"schema\": \"triage.truth.v1\", \"cases\": [{\"case_id\": \"a\", \"series_instance_uid\": \"1\", \"nodules\": []}, {\"case_id\": \"b\", \"series_instance_uid\": \"1\", \"nodules\": []}]}",
         "cases a and b have the same series_instance_uid"),
        ("{\"schema\": \"triage.truth.v1\", \"cases\": [{\"case_id\": \"a\", \"series_instance_uid\": \"1\", \"nodules\": \"none\"}]}",
         "wrong type at cases[0].nodules"),
        ("{not json", "not valid JSON"),
    ])
    func badTruthNamesFileAndReason(text: String, reason: String) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("truth.json")
        try write(text, to: url)
        do {
            _ = try GroundTruth.load(from: url)
            Issue.record("expected an error for \(text)")
        } catch let error as EvaluationError {
            #expect(error.description.hasPrefix(url.path))
            #expect(error.description.contains(reason), "\(error.description)")
        }
    }

    @Test func missingTruthFileIsAClearError() {
        let url = URL(fileURLWithPath: "/nonexistent/truth.json")
        #expect(throws: EvaluationError.self) { try GroundTruth.load(from: url) }
    }

    static func findingsJSON(series: String, status: String = "ok", findings: String = "[]", score: String = "0.5") -> String {
        """
        {"schema": "triage.findings.v1", "status": "\(status)", "error": null,
         "study": {"patient_id": "P", "study_instance_uid": "1", "series_instance_uid": "\(series)"},
         "triage": {"priority": "routine", "score": \(score), "lung_rads": "2"},
         "findings": \(findings)}
        """
    }

    @Test func collectsReportsRecursivelyAndSkipsBadOnes() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try write(Self.findingsJSON(series: "1.1.1", findings: """
            [{"id": "f1", "center_mm": [1, 2, 3], "score": 0.75, "diameter_mm": 7.5, "type": "solid"}]
            """), to: folder.appendingPathComponent("studies/b/findings.json"))
        try write(Self.findingsJSON(series: "1.1.2"), to: folder.appendingPathComponent("deep/er/a/findings.json"))
        try write("{", to: folder.appendingPathComponent("studies/broken/findings.json"))
        try write(Self.findingsJSON(series: "1.1.3", findings: "[{\"center_mm\": [1, 2], \"score\": 0.5}]"),
                  to: folder.appendingPathComponent("studies/short/findings.json"))
        try write(Self.findingsJSON(series: "1.1.4", findings: "[{\"center_mm\": [1, 2, 3], \"score\": true}]"),
                  to: folder.appendingPathComponent("studies/boolean/findings.json"))
        try write(Self.findingsJSON(series: "1.1.5", status: "pending"),
                  to: folder.appendingPathComponent("studies/pending/findings.json"))
        try write("{\"schema\": \"other\"}", to: folder.appendingPathComponent("studies/other/findings.json"))
        try write("unrelated", to: folder.appendingPathComponent("studies/b/report.html"))

        let collection = try StudyReportCollector.collect(directory: folder)
        #expect(collection.reports.map(\.path) == ["deep/er/a/findings.json", "studies/b/findings.json"])
        let b = collection.reports[1]
        #expect(b.findings == [finding(1, 2, 3, score: 0.75, diameter: 7.5, type: "solid")])
        #expect(b.triageScore == 0.5)
        #expect(b.priority == "routine")
        #expect(collection.warnings.count == 5)
        #expect(collection.warnings[0].hasPrefix("studies/boolean/findings.json: skipped: wrong type at findings[0].score"))
        let reasons = [
            "studies/broken/findings.json: skipped: not valid JSON",
            "studies/other/findings.json: skipped: schema is \"other\", expected \"triage.findings.v1\"",
            "studies/pending/findings.json: skipped: status is \"pending\", expected \"ok\" or \"failed\"",
            "studies/short/findings.json: skipped: findings[0].center_mm is not three numbers",
        ]
        #expect(Array(collection.warnings.dropFirst()) == reasons)
    }

    /// Coordinates are read correctly rounded. (Foundation's JSONSerialization on Linux reads
    /// "-162.35000000000002" one ulp off, which moved findings that lie exactly on a nodule's
    /// boundary inside it; the cross-check against the Python reference on 1000 cases found it.)
    @Test func numbersAreReadExactly() throws {
        let texts = ["-162.35000000000002", "-132.98000000000002", "-265.77000000000004", "-236.73999999999998"]
        let json = Self.findingsJSON(series: "1", findings: "[" + texts.map { "{\"center_mm\": [\($0), 0, \($0)], \"score\": \($0)}" }
            .joined(separator: ", ") + "]")
        let parsed = try StudyReportCollector.parse(Data(json.utf8), path: "x")
        for (finding, text) in zip(parsed.findings, texts) {
            let exact = try #require(Double(text))
            #expect(finding.centerMM.x.bitPattern == exact.bitPattern)
            #expect(finding.centerMM.z.bitPattern == exact.bitPattern)
            #expect(finding.score.bitPattern == exact.bitPattern)
        }
        // And the hit decision that depends on it: a finding exactly on the sphere is not a hit.
        let center = -162.35000000000002 - 7.3 / 2
        let onSurface = try #require(Double("\(center + 7.3 / 2)"))
        let match = LUNA16Matcher.match(nodules: [nodule("n", 0, 0, center, diameter: 7.3)],
                                        findings: [finding(0, 0, onSurface, score: 0.5)])
        let inside = (onSurface - center) * (onSurface - center) < (7.3 / 2) * (7.3 / 2)
        #expect(match.nodules[0].isDetected == inside)
    }

    /// The measured diameter scored against the truth's (equal-volume) `diameter_mm` is the
    /// finding's `equivalent_diameter_mm` when the report has one, else its `diameter_mm`.
    @Test func diameterErrorUsesTheEquivalentDiameterWhenReported() throws {
        let json = Self.findingsJSON(series: "1.2.3.a", findings: """
            [{"center_mm": [0, 0, 0], "score": 0.9, "diameter_mm": 9.0, "equivalent_diameter_mm": 8.25},
             {"center_mm": [40, 0, 0], "score": 0.8, "diameter_mm": 6.5}]
            """)
        let parsed = try StudyReportCollector.parse(Data(json.utf8), path: "x")
        #expect(parsed.findings[0].comparedDiameterMM == 8.25)
        #expect(parsed.findings[1].comparedDiameterMM == 6.5)
        let scan = truthCase("a", [nodule("n1", 0, 0, 0, diameter: 8), nodule("n2", 40, 0, 0, diameter: 7)])
        let summary = Evaluator.evaluate(truth: GroundTruth(cases: [scan]), reports: [parsed],
                                         options: .init(bootstrapReplicates: 0))
        // |8.25 - 8| and |6.5 - 7|; with diameter_mm alone it would have been |9 - 8| and |6.5 - 7|.
        #expect(summary.operatingPoints[0].measurement.diameterMeanAbsoluteErrorMM == 0.375)
    }

    @Test func twoReportsForOneSeriesIsAnError() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try write(Self.findingsJSON(series: "1.1.1"), to: folder.appendingPathComponent("a/findings.json"))
        try write(Self.findingsJSON(series: "1.1.1"), to: folder.appendingPathComponent("b/findings.json"))
        #expect(throws: EvaluationError.duplicateReports(firstPath: "a/findings.json", secondPath: "b/findings.json")) {
            try StudyReportCollector.collect(directory: folder)
        }
        #expect(throws: EvaluationError.notADirectory(path: folder.appendingPathComponent("a/findings.json").path)) {
            try StudyReportCollector.collect(directory: folder.appendingPathComponent("a/findings.json"))
        }
    }

    @Test func emptyOrUnrelatedReportsFolderIsAnError() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let truthURL = folder.appendingPathComponent("truth.json")
        try write(Self.truthJSON, to: truthURL)
        let reports = folder.appendingPathComponent("reports")
        try FileManager.default.createDirectory(at: reports, withIntermediateDirectories: true)
        #expect(throws: EvaluationError.noReports(path: reports.path)) {
            try Evaluator.evaluate(truthFile: truthURL, reportsDirectory: reports)
        }
        try write(Self.findingsJSON(series: "7.7.7"), to: reports.appendingPathComponent("x/findings.json"))
        #expect(throws: EvaluationError.noMatchingReports(reportsPath: reports.path, truthPath: truthURL.path, reports: 1)) {
            try Evaluator.evaluate(truthFile: truthURL, reportsDirectory: reports)
        }
    }

    /// End to end on files: evaluate, write evaluation.json and froc.svg, read them back.
    @Test func writesOutputsThatParse() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let truthURL = folder.appendingPathComponent("truth.json")
        try write(Self.truthJSON, to: truthURL)
        try write(Self.findingsJSON(series: "1.1.1", findings: """
            [{"center_mm": [2, -2, 31], "score": 0.8}, {"center_mm": [60, 0, 0], "score": 0.3}]
            """, score: "0.8"), to: folder.appendingPathComponent("reports/one/findings.json"))
        try write(Self.findingsJSON(series: "1.1.2", findings: "[{\"center_mm\": [0, 0, 0], \"score\": 0.6}]", score: "0.6"),
                  to: folder.appendingPathComponent("reports/two/findings.json"))
        let summary = try Evaluator.evaluate(truthFile: truthURL, reportsDirectory: folder.appendingPathComponent("reports"),
                                             options: .init(bootstrapReplicates: 50, seed: 1))
        // Candidates: 0.8 hit, 0.6 FP, 0.3 FP over 2 scans.
        #expect(summary.froc.points.map(\.falsePositivesPerScan) == [0, 0, 0.5, 1])
        #expect(summary.studyAUC.auc == 1)
        let out = folder.appendingPathComponent("out")
        let files = try EvaluationOutput.write(summary, to: out)
        #expect(files.map(\.lastPathComponent) == ["evaluation.json", "froc.svg", "froc.png"])
        let decoded = try JSONDecoder().decode(EvaluationSummary.self, from: Data(contentsOf: files[0]))
        #expect(decoded == summary)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: files[0])) as? [String: Any])
        #expect(object["schema"] as? String == "triage.evaluation.v1")
        #expect((object["froc_nodules_6mm_or_larger"] as? [String: Any])?["nodules"] as? Int == 1)
        // The SVG is well-formed XML with the curve and the band.
        let svgData = try Data(contentsOf: files[1])
        let document = try XMLDocument(data: svgData)
        #expect(document.rootElement()?.name == "svg")
        let svg = String(decoding: svgData, as: UTF8.self)
        #expect(svg.contains("<polyline"))
        #expect(svg.contains("<polygon"))
        #expect(svg.contains(">1/8<") && svg.contains(">8<"))
        // No leftover temporary files.
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(names == ["evaluation.json", "froc.png", "froc.svg"])

        // The PNG: signature, IHDR size and colour type (2 = RGB), read from the bytes.
        let png = [UInt8](try Data(contentsOf: files[2]))
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let be32 = { (offset: Int) in png[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) } }
        #expect(be32(16) == 760 && be32(20) == 560 && png[25] == 2)
    }

    /// The raster plot puts the markers where the curve is and writes the title.
    @Test func rasterPlotDrawsCurveAndText() throws {
        // One scan, two nodules (4 and 8 mm): hit on the 8 mm one at 0.9, one FP at 0.5.
        let scan = truthCase("s", [nodule("a", 0, 0, 0, diameter: 4), nodule("b", 50, 0, 0, diameter: 8)])
        let summary = Evaluator.evaluate(truth: GroundTruth(cases: [scan]),
                                         reports: [report(for: scan, [finding(50, 0, 0, score: 0.9), finding(90, 0, 0, score: 0.5)])],
                                         options: .init(bootstrapReplicates: 0))
        let image = FROCPlot.drawing(for: summary).raster()
        #expect(image.width == 760 && image.height == 560)
        func pixel(_ x: Double, _ y: Double) -> (Int, Int, Int) {
            let index = (Int(y) * image.width + Int(x)) * 3
            return (Int(image.rgb[index]), Int(image.rgb[index + 1]), Int(image.rgb[index + 2]))
        }
        #expect(pixel(3, 3) == (255, 255, 255))
        // All nodules: 0.5 at every rate (blue dot); >= 6 mm: 1.0 (orange dot).
        let blue = pixel(FROCPlot.xPosition(2), FROCPlot.yPosition(0.5))
        #expect(blue.2 > 150 && blue.0 < 80, "\(blue)")
        // (3 px below the centre: the plot frame is drawn over the 1.0 line.)
        let orange = pixel(FROCPlot.xPosition(2), FROCPlot.yPosition(1.0) + 3)
        #expect(orange.0 > 180 && orange.2 < 80, "\(orange)")
        // A point on no curve, inside the plot, is background or grid (grey, r = g = b).
        let empty = pixel(FROCPlot.xPosition(0.7), FROCPlot.yPosition(0.75))
        #expect(empty.0 == empty.1 && empty.1 == empty.2 && empty.0 > 200)
        // Title glyphs: dark pixels in the title band, none above it.
        let titleDark = (14..<34).contains { y in (200..<560).contains { x in pixel(Double(x), Double(y)).0 < 100 } }
        let aboveTitle = (0..<8).contains { y in (0..<760).contains { x in pixel(Double(x), Double(y)).0 < 250 } }
        #expect(titleDark)
        #expect(!aboveTitle)
    }
}
