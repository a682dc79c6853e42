import Foundation
import Detection
import Profiling
import SeriesInput
import Volumes

/// Who produced a report: goes into every `findings.json` and report footer.
public struct ReportProvenance: Sendable, Equatable {
    public var pipelineName: String
    public var pipelineVersion: String
    /// The `triage` version.
    public var softwareVersion: String

    public init(pipelineName: String, pipelineVersion: String, softwareVersion: String) {
        self.pipelineName = pipelineName
        self.pipelineVersion = pipelineVersion
        self.softwareVersion = softwareVersion
    }
}

/// Writes one study's report folder, `OUT/studies/<folder>/`:
/// `findings.json` (schema `triage.findings.v1`), `report.html` and `key-images/*.png`.
///
/// Completion protocol (what a resuming pipeline relies on): the whole folder is built
/// under `OUT/studies/.tmp-<folder>-<uuid>/`, each file written to a temporary name,
/// flushed and renamed, `findings.json` last; then the folder is renamed to `<folder>`.
/// So `OUT/studies/<folder>/findings.json` exists if and only if the study's report is
/// complete, and a crash leaves at most a `.tmp-*` folder, which
/// `removeStaleTemporaryFolders()` deletes.
///
/// The folder name is chosen by the caller from a content-derived id (e.g.
/// `SeriesDescriptor.id`); this writer never builds paths from DICOM values and refuses
/// names that are not a single safe path component.
public struct StudyReportWriter: Sendable {
    /// The batch output folder `OUT`.
    public var outputDirectory: URL
    public var provenance: ReportProvenance
    public var renderer: KeyImageRenderer
    /// Key images are drawn for the findings ranked 1...keyImageFindingLimit; the rest are
    /// listed in findings.json and the table without pictures. Encoding four PNGs per
    /// finding costs tens of ms at 512x512, and a detector tuned for FROC may report many
    /// low-score candidates.
    public var keyImageFindingLimit: Int = 20

    public init(outputDirectory: URL, provenance: ReportProvenance, renderer: KeyImageRenderer = KeyImageRenderer()) {
        self.outputDirectory = outputDirectory
        self.provenance = provenance
        self.renderer = renderer
    }

    public static let findingsFileName = "findings.json"
    public static let reportFileName = "report.html"
    public static let keyImagesFolder = "key-images"

    /// `OUT/studies`.
    public var studiesDirectory: URL { outputDirectory.appendingPathComponent("studies", isDirectory: true) }

    /// `OUT/studies/<folderName>`.
    public func studyDirectory(folderName: String) -> URL {
        studiesDirectory.appendingPathComponent(folderName, isDirectory: true)
    }

    /// Whether the study's report is complete (its `findings.json` exists).
    public func isComplete(folderName: String) -> Bool {
        ReportFiles.isSafeFolderName(folderName)
            && FileManager.default.fileExists(atPath: studyDirectory(folderName: folderName)
                .appendingPathComponent(Self.findingsFileName).path)
    }

    /// Deletes `.tmp-*` folders left in `OUT/studies` by an interrupted run. Call it when a
    /// batch starts, before any writer runs.
    public func removeStaleTemporaryFolders() throws {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: studiesDirectory.path) else { return }
        for name in names where name.hasPrefix(ReportFiles.temporaryPrefix) {
            try fm.removeItem(at: studiesDirectory.appendingPathComponent(name))
        }
    }

    // MARK: - Assessed study

    /// Writes the report of an assessed study.
    /// - Parameters:
    ///   - folderName: a safe single path component chosen by the caller.
    ///   - timingMS: wall time per pipeline stage so far (decode, detect, ...); the time
    ///     spent here is added as "report" unless the caller already gave it.
    /// - Returns: the document written to `findings.json`.
    @discardableResult
    public func writeReport(folderName: String, series: ImageSeries, assessment: StudyAssessment,
                            timingMS: [String: Double] = [:]) throws -> FindingsDocument {
        let started = DispatchTime.now().uptimeNanoseconds
        return try buildFolder(folderName) { temporary in
            let keyDirectory = temporary.appendingPathComponent(Self.keyImagesFolder, isDirectory: true)
            try ReportFiles.createDirectory(keyDirectory)
            let volume = series.volume
            let findings = assessment.findings.sorted { $0.rank < $1.rank }

            var records: [FindingsDocument.FindingRecord] = []
            var figures: [String: [StudyReportHTML.Figure]] = [:]
            for (index, finding) in findings.enumerated() {
                guard index < keyImageFindingLimit, volume.voxelCount > 0 else {
                    records.append(FindingsDocument.FindingRecord(finding: finding, keyImages: nil))
                    continue
                }
                let (images, figureList) = try writeKeyImages(for: finding, volume: volume, into: keyDirectory)
                records.append(FindingsDocument.FindingRecord(finding: finding, keyImages: images))
                figures[finding.id] = figureList
            }
            // The worklist's thumbnail: the leading finding's zoom (the one that makes the
            // study urgent), else the top-ranked finding's.
            var thumbnail: String?
            let leading = FindingsDocument.leadingFinding(of: records, actionableScore: assessment.actionableScore)
            if let zoom = leading?.keyImages?.zoom ?? records.first?.keyImages?.zoom {
                thumbnail = zoom
            } else if volume.voxelCount == 0 {
                thumbnail = nil
            } else {
                thumbnail = "\(Self.keyImagesFolder)/overview.png"
                let middle = SIMD3(Double(volume.columns - 1) / 2, Double(volume.rows - 1) / 2,
                                   Double(volume.slices - 1) / 2)
                var small = renderer
                small.maximumSide = 192
                let overview = small.nativeSlice(of: volume, through: middle)
                try writePNG(overview.raster, to: keyDirectory.appendingPathComponent("overview.png"))
            }

            var stageTiming = timingMS
            var document = FindingsDocument(
                schema: FindingsDocument.schemaID, status: "ok", error: nil, failedStage: nil,
                study: .init(identity: series.identity, source: series.sourcePaths),
                series: .init(series: series, detectionWarnings: assessment.warnings,
                              imageNoiseHU: assessment.imageNoiseHU),
                triage: .init(priority: assessment.priority.rawValue, score: rounded(assessment.score, 4),
                              lungRADS: assessment.lungRADS.rawValue, findingCount: records.count,
                              actionableCount: assessment.actionableCount
                                  ?? findings.filter { $0.lungRADS >= .category3 }.count,
                              actionableScore: assessment.actionableScore),
                findings: records, timingMS: [:], detectionTimingMS: assessment.timingMS.mapValues { rounded($0, 2) },
                pipeline: .init(name: provenance.pipelineName, version: provenance.pipelineVersion),
                softwareVersion: provenance.softwareVersion, generatedAt: ReportFiles.timestamp(),
                reportHTML: Self.reportFileName, thumbnail: thumbnail)
            if stageTiming["report"] == nil {
                stageTiming["report"] = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
            }
            document.timingMS = stageTiming.mapValues { rounded($0, 2) }
            return (document, StudyReportHTML.assessed(document, figures: figures))
        }
    }

    // MARK: - Failed study

    /// Writes the report of a study that could not be processed: `findings.json` with
    /// status "failed", the stage and the reason, and a `report.html` that says so.
    /// - Parameters:
    ///   - identity: what is known of the study (from the headers), if anything.
    ///   - series: the decoded series when the failure came after decoding.
    @discardableResult
    public func writeFailure(folderName: String, identity: SeriesIdentity?, sourcePaths: [String],
                             series: ImageSeries? = nil, stage: String, reason: String,
                             timingMS: [String: Double] = [:]) throws -> FindingsDocument {
        try buildFolder(folderName) { _ in
            let document = FindingsDocument(
                schema: FindingsDocument.schemaID, status: "failed", error: reason, failedStage: stage,
                study: .init(identity: identity ?? series?.identity ?? SeriesIdentity(),
                             source: series?.sourcePaths ?? sourcePaths),
                series: series.map { FindingsDocument.Series(series: $0) }, triage: nil, findings: [],
                timingMS: timingMS.mapValues { rounded($0, 2) }, detectionTimingMS: [:],
                pipeline: .init(name: provenance.pipelineName, version: provenance.pipelineVersion),
                softwareVersion: provenance.softwareVersion, generatedAt: ReportFiles.timestamp(),
                reportHTML: Self.reportFileName, thumbnail: nil)
            return (document, StudyReportHTML.failed(document))
        }
    }

    // MARK: - Internals

    /// The completion protocol: `fill` writes key images into a fresh temporary folder and
    /// returns the document and page; then report.html, findings.json (last) and the rename.
    /// On any error the temporary folder is removed and nothing appears.
    private func buildFolder(_ folderName: String,
                             fill: (URL) throws -> (FindingsDocument, String)) throws -> FindingsDocument {
        guard ReportFiles.isSafeFolderName(folderName) else { throw ReportError.unsafeFolderName(folderName) }
        try ReportFiles.createDirectory(studiesDirectory)
        let temporary = studiesDirectory.appendingPathComponent(
            "\(ReportFiles.temporaryPrefix)\(folderName)-\(UUID().uuidString)", isDirectory: true)
        try ReportFiles.createDirectory(temporary)
        do {
            let (document, html) = try Profiler.span("report.key_images_and_html") { try fill(temporary) }
            try ReportFiles.writeAtomically(html, to: temporary.appendingPathComponent(Self.reportFileName))
            // Last: findings.json marks the folder complete.
            try ReportFiles.writeAtomically(try document.encodedJSON(),
                                            to: temporary.appendingPathComponent(Self.findingsFileName))
            ReportFiles.syncDirectory(temporary.appendingPathComponent(Self.keyImagesFolder))
            ReportFiles.syncDirectory(temporary)
            try ReportFiles.publishFolder(temporary, as: studyDirectory(folderName: folderName))
            ReportFiles.syncDirectory(studiesDirectory)
            return document
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// Line width of the finding outline, display pixels.
    static let outlineWidth = 2.0

    /// Field of view of the zoomed crop: four diameters, at least 30 mm, at most 120 mm.
    static func zoomFieldMM(diameterMM: Double) -> Double { min(max(4 * diameterMM, 30), 120) }
    static let zoomSide = 256

    /// Renders and writes the axial (native), zoom, and two reformat images of a finding.
    private func writeKeyImages(for finding: Finding, volume: Volume, into directory: URL) throws
        -> (FindingsDocument.KeyImages, [StudyReportHTML.Figure]) {
        // A detector bug must not cost the report: a non-finite or far-away centre is drawn
        // at the nearest point of the volume, a non-finite or negative size as 0.
        func clamp(_ v: Double, _ count: Int) -> Double { v.isFinite ? min(max(v, 0), Double(count - 1)) : Double(count - 1) / 2 }
        let center = SIMD3(clamp(finding.centerVoxel.x, volume.columns), clamp(finding.centerVoxel.y, volume.rows),
                           clamp(finding.centerVoxel.z, volume.slices))
        let diameterMM = finding.diameterMM.isFinite ? min(max(finding.diameterMM, 0), 1000) : 0
        let radiusMM = diameterMM / 2
        let label = "F\(finding.rank)"
        let prefix = "finding-\(finding.rank)"
        let folder = Self.keyImagesFolder
        var figures: [StudyReportHTML.Figure] = []

        func circled(_ image: PlaneImage) -> PlaneImage {
            var image = image
            let r = radiusMM / image.pixelMM
            let cx = image.referenceX, cy = image.referenceY
            image.raster.strokeEllipse(centerX: cx, centerY: cy, radiusX: r, radiusY: r,
                                       lineWidth: Self.outlineWidth, color: .findingOutline)
            func pixel(_ v: Double) -> Int { v.isFinite ? Int(min(max(v, -1e6), 1e6).rounded()) : 0 }
            // A small finding's to-scale circle hides the finding itself: add four ticks
            // pointing at it from outside (from r + 3 to r + 9 pixels), which do not.
            if r < 6 {
                let (x, y) = (pixel(cx), pixel(cy))
                let inner = pixel(r + 3), length = 6
                image.raster.fillRect(x: x - inner - length, y: y - 1, width: length, height: 2, color: .findingOutline)
                image.raster.fillRect(x: x + inner + 1, y: y - 1, width: length, height: 2, color: .findingOutline)
                image.raster.fillRect(x: x - 1, y: y - inner - length, width: 2, height: length, color: .findingOutline)
                image.raster.fillRect(x: x - 1, y: y + inner + 1, width: 2, height: length, color: .findingOutline)
            }
            // Label up-right of the circle, at a size that suits the picture.
            let labelScale = image.raster.width >= 200 ? 2 : 1
            let lx = pixel(cx + max(r, 9) * 0.75 + 4)
            let ly = pixel(cy - max(r, 9) * 0.75 - Double(9 * labelScale))
            image.raster.drawLabel(label, x: min(lx, image.raster.width - RGBRaster.labelWidth(label, scale: labelScale) - 2),
                                   y: max(ly, 2), scale: labelScale, color: .findingOutline)
            return image
        }

        let sliceNumber = Int(center.z.rounded()) + 1
        let axial = circled(renderer.nativeSlice(of: volume, through: center))
        let axialName = "\(prefix)-axial.png"
        try writePNG(axial.raster, to: directory.appendingPathComponent(axialName))
        figures.append(.init(path: "\(folder)/\(axialName)", cssClass: "axial", width: axial.raster.width,
                             height: axial.raster.height,
                             caption: "\(axial.planeName.capitalized) slice \(sliceNumber) of \(volume.slices), lung window"))

        let field = Self.zoomFieldMM(diameterMM: diameterMM)
        var zoom = circled(renderer.zoomedNativeSlice(of: volume, through: center, fieldMM: field, side: Self.zoomSide))
        // 10 mm scale bar, bottom left.
        let barPixels = Int((10 / zoom.pixelMM).rounded())
        zoom.raster.fillRect(x: 10, y: zoom.raster.height - 14, width: barPixels, height: 3, color: .label)
        zoom.raster.drawLabel("10MM", x: 10, y: zoom.raster.height - 32, scale: 2, color: .label)
        let zoomName = "\(prefix)-zoom.png"
        try writePNG(zoom.raster, to: directory.appendingPathComponent(zoomName))
        figures.append(.init(path: "\(folder)/\(zoomName)", cssClass: "zoom", width: zoom.raster.width,
                             height: zoom.raster.height,
                             caption: "Zoom, \(Int(field.rounded())) mm field, circle = \(String(format: "%.1f", diameterMM)) mm"))

        var coronalPath: String?, sagittalPath: String?
        if volume.slices > 1 {
            for (kind, image) in [("row", renderer.rowReformat(of: volume, through: center)),
                                  ("column", renderer.columnReformat(of: volume, through: center))] {
                let drawn = circled(image)
                // Name the file by what it shows (coronal/sagittal for an axial series).
                let name = "\(prefix)-\(drawn.planeName == "axial" || drawn.planeName == "oblique" ? "\(drawn.planeName)-\(kind)" : drawn.planeName).png"
                try writePNG(drawn.raster, to: directory.appendingPathComponent(name))
                figures.append(.init(path: "\(folder)/\(name)", cssClass: kind == "row" ? "coronal" : "sagittal",
                                     width: drawn.raster.width, height: drawn.raster.height,
                                     caption: "\(drawn.planeName.capitalized) reformat through the centre"))
                if kind == "row" { coronalPath = "\(folder)/\(name)" } else { sagittalPath = "\(folder)/\(name)" }
            }
        }
        let images = FindingsDocument.KeyImages(axial: "\(folder)/\(axialName)", zoom: "\(folder)/\(zoomName)",
                                                coronal: coronalPath, sagittal: sagittalPath)
        return (images, figures)
    }

    private func writePNG(_ raster: RGBRaster, to url: URL) throws {
        let data: Data
        do {
            // Profiler span: the RGB raster's bytes are what the encoder reads.
            data = try Profiler.span("report.png_encode", voxels: raster.width * raster.height,
                                     bytesMoved: raster.pixels.count) { try KeyImagePNG.encode(raster) }
        } catch {
            throw ReportError.imageEncodingFailed(path: url.path, reason: String(describing: error))
        }
        try ReportFiles.writeAtomically(data, to: url)
    }
}
