import Foundation
import Testing
import Detection
import SeriesInput
import Volumes
@testable import Reports

/// Repository root, found from this file's path (Tests/ReportsTests/...).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func jsonObject(_ url: URL) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
}

@Suite struct StudyReportTests {
    /// Two findings on a small ball volume, written to a fresh OUT folder.
    func writeExample(identity: SeriesIdentity = SyntheticStudy.defaultIdentity)
        throws -> (out: URL, series: ImageSeries, assessment: StudyAssessment, document: FindingsDocument) {
        let series = SyntheticStudy.ballSeries(identity: identity)
        let f1 = SyntheticStudy.finding(rank: 1, series: series, center: SIMD3(30, 34, 12), diameterMM: 10, score: 0.93)
        let f2 = SyntheticStudy.finding(rank: 2, series: series, center: SIMD3(12.4, 15.6, 5.2), diameterMM: 4.2,
                                        score: 0.41, type: .groundGlass, lungRADS: .category2)
        let assessment = SyntheticStudy.assessment([f1, f2])
        let out = try SyntheticStudy.temporaryDirectory()
        let writer = StudyReportWriter(outputDirectory: out, provenance: SyntheticStudy.provenance)
        let document = try writer.writeReport(folderName: "series-0a1b2c", series: series, assessment: assessment,
                                              timingMS: ["decode": 120.5, "detect": 950.25])
        return (out, series, assessment, document)
    }

    @Test func findingsJSONConformsToThePublishedSchema() throws {
        let (out, _, _, _) = try writeExample()
        defer { try? FileManager.default.removeItem(at: out) }
        let schema = try MiniJSONSchema(contentsOf: repositoryRoot.appendingPathComponent("docs/findings-schema.json"))
        let json = try jsonObject(out.appendingPathComponent("studies/series-0a1b2c/findings.json"))
        #expect(schema.validate(json) == [])

        // The validator is not vacuous: it rejects a score above 1 and a missing key.
        var broken = json
        var findings = try #require(broken["findings"] as? [[String: Any]])
        findings[0]["score"] = 1.5
        findings[1].removeValue(forKey: "center_mm")
        broken["findings"] = findings
        broken["status"] = "done"
        let errors = schema.validate(broken)
        #expect(errors.contains { $0.contains("$.findings[0].score") })
        #expect(errors.contains { $0.contains("$.findings[1]") && $0.contains("center_mm") })
        #expect(errors.contains { $0.contains("$.status") })
    }

    @Test func findingsJSONHoldsWhatTheDetectorFound() throws {
        let (out, series, assessment, _) = try writeExample()
        defer { try? FileManager.default.removeItem(at: out) }
        let folder = out.appendingPathComponent("studies/series-0a1b2c")
        let json = try jsonObject(folder.appendingPathComponent("findings.json"))
        #expect(json["schema"] as? String == "triage.findings.v1")
        #expect(json["status"] as? String == "ok")
        #expect(json["error"] is NSNull)

        let study = try #require(json["study"] as? [String: Any])
        #expect(study["patient_id"] as? String == "PID-0042")
        #expect(study["study_instance_uid"] as? String == "1.2.826.0.1.3680043.8.498.1")
        #expect(study["series_instance_uid"] as? String == "1.2.826.0.1.3680043.8.498.1.2")
        #expect(study["accession_number"] as? String == "ACC123")
        #expect(study["study_date"] as? String == "20260314")
        #expect(study["modality"] as? String == "CT")
        #expect((study["source"] as? [String])?.count == series.sourcePaths.count)

        let seriesJSON = try #require(json["series"] as? [String: Any])
        #expect(seriesJSON["size"] as? [Int] == [64, 64, 24])
        #expect(seriesJSON["spacing_mm"] as? [Double] == [0.8, 0.8, 2.0])
        #expect(seriesJSON["orientation"] as? String == "axial")
        #expect((seriesJSON["warnings"] as? [String])?.first?.contains("slice gap") == true)

        let triage = try #require(json["triage"] as? [String: Any])
        #expect(triage["priority"] as? String == "urgent")
        #expect(triage["score"] as? Double == 0.91)
        #expect(triage["lung_rads"] as? String == "4A")
        #expect(triage["finding_count"] as? Int == 2)
        #expect(triage["actionable_count"] as? Int == 1)

        let findings = try #require(json["findings"] as? [[String: Any]])
        #expect(findings.count == assessment.findings.count)
        for (record, finding) in zip(findings, assessment.findings) {
            #expect(record["id"] as? String == finding.id)
            #expect(record["rank"] as? Int == finding.rank)
            #expect(abs((record["score"] as? Double ?? -1) - finding.score) < 1e-4)
            // LPS centre: origin + index * spacing along each axis (the synthetic affine is axis-aligned).
            let mm = try #require(record["center_mm"] as? [Double])
            let expected = [-120.5 + finding.centerVoxel.x * 0.8, -90.25 + finding.centerVoxel.y * 0.8,
                            -300 + finding.centerVoxel.z * 2.0]
            for i in 0..<3 { #expect(abs(mm[i] - expected[i]) < 1e-3) }
            let voxel = try #require(record["center_voxel"] as? [Double])
            #expect(abs(voxel[0] - finding.centerVoxel.x) < 1e-3 && abs(voxel[1] - finding.centerVoxel.y) < 1e-3
                    && abs(voxel[2] - finding.centerVoxel.z) < 1e-3)
            #expect(record["slice_number"] as? Int == Int(finding.centerVoxel.z.rounded()) + 1)
            #expect(abs((record["diameter_mm"] as? Double ?? -1) - finding.diameterMM) < 0.01)
            #expect(abs((record["long_axis_mm"] as? Double ?? -1) - finding.longAxisMM) < 0.01)
            #expect(abs((record["short_axis_mm"] as? Double ?? -1) - finding.shortAxisMM) < 0.01)
            #expect(abs((record["volume_mm3"] as? Double ?? -1) - finding.volumeMM3) < 0.1)
            #expect(record["type"] as? String == finding.type.rawValue)
            #expect(record["lung_rads"] as? String == finding.lungRADS.rawValue)
            // The key image exists where the relative path says, and is a PNG.
            let keyImage = try #require(record["key_image"] as? String)
            let bytes = try Data(contentsOf: folder.appendingPathComponent(keyImage))
            #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            let images = try #require(record["key_images"] as? [String: Any])
            for key in ["axial", "zoom", "coronal", "sagittal"] {
                let path = try #require(images[key] as? String)
                #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(path).path))
            }
        }
        let timing = try #require(json["timing_ms"] as? [String: Double])
        #expect(timing["decode"] == 120.5 && timing["detect"] == 950.25)
        #expect((timing["report"] ?? -1) > 0)
        #expect((json["detection_timing_ms"] as? [String: Double])?["lung_mask"] == 12.5)
        let pipeline = try #require(json["pipeline"] as? [String: Any])
        #expect(pipeline["name"] as? String == "chest-ct-nightly" && pipeline["version"] as? String == "1.0")
        #expect(json["software_version"] as? String == "0.1.0-test")

        // The typed reader gives back the same document.
        let typed = try FindingsDocument.read(from: folder.appendingPathComponent("findings.json"))
        #expect(typed.findings.map(\.id) == ["F1", "F2"])
    }

    @Test func folderAppearsCompleteAndTemporaryFoldersAreGone() throws {
        let (out, series, _, _) = try writeExample()
        defer { try? FileManager.default.removeItem(at: out) }
        let studies = out.appendingPathComponent("studies")
        #expect(try FileManager.default.contentsOfDirectory(atPath: studies.path) == ["series-0a1b2c"])
        let writer = StudyReportWriter(outputDirectory: out, provenance: SyntheticStudy.provenance)
        #expect(writer.isComplete(folderName: "series-0a1b2c"))
        #expect(!writer.isComplete(folderName: "series-other"))
        let files = try FileManager.default.contentsOfDirectory(atPath: studies.appendingPathComponent("series-0a1b2c").path)
        #expect(Set(files) == ["findings.json", "report.html", "key-images"])

        // Redoing the study replaces the folder: now with no findings, so an overview thumbnail.
        let empty = SyntheticStudy.assessment([], priority: .routine, score: 0.02)
        let redone = try writer.writeReport(folderName: "series-0a1b2c", series: series, assessment: empty)
        #expect(redone.findings.isEmpty && redone.thumbnail == "key-images/overview.png")
        let keyImages = try FileManager.default.contentsOfDirectory(
            atPath: studies.appendingPathComponent("series-0a1b2c/key-images").path)
        #expect(keyImages == ["overview.png"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: studies.path) == ["series-0a1b2c"])

        // A leftover from a crash is removed by the cleanup call.
        try FileManager.default.createDirectory(at: studies.appendingPathComponent(".tmp-series-x-123"),
                                                withIntermediateDirectories: true)
        try writer.removeStaleTemporaryFolders()
        #expect(try FileManager.default.contentsOfDirectory(atPath: studies.path) == ["series-0a1b2c"])
    }

    @Test(arguments: ["../escape", "a/b", "..", ".hidden", "", String(repeating: "x", count: 129), "name\0nul", "Doe^Jane"])
    func unsafeFolderNamesAreRefused(name: String) throws {
        let out = try SyntheticStudy.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let writer = StudyReportWriter(outputDirectory: out, provenance: SyntheticStudy.provenance)
        #expect(throws: ReportError.unsafeFolderName(name)) {
            try writer.writeFailure(folderName: name, identity: nil, sourcePaths: [], stage: "decode", reason: "x")
        }
        // Nothing was written anywhere under OUT (nor beside it).
        let left = (try? FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("studies").path)) ?? []
        #expect(left.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: out.deletingLastPathComponent().appendingPathComponent("escape").path))
    }

    @Test func findingsBeyondTheKeyImageLimitAreListedWithoutImages() throws {
        let series = SyntheticStudy.ballSeries()
        let findings = (1...3).map {
            SyntheticStudy.finding(rank: $0, series: series, center: SIMD3(30, 34, 12), diameterMM: 10,
                                   score: 1 - 0.2 * Double($0))
        }
        let out = try SyntheticStudy.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        var writer = StudyReportWriter(outputDirectory: out, provenance: SyntheticStudy.provenance)
        writer.keyImageFindingLimit = 1
        try writer.writeReport(folderName: "s", series: series, assessment: SyntheticStudy.assessment(findings))
        let folder = out.appendingPathComponent("studies/s")
        let json = try jsonObject(folder.appendingPathComponent("findings.json"))
        let records = try #require(json["findings"] as? [[String: Any]])
        #expect(records.count == 3)
        #expect(records[0]["key_image"] is String)
        #expect(records[1]["key_image"] is NSNull && records[2]["key_images"] is NSNull)
        let schema = try MiniJSONSchema(contentsOf: repositoryRoot.appendingPathComponent("docs/findings-schema.json"))
        #expect(schema.validate(json) == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("key-images").path)
            .allSatisfy { $0.hasPrefix("finding-1-") })
        let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("No key images for the 2 lower-ranked findings (F2 and below)"))
        #expect(html.contains("id=\"finding-1\"") && !html.contains("id=\"finding-2\""))
    }

    @Test func degenerateFindingsStillGiveAValidReport() throws {
        // A buggy detector: NaN centre, infinite size, a centre far outside the volume.
        let series = SyntheticStudy.ballSeries()
        var nanCentre = SyntheticStudy.finding(rank: 1, series: series, center: SIMD3(30, 34, 12), diameterMM: 10, score: 0.9)
        nanCentre.centerVoxel = SIMD3(.nan, 3, .nan)
        nanCentre.centerMM = SIMD3(.nan, .nan, .nan)
        nanCentre.sphericity = .nan
        var hugeSize = SyntheticStudy.finding(rank: 2, series: series, center: SIMD3(30, 34, 12), diameterMM: .infinity,
                                              score: 0.8)
        hugeSize.volumeMM3 = .infinity
        let outside = SyntheticStudy.finding(rank: 3, series: series, center: SIMD3(1e12, -5e9, 400), diameterMM: 8,
                                             score: 0.7)
        let out = try SyntheticStudy.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        try StudyReportWriter(outputDirectory: out, provenance: SyntheticStudy.provenance)
            .writeReport(folderName: "s", series: series, assessment: SyntheticStudy.assessment([nanCentre, hugeSize, outside]))
        let json = try jsonObject(out.appendingPathComponent("studies/s/findings.json"))
        let schema = try MiniJSONSchema(contentsOf: repositoryRoot.appendingPathComponent("docs/findings-schema.json"))
        #expect(schema.validate(json) == [])
        let records = try #require(json["findings"] as? [[String: Any]])
        #expect(records.count == 3)
        #expect(records[0]["center_voxel"] as? [Double] == [0, 3, 0])   // NaN has no JSON form: written as 0
        #expect(records.allSatisfy { $0["key_image"] is String })
    }

    @Test func singleSliceSeriesHasNoReformats() throws {
        let series = SyntheticStudy.ballSeries(columns: 48, rows: 48, slices: 1, center: SIMD3(20, 20, 0), diameterMM: 8)
        let finding = SyntheticStudy.finding(rank: 1, series: series, center: SIMD3(20, 20, 0), diameterMM: 8, score: 0.6)
        let out = try SyntheticStudy.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let document = try StudyReportWriter(outputDirectory: out, provenance: SyntheticStudy.provenance)
            .writeReport(folderName: "one", series: series, assessment: SyntheticStudy.assessment([finding]))
        let images = try #require(document.findings.first?.keyImages)
        #expect(images.coronal == nil && images.sagittal == nil)
        let json = try jsonObject(out.appendingPathComponent("studies/one/findings.json"))
        let schema = try MiniJSONSchema(contentsOf: repositoryRoot.appendingPathComponent("docs/findings-schema.json"))
        #expect(schema.validate(json) == [])
        let keyImages = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("studies/one/key-images").path)
        #expect(Set(keyImages) == ["finding-1-axial.png", "finding-1-zoom.png"])
    }

    @Test func hostileValuesAreEscapedInTheReport() throws {
        var identity = SyntheticStudy.defaultIdentity
        identity.patientName = "<script>alert('x')</script>&\"Bobby\""
        identity.patientID = "<img src=x onerror=alert(1)>"
        identity.seriesDescription = "</title><h1>injected"
        let (out, _, _, _) = try writeExample(identity: identity)
        defer { try? FileManager.default.removeItem(at: out) }
        let html = try String(contentsOf: out.appendingPathComponent("studies/series-0a1b2c/report.html"), encoding: .utf8)
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img src=x"))
        #expect(!html.contains("<h1>injected"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;Bobby&quot;"))
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;"))
        // The only <img> elements are our key images, by relative path.
        let sources = html.components(separatedBy: "<img ").dropFirst().map { $0.components(separatedBy: "src=\"")[1]
            .components(separatedBy: "\"")[0] }
        #expect(sources.count == 8)
        #expect(sources.allSatisfy { $0.hasPrefix("key-images/finding-") && $0.hasSuffix(".png") })
        #expect(html.contains("Triage support, not a diagnosis"))
        #expect(html.contains("@media print"))
        #expect(!html.contains("http://") && !html.contains("https://"))

        try WorklistWriter.writeFromReports(outputDirectory: out)
        let worklist = try String(contentsOf: out.appendingPathComponent("worklist.html"), encoding: .utf8)
        #expect(!worklist.contains("<script") && !worklist.contains("<img src=x"))
        #expect(worklist.contains("&lt;script&gt;"))
    }

    @Test(arguments: [("Doe^Jane", "Doe, Jane"), ("Doe^Jane^Q^Dr^Jr", "Doe, Dr Jane Q Jr"),
                      ("Yamada^Tarou=\u{5C71}\u{7530}^\u{592A}\u{90CE}", "Yamada, Tarou"), ("Plain Name", "Plain Name"),
                      ("^Madonna", "Madonna"), ("Smith^", "Smith")])
    func personNamesAreShownReadably(pn: String, shown: String) {
        #expect(HTMLText.personName(pn) == shown)
    }

    @Test func failedStudyGetsAReportSayingWhatFailedAndWhy() throws {
        let out = try SyntheticStudy.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let writer = StudyReportWriter(outputDirectory: out, provenance: SyntheticStudy.provenance)
        let reason = "IM0007.dcm: pixel data is 1024 bytes, rows x columns needs 524288 <truncated>"
        let document = try writer.writeFailure(folderName: "series-dead", identity: SyntheticStudy.defaultIdentity,
                                               sourcePaths: ["/in/IM0007.dcm"], stage: "decode", reason: reason,
                                               timingMS: ["decode": 3])
        #expect(document.status == "failed")
        let folder = out.appendingPathComponent("studies/series-dead")
        let json = try jsonObject(folder.appendingPathComponent("findings.json"))
        #expect(json["status"] as? String == "failed")
        #expect(json["error"] as? String == reason)
        #expect(json["failed_stage"] as? String == "decode")
        #expect(json["triage"] is NSNull && json["series"] is NSNull && json["thumbnail"] is NSNull)
        #expect((json["findings"] as? [Any])?.isEmpty == true)
        let schema = try MiniJSONSchema(contentsOf: repositoryRoot.appendingPathComponent("docs/findings-schema.json"))
        #expect(schema.validate(json) == [])

        let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("Processing failed"))
        #expect(html.contains("not assessed"))
        #expect(html.contains("Stage: <strong>decode</strong>"))
        #expect(html.contains("needs 524288 &lt;truncated&gt;"))
        #expect(html.contains("PID-0042"))
        #expect(!html.contains("<img"))
    }
}

@Suite struct ImageNoiseInReportTests {
    @Test("the detector's noise reaches findings.json (0.1 HU) and report.html; not measured is null and not shown")
    func noiseInTheReport() throws {
        let series = SyntheticStudy.ballSeries(identity: SyntheticStudy.defaultIdentity)
        let schema = try MiniJSONSchema(contentsOf: repositoryRoot.appendingPathComponent("docs/findings-schema.json"))
        for noise in [13.26, nil] as [Double?] {
            var assessment = SyntheticStudy.assessment([])
            assessment.imageNoiseHU = noise
            let out = try SyntheticStudy.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: out) }
            let writer = StudyReportWriter(outputDirectory: out, provenance: SyntheticStudy.provenance)
            _ = try writer.writeReport(folderName: "series-noise", series: series, assessment: assessment, timingMS: [:])
            let folder = out.appendingPathComponent("studies/series-noise")
            let json = try jsonObject(folder.appendingPathComponent("findings.json"))
            #expect(schema.validate(json) == [])
            let seriesObject = try #require(json["series"] as? [String: Any])
            let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
            if noise != nil {
                #expect((seriesObject["image_noise_hu"] as? Double) == 13.3)
                #expect(html.contains("<dt>Image noise</dt><dd>13 HU in the lungs (validated up to 24 HU)</dd>"))
            } else {
                #expect(seriesObject["image_noise_hu"] is NSNull)
                #expect(!html.contains("Image noise"))
            }
        }
    }
}

@Suite struct ActionableScoreInReportTests {
    /// A 0.93 solid 4A finding and a 0.05 solid 4B one, with the detector's actionable score 0.5.
    func write(actionableScore: Double?) throws -> (out: URL, json: [String: Any], html: String) {
        let series = SyntheticStudy.ballSeries()
        let f1 = SyntheticStudy.finding(rank: 1, series: series, center: SIMD3(30, 34, 12), diameterMM: 10,
                                        score: 0.93, lungRADS: .category4A)
        let f2 = SyntheticStudy.finding(rank: 2, series: series, center: SIMD3(12.4, 15.6, 5.2), diameterMM: 16,
                                        score: 0.05, lungRADS: .category4B)
        var assessment = SyntheticStudy.assessment([f1, f2])
        assessment.lungRADS = .category4A
        assessment.actionableScore = actionableScore
        return try writeStudy(assessment, series: series)
    }

    /// Writes `assessment` of `series` as study "s" in a new folder: that folder, the study's
    /// findings.json and its report.html.
    func writeStudy(_ assessment: StudyAssessment, series: ImageSeries) throws -> (out: URL, json: [String: Any], html: String) {
        let out = try SyntheticStudy.temporaryDirectory()
        try StudyReportWriter(outputDirectory: out, provenance: SyntheticStudy.provenance)
            .writeReport(folderName: "s", series: series, assessment: assessment)
        let folder = out.appendingPathComponent("studies/s")
        return (out, try jsonObject(folder.appendingPathComponent("findings.json")),
                try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8))
    }

    @Test func findingsBelowTheActionableScoreAreGreyedAndMarkedNotCounted() throws {
        let (out, json, html) = try write(actionableScore: 0.5)
        defer { try? FileManager.default.removeItem(at: out) }
        let triage = try #require(json["triage"] as? [String: Any])
        #expect(triage["actionable_score"] as? Double == 0.5)
        let schema = try MiniJSONSchema(contentsOf: repositoryRoot.appendingPathComponent("docs/findings-schema.json"))
        #expect(schema.validate(json) == [])
        // Exactly one greyed row, and it is F2's; F1's row is plain.
        let rows = html.components(separatedBy: "<tr").dropFirst()
        let greyed = rows.filter { $0.hasPrefix(" class=\"below-actionable\"") }
        #expect(greyed.count == 1)
        #expect(greyed.first?.contains("#finding-2") == true && greyed.first?.contains("not counted") == true)
        #expect(rows.contains { $0.contains("#finding-1") && !$0.contains("below-actionable") && !$0.contains("not counted") })
        #expect(html.contains("Lung-RADS 4B (not counted: score 0.05)"))
        #expect(!html.contains("Lung-RADS 4A (not counted"))
        #expect(html.contains("Greyed: 1 finding scored below 0.50, the actionable score."))
        // The header names the finding that sets the category: F1 (4A at 0.93), not the 4B at 0.05.
        #expect(html.contains("Lung-RADS 4A (from <a href=\"#finding-1\">F1</a>)"))
        #expect(json["thumbnail"] as? String == "key-images/finding-1-zoom.png")
    }

    @Test func withoutAnActionableScoreTheHighestCategoryLeads() throws {
        // Every finding counts: the 4B (F2, score 0.05) sets the category, not the 0.93 4A.
        let (out, json, html) = try write(actionableScore: nil)
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(html.contains("(from <a href=\"#finding-2\">F2</a>)"))
        #expect(json["thumbnail"] as? String == "key-images/finding-2-zoom.png")
    }

    @Test func aFindingThatIsPartOfALargerOpacitySaysSoInJSONAndHTML() throws {
        let series = SyntheticStudy.ballSeries()
        var f1 = SyntheticStudy.finding(rank: 1, series: series, center: SIMD3(30, 34, 12), diameterMM: 10, score: 0.93)
        f1.opacityExtentMM = 64.26
        let f2 = SyntheticStudy.finding(rank: 2, series: series, center: SIMD3(12.4, 15.6, 5.2), diameterMM: 4.2,
                                        score: 0.41, type: .groundGlass, lungRADS: .category2)
        let (out, json, html) = try writeStudy(SyntheticStudy.assessment([f1, f2]), series: series)
        defer { try? FileManager.default.removeItem(at: out) }
        let findings = try #require(json["findings"] as? [[String: Any]])
        #expect(findings[0]["opacity_extent_mm"] as? Double == 64.3)
        #expect(findings[1]["opacity_extent_mm"] == nil)   // absent, not null
        let schema = try MiniJSONSchema(contentsOf: repositoryRoot.appendingPathComponent("docs/findings-schema.json"))
        #expect(schema.validate(json) == [])
        let sections = html.components(separatedBy: "<section class=\"finding\"").dropFirst()
        #expect(sections.count == 2)
        #expect(sections.first?.contains("part of a larger opacity about 64 mm across") == true)
        #expect(sections.dropFirst().first?.contains("larger opacity") == false)
    }

    @Test func aCalcifiedFindingIsMarkedInJSONAndHTML() throws {
        let series = SyntheticStudy.ballSeries()
        var f1 = SyntheticStudy.finding(rank: 1, series: series, center: SIMD3(30, 34, 12), diameterMM: 7, score: 0.97,
                                        lungRADS: .category1)
        f1.calcified = true
        let f2 = SyntheticStudy.finding(rank: 2, series: series, center: SIMD3(12.4, 15.6, 5.2), diameterMM: 4.2,
                                        score: 0.41, lungRADS: .category2)
        let (out, json, html) = try writeStudy(SyntheticStudy.assessment([f1, f2]), series: series)
        defer { try? FileManager.default.removeItem(at: out) }
        let findings = try #require(json["findings"] as? [[String: Any]])
        #expect(findings[0]["calcified"] as? Bool == true)
        #expect(findings[1]["calcified"] == nil)   // absent, not false
        let schema = try MiniJSONSchema(contentsOf: repositoryRoot.appendingPathComponent("docs/findings-schema.json"))
        #expect(schema.validate(json) == [])
        let sections = html.components(separatedBy: "<section class=\"finding\"").dropFirst()
        #expect(sections.first?.contains("solid, calcified (benign pattern), Lung-RADS 1") == true)
        #expect(sections.dropFirst().first?.contains("calcified") == false)
    }

    @Test func withoutTheActionableScoreEveryFindingCounts() throws {
        let (out, json, html) = try write(actionableScore: nil)
        defer { try? FileManager.default.removeItem(at: out) }
        let triage = try #require(json["triage"] as? [String: Any])
        #expect(triage["actionable_score"] == nil)
        #expect(!html.contains("below-actionable\"") && !html.contains("not counted") && !html.contains("Greyed:"))
    }
}

@Suite struct DetectionWarningsInReportTests {
    @Test func theDetectorsWarningsFollowTheSeriesWarningsInJSONAndHTML() throws {
        let series = SyntheticStudy.ballSeries()
        let f1 = SyntheticStudy.finding(rank: 1, series: series, center: SIMD3(30, 34, 12), diameterMM: 10, score: 0.93)
        var assessment = SyntheticStudy.assessment([f1])
        assessment.warnings = ["slices 5.0 mm apart: <validated on at most 2.5 mm>"]
        let out = try SyntheticStudy.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        try StudyReportWriter(outputDirectory: out, provenance: SyntheticStudy.provenance)
            .writeReport(folderName: "s", series: series, assessment: assessment)
        let folder = out.appendingPathComponent("studies/s")
        let json = try jsonObject(folder.appendingPathComponent("findings.json"))
        let warnings = try #require((json["series"] as? [String: Any])?["warnings"] as? [String])
        #expect(warnings == series.warnings + assessment.warnings)
        let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("<h2>Series warnings</h2>"))
        #expect(html.contains("<li>slices 5.0 mm apart: &lt;validated on at most 2.5 mm&gt;</li>"))
    }
}
