import Foundation
import Testing
@testable import DICOM

/// Real scanner slices in ../shared/real-ct/ against what pydicom found (expected.json).
struct RealCTTests {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/real-ct").standardizedFileURL

    struct Expected: Decodable {
        var transfer_syntax: String
        var rows: Int
        var columns: Int
        var pixel_representation: Int
        var pixel_spacing_mm: [Double]
        var image_orientation_patient: [Double]
        var image_position_patient: [Double]
        var slice_normal: [Double]
        var rescale_slope: Double
        var rescale_intercept: Double
        var pixel_padding_value: Int?
        var padding_pixels: Int
        var hu_min: Double
        var hu_max: Double
        var hu_mean: Double
    }

    static func expected() throws -> [String: Expected] {
        let data = try Data(contentsOf: folder.appendingPathComponent("expected.json"))
        return try JSONDecoder().decode([String: Expected].self, from: data)
    }

    static let names: [String] = (try? expected().keys.sorted()) ?? []

    @Test func expectedFileListsEveryScan() throws {
        let dcm = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { $0.hasSuffix(".dcm") }
        #expect(dcm.count == 8)
        #expect(Set(dcm) == Set(Self.names))
    }

    @Test(arguments: names)
    func matchesPydicom(name: String) throws {
        let e = try #require(try Self.expected()[name])
        let file = try DICOMFile.read(contentsOf: Self.folder.appendingPathComponent(name))
        #expect(file.transferSyntax.uid == e.transfer_syntax)
        #expect(file.hasPreamble)
        let d = try file.pixelDescription()
        #expect(d.rows == e.rows && d.columns == e.columns)
        #expect(d.isSigned == (e.pixel_representation == 1))
        let ds = file.dataSet
        expectClose(ds.numbers(.pixelSpacing), e.pixel_spacing_mm, 1e-6)
        expectClose(ds.numbers(.imageOrientationPatient), e.image_orientation_patient, 1e-6)
        expectClose(ds.numbers(.imagePositionPatient), e.image_position_patient, 1e-6)

        let t = try file.modalityTransform()
        #expect(t.slope == e.rescale_slope)
        #expect(t.intercept == e.rescale_intercept)
        #expect(!t.isAssumed)
        if let p = e.pixel_padding_value {
            #expect(t.paddingRange == Int64(p)...Int64(p))
        } else {
            #expect(t.paddingRange == nil)
        }

        var hu = [Float](repeating: 0, count: d.rows * d.columns)
        let stats = try hu.withUnsafeMutableBufferPointer { try file.decodeFrameHU(0, transform: t, into: $0) }
        #expect(stats.paddingCount == e.padding_pixels)
        #expect(stats.count == d.rows * d.columns - e.padding_pixels)
        #expect(abs(stats.minHU - e.hu_min) <= 1e-3)
        #expect(abs(stats.maxHU - e.hu_max) <= 1e-3)
        #expect(abs(try #require(stats.meanHU) - e.hu_mean) <= 1e-3)
        // Padding voxels hold -1024 HU in the output.
        if e.padding_pixels > 0 { #expect(hu[0] == -1024) }

        // The generic sample path agrees with the fast HU path.
        let samples = try file.decodeFrameSamples(0)
        let generic = samples.filter { v in t.paddingRange.map { !$0.contains(Int64(v)) } ?? true }
        #expect(generic.count == stats.count)
        let meanFromSamples = Double(generic.reduce(0) { $0 + Int64($1) }) / Double(generic.count) * t.slope + t.intercept
        #expect(abs(meanFromSamples - e.hu_mean) <= 1e-3)
    }

    @Test func headerOnlyReadDoesNotParsePixelData() throws {
        let url = Self.folder.appendingPathComponent("A002304_axial_19001231-076.dcm")
        let file = try DICOMFile.read(contentsOf: url, headersOnly: true)
        #expect(file.hasPixelData)
        #expect(file.dataSet[.pixelData] == nil)
        #expect(file.dataSet.string(.modality) == "CT")
        #expect(throws: DICOMError.self) { try file.decodeFrameSamples(0) }
    }
}

func expectClose(_ a: [Double], _ b: [Double], _ tolerance: Double,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, sourceLocation: sourceLocation)
    for (x, y) in zip(a, b) {
        #expect(abs(x - y) <= tolerance, "\(a) vs \(b)", sourceLocation: sourceLocation)
    }
}
