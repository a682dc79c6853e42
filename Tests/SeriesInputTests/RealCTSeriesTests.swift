import Foundation
import Testing
import Volumes
@testable import SeriesInput

/// The real scanner slices assembled as series: geometry from expected.json (pydicom).
struct RealCTSeriesTests {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/real-ct").standardizedFileURL

    struct Expected: Decodable {
        var pixel_spacing_mm: [Double]
        var image_orientation_patient: [Double]
        var image_position_patient: [Double]
        var slice_normal: [Double]
        var padding_pixels: Int
        var hu_min: Double
        var hu_max: Double
        var hu_mean: Double
    }

    @Test func everySliceIsASeriesWithPydicomGeometry() throws {
        let expected = try JSONDecoder().decode(
            [String: Expected].self, from: Data(contentsOf: Self.folder.appendingPathComponent("expected.json")))
        let result = SeriesDiscovery.discover(paths: [Self.folder])
        #expect(result.series.count == 8)
        // README.md and expected.json are not DICOM.
        #expect(Set(result.skipped.map { URL(fileURLWithPath: $0.path).lastPathComponent }) == ["README.md", "expected.json"])
        for d in result.series {
            let name = URL(fileURLWithPath: try #require(d.sourcePaths.first)).lastPathComponent
            let e = try #require(expected[name])
            let s = try d.load()
            let iop = e.image_orientation_patient, ps = e.pixel_spacing_mm
            let a = s.volume.affine
            #expect(close(a.origin, SIMD3(e.image_position_patient[0], e.image_position_patient[1], e.image_position_patient[2])))
            #expect(close(a.columnStep, SIMD3(iop[0], iop[1], iop[2]) * ps[1]))
            #expect(close(a.rowStep, SIMD3(iop[3], iop[4], iop[5]) * ps[0]))
            let n = SIMD3(e.slice_normal[0], e.slice_normal[1], e.slice_normal[2])
            #expect(close(a.sliceStep / s.volume.spacing.sliceMM, n, 1e-5))
            let label = ["axial", "coronal", "sagittal"].first { name.contains($0) }
            #expect(s.orientation == label)
            #expect(s.statistics.paddingVoxelCount == e.padding_pixels)
            #expect(abs(s.statistics.minHU - e.hu_min) <= 1e-3)
            #expect(abs(s.statistics.maxHU - e.hu_max) <= 1e-3)
            #expect(abs(s.statistics.meanHU - e.hu_mean) <= 1e-3)
            #expect(s.identity.modality == "CT")
        }
    }
}
