import Foundation
import Testing
import Detection
import SeriesInput
import Volumes
@testable import Reports

/// Renders the worklist and a report in a real browser (headless Chromium) through
/// scripts/render_reports.py and asserts that every image loaded at its PNG size.
///
/// Policy: Chromium is part of the test environment (`scripts/setup.sh --tests`, which
/// scripts/test.sh and CI run, installs Debian's `chromium`), so a missing browser FAILS
/// this test instead of skipping it. Set TRIAGE_SKIP_BROWSER_TESTS=1 to skip it on a
/// developer machine without a browser; set TRIAGE_REPORT_SCREENSHOTS=DIR to keep the
/// screenshots (that is how docs/images/example-*.png are made, see docs/reports.md) and
/// TRIAGE_REPORT_EXAMPLE_OUT=DIR to keep the example batch itself.
@Suite struct BrowserRenderTests {
    /// - Parameter scale: 1 for the docs' pictures; smaller keeps the DEBUG test quick.
    static func exampleBatch(at out: URL, scale k: Double) throws {
        let writer = StudyReportWriter(outputDirectory: out,
                                       provenance: ReportProvenance(pipelineName: "chest-ct-nightly",
                                                                    pipelineVersion: "1.0", softwareVersion: "0.1.0"))
        func identity(_ id: String, _ name: String, _ accession: String) -> SeriesIdentity {
            SeriesIdentity(patientID: id, patientName: name, studyInstanceUID: "1.2.826.0.1.3680043.8.498.\(id.hashValue & 0xffff)",
                           seriesInstanceUID: "1.2.826.0.1.3680043.8.498.7.\(accession)", accessionNumber: accession,
                           studyDate: "20260314", modality: "CT", seriesDescription: "Chest 5.0 Lung", seriesNumber: 2)
        }
        // Urgent: a 14 mm part-solid nodule (right lung) and a 6 mm solid one (left lung).
        let urgent = ChestLikeStudy.make(seed: 11, nodules: [.init(center: SIMD3(48, 72, 22), diameterMM: 14, hu: 10),
                                                             .init(center: SIMD3(112, 60, 14), diameterMM: 6, hu: 30)],
                                         identity: identity("PAT-1007", "Example^Anna", "A1007"), scale: k)
        func finding(_ rank: Int, _ s: ImageSeries, _ c: SIMD3<Double>, _ d: Double, _ score: Double, _ type: NoduleType,
                     _ rads: LungRADSCategory, _ side: String, _ zone: String) -> Finding {
            var f = SyntheticStudy.finding(rank: rank, series: s, center: c * k, diameterMM: d, score: score, type: type,
                                           lungRADS: rads)
            f.lungSide = side
            f.lungZone = zone
            return f
        }
        try writer.writeReport(folderName: "series-3f9a17c2", series: urgent, assessment: SyntheticStudy.assessment(
            [finding(1, urgent, SIMD3(48, 72, 22), 14, 0.94, .partSolid, .category4B, "right", "middle"),
             finding(2, urgent, SIMD3(112, 60, 14), 6, 0.62, .solid, .category3, "left", "lower")],
            priority: .urgent, score: 0.94), timingMS: ["decode": 410, "detect": 2310])
        let soon = ChestLikeStudy.make(seed: 23, nodules: [.init(center: SIMD3(106, 80, 26), diameterMM: 7, hu: 35)],
                                       identity: identity("PAT-2291", "Example^Boris", "A2291"), scale: k)
        try writer.writeReport(folderName: "series-81c0d4e5", series: soon, assessment: SyntheticStudy.assessment(
            [finding(1, soon, SIMD3(106, 80, 26), 7, 0.71, .solid, .category3, "left", "middle")],
            priority: .soon, score: 0.71), timingMS: ["decode": 395, "detect": 2290])
        let clean = ChestLikeStudy.make(seed: 31, nodules: [], identity: identity("PAT-3310", "Example^Chen", "A3310"), scale: k)
        try writer.writeReport(folderName: "series-c2d7702b", series: clean, assessment: SyntheticStudy.assessment(
            [], priority: .routine, score: 0.04), timingMS: ["decode": 388, "detect": 2270])
        try writer.writeFailure(folderName: "series-0be41190", identity: identity("PAT-4410", "Example^Dana", "A4410"),
                                sourcePaths: ["/archive/2026-03-14/CT44/IM0001.dcm"], stage: "decode",
                                reason: "IM0001.dcm: transfer syntax 1.2.840.10008.1.2.4.100 (MPEG2 video) is not supported")
        try WorklistWriter.writeFromReports(outputDirectory: out)
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["TRIAGE_SKIP_BROWSER_TESTS"] != "1",
                   "TRIAGE_SKIP_BROWSER_TESTS=1"))
    func worklistAndReportRenderInChromiumWithEveryImageLoaded() throws {
        let environment = ProcessInfo.processInfo.environment
        // TRIAGE_REPORT_EXAMPLE_OUT=DIR keeps the example batch there for looking at by hand.
        let keptOut = environment["TRIAGE_REPORT_EXAMPLE_OUT"].map { URL(fileURLWithPath: $0) }
        let out = try keptOut ?? SyntheticStudy.temporaryDirectory()
        defer { if keptOut == nil { try? FileManager.default.removeItem(at: out) } }
        let keep = environment["TRIAGE_REPORT_SCREENSHOTS"]
        // TRIAGE_REPORT_EXAMPLE_SCALE=1.6 gives 1 mm pixels for the docs' pictures.
        let scale = environment["TRIAGE_REPORT_EXAMPLE_SCALE"].flatMap(Double.init) ?? 0.6
        try Self.exampleBatch(at: out, scale: scale)

        let screenshots = keep.map { URL(fileURLWithPath: $0) }
            ?? out.appendingPathComponent("screenshots")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repositoryRoot.appendingPathComponent("scripts/render_reports.py").path,
                             out.path, "--screenshots", screenshots.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "render_reports.py failed:\n\(output)")
        // The worklist shows a thumbnail per assessed study (two zooms, one overview).
        #expect(output.contains("worklist: worklist.html: 3 images loaded in Chromium"), "\(output)")
        // The urgent study's report: 2 findings x 4 key images.
        #expect(output.contains("report: studies/series-3f9a17c2/report.html: 8 images loaded in Chromium"), "\(output)")
        for name in ["worklist.png", "report.png"] {
            #expect(FileManager.default.fileExists(atPath: screenshots.appendingPathComponent(name).path))
        }
    }
}
