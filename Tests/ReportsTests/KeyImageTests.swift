import Foundation
import Testing
import Detection
import SeriesInput
import Volumes
@testable import Reports

/// Key images read back from the PNG files: the outline is where the finding is and has
/// the radius its diameter gives at the image's pixel size, computed here by hand from the
/// synthetic geometry (0.8 mm pixels, 2 mm slices, ball at column 30, row 34, slice 12).
@Suite struct KeyImageTests {
    static let outline = RGBColor.findingOutline

    /// Whether the pixel is the outline colour (yellow), not a gray level.
    func isOutline(_ p: (r: Int, g: Int, b: Int)) -> Bool { p.r > 230 && p.g > 190 && p.b < 40 }
    func isGray(_ p: (r: Int, g: Int, b: Int)) -> Bool { p.r == p.g && p.g == p.b }

    /// Pixels at `radius` from (cx, cy) in 16 directions that avoid the label corner
    /// (up-right) and the orientation letters; each must be outline-coloured.
    func ringSamples(cx: Double, cy: Double, radius: Double) -> [(Int, Int)] {
        stride(from: 0.0, to: 360.0, by: 22.5).compactMap { degrees -> (Int, Int)? in
            if degrees > 280 && degrees < 360 { return nil }   // label sits up-right (y grows down)
            let a = degrees * .pi / 180
            return (Int((cx + radius * cos(a)).rounded()), Int((cy + radius * sin(a)).rounded()))
        }
    }

    func write() throws -> (URL, FindingsDocument.FindingRecord) {
        let series = SyntheticStudy.ballSeries()
        let finding = SyntheticStudy.finding(rank: 1, series: series, center: SIMD3(30, 34, 12), diameterMM: 10,
                                             score: 0.9)
        let out = try SyntheticStudy.temporaryDirectory()
        let document = try StudyReportWriter(outputDirectory: out, provenance: SyntheticStudy.provenance)
            .writeReport(folderName: "s1", series: series, assessment: SyntheticStudy.assessment([finding]))
        return (out.appendingPathComponent("studies/s1"), document.findings[0])
    }

    @Test func axialImageCirclesTheFindingToScale() throws {
        let (folder, record) = try write()
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent().deletingLastPathComponent()) }
        let image = try DecodedRGB.read(folder.appendingPathComponent(try #require(record.keyImages).axial))
        #expect(image.width == 64 && image.height == 64)   // 0.8 mm pixels, native size
        let radius = 5.0 / 0.8                              // 10 mm diameter -> 6.25 px
        for (x, y) in ringSamples(cx: 30, cy: 34, radius: radius) {
            #expect(isOutline(image.rgb(x, y)), "pixel (\(x), \(y)) at the radius should be outline, is \(image.rgb(x, y))")
        }
        // Inside the ring: the ball at lung window, gray level of +40 HU = (40 + 1350) / 1500 * 255.
        let centre = image.rgb(30, 34)
        #expect(isGray(centre) && abs(centre.r - 236) <= 1)
        // Three pixels inside and outside the ring: no outline colour.
        for (x, y) in ringSamples(cx: 30, cy: 34, radius: radius - 3) + ringSamples(cx: 30, cy: 34, radius: radius + 3) {
            #expect(isGray(image.rgb(x, y)), "pixel (\(x), \(y)) off the ring should be gray, is \(image.rgb(x, y))")
        }
        // Lung background: -850 HU -> 85.
        #expect(image.rgb(50, 55) == (85, 85, 85))
    }

    @Test func smallFindingGetsTicksThatLeaveItVisible() throws {
        // 4 mm at 0.8 mm pixels: radius 2.5 px, so ticks from 3 + 3 = 6 px out to 11 px.
        let series = SyntheticStudy.ballSeries(center: SIMD3(30, 34, 12), diameterMM: 4)
        let finding = SyntheticStudy.finding(rank: 1, series: series, center: SIMD3(30, 34, 12), diameterMM: 4, score: 0.5)
        let out = try SyntheticStudy.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let document = try StudyReportWriter(outputDirectory: out, provenance: SyntheticStudy.provenance)
            .writeReport(folderName: "s", series: series, assessment: SyntheticStudy.assessment([finding]))
        let image = try DecodedRGB.read(out.appendingPathComponent("studies/s")
            .appendingPathComponent(try #require(document.findings[0].keyImages).axial))
        for (x, y) in [(30 - 8, 34), (30 + 8, 34), (30, 34 + 8), (30, 34 - 8)] {
            #expect(isOutline(image.rgb(x, y)), "tick pixel (\(x), \(y)) is \(image.rgb(x, y))")
        }
        // The ring at 2.5 px is outline; the centre pixel is still the nodule's gray
        // (1.5 px from a 2 px line centred at 2.5 px).
        #expect(isOutline(image.rgb(30 + 2, 34)) || isOutline(image.rgb(30 + 3, 34)))
        let centre = image.rgb(30, 34)
        #expect(isGray(centre) && abs(centre.r - 236) <= 1)
        // Between the ring and the ticks (4 px out): background, untouched.
        #expect(isGray(image.rgb(30 - 5, 34)))
    }

    @Test func coronalReformatIsResampledToSquarePixelsWithSuperiorUp() throws {
        let (folder, record) = try write()
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent().deletingLastPathComponent()) }
        let path = try #require(record.keyImages?.coronal)
        #expect(path.hasSuffix("coronal.png"))
        let image = try DecodedRGB.read(folder.appendingPathComponent(path))
        // Width: 64 columns x 0.8 mm / 0.8 mm; height: 24 slices x 2 mm / 0.8 mm = 60 pixels.
        #expect(image.width == 64 && image.height == 60)
        // Slices run towards the head (+z), so the last slice is at the top: slice 12 lies
        // (24 - 1 - 12 + 0.5) x 2 mm = 23 mm below the top edge -> pixel centre 23 / 0.8 - 0.5.
        let cy = 23 / 0.8 - 0.5
        for (x, y) in ringSamples(cx: 30, cy: cy, radius: 6.25) {
            #expect(isOutline(image.rgb(x, y)), "coronal (\(x), \(y)) is \(image.rgb(x, y))")
        }
        let centre = image.rgb(30, Int(cy.rounded()))
        #expect(isGray(centre) && centre.r > 220)
    }

    @Test func sagittalReformatGoesThroughTheCentre() throws {
        let (folder, record) = try write()
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent().deletingLastPathComponent()) }
        let image = try DecodedRGB.read(folder.appendingPathComponent(try #require(record.keyImages?.sagittal)))
        #expect(image.width == 64 && image.height == 60)
        // Rows run posterior (+y): anterior stays on the left, so row 34 is at x = 34.
        let cy = 23 / 0.8 - 0.5
        for (x, y) in ringSamples(cx: 34, cy: cy, radius: 6.25) {
            #expect(isOutline(image.rgb(x, y)), "sagittal (\(x), \(y)) is \(image.rgb(x, y))")
        }
        #expect(image.rgb(34, Int(cy.rounded())).r > 220)
    }

    @Test func zoomIsCentredWithTheCircleAtScale() throws {
        let (folder, record) = try write()
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent().deletingLastPathComponent()) }
        let image = try DecodedRGB.read(folder.appendingPathComponent(try #require(record.keyImages).zoom))
        #expect(image.width == 256 && image.height == 256)
        // Field = max(4 x 10 mm, 30 mm) = 40 mm over 256 px: the 5 mm radius is 32 px.
        let radius = 5.0 / (40.0 / 256)
        for (x, y) in ringSamples(cx: 127.5, cy: 127.5, radius: radius) {
            #expect(isOutline(image.rgb(x, y)), "zoom (\(x), \(y)) is \(image.rgb(x, y))")
        }
        for (x, y) in ringSamples(cx: 127.5, cy: 127.5, radius: radius - 6) {
            #expect(isGray(image.rgb(x, y)) && image.rgb(x, y).r > 220)
        }
    }

    @Test func anisotropicInPlaneSpacingStillGivesARoundCircle() throws {
        // 0.6 mm columns, 1.2 mm rows: the native slice is resampled to 0.6 mm square pixels.
        let spacing = VoxelSpacing(columnMM: 0.6, rowMM: 1.2, sliceMM: 1.0)
        let series = SyntheticStudy.ballSeries(columns: 64, rows: 32, slices: 8, spacing: spacing,
                                               center: SIMD3(32, 16, 4), diameterMM: 9)
        let image = KeyImageRenderer().nativeSlice(of: series.volume, through: SIMD3(32, 16, 4))
        #expect(image.raster.width == 64 && image.raster.height == 64 && image.pixelMM == 0.6)
        // Row 16's centre lies (16 + 0.5) x 1.2 mm from the top edge -> pixel 32.5.
        #expect(abs(image.referenceX - 32) < 1e-9 && abs(image.referenceY - 32.5) < 1e-9)
    }

    @Test func windowMapsLungWindowEnds() {
        let w = HUWindow.lung
        #expect(w.grayLevel(-1350) == 0 && w.grayLevel(-2000) == 0)
        #expect(w.grayLevel(150) == 255 && w.grayLevel(3000) == 255)
        #expect(w.grayLevel(-600) == 128)   // 127.5 rounds up
    }
}
