import Foundation
import ImageCodecs
@testable import SeriesInput
import Testing
import Volumes

/// A temporary slice folder, removed afterwards.
private final class SliceFolder {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("image-slices-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    func writeSidecar(_ json: String) throws {
        try json.write(to: file("series.json"), atomically: true, encoding: .utf8)
    }

    /// All files in the folder, in a scrambled order (the reader must sort them).
    func files() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted().reversed().map { file($0) }
    }
}

/// Stored value of voxel (x, y) in slice `z` of the synthetic test series: distinct per
/// slice so that a wrong order shows.
private func storedValue(x: Int, y: Int, z: Int) -> UInt16 {
    UInt16(1000 + 100 * z + 7 * x + 3 * y)
}

private func writeSeries16(_ folder: SliceFolder, names: [String], width: Int = 6, height: Int = 4) throws {
    for (z, name) in names.enumerated() {
        var samples = [UInt16]()
        for y in 0..<height { for x in 0..<width { samples.append(storedValue(x: x, y: y, z: z)) } }
        try PNGCodec.write(GrayImage(width: width, height: height, bitDepth: 16, samples: samples),
                           to: folder.file(name))
    }
}

@Suite struct NaturalOrderTests {
    @Test func numbersCompareByValue() {
        let names = ["slice10.png", "slice2.png", "slice1.png", "slice100.png", "slice20.png"]
        #expect(names.sorted(by: ImageSliceSeriesReader.naturalOrder)
                == ["slice1.png", "slice2.png", "slice10.png", "slice20.png", "slice100.png"])
    }

    @Test func zeroPaddedAndUnpaddedInterleave() {
        let names = ["IMG_0010.png", "IMG_9.png", "IMG_0002.png", "IMG_011.png"]
        #expect(names.sorted(by: ImageSliceSeriesReader.naturalOrder)
                == ["IMG_0002.png", "IMG_9.png", "IMG_0010.png", "IMG_011.png"])
    }

    @Test func severalNumberRunsAndCase() {
        let names = ["Series2-slice10.png", "series10-slice1.png", "series2-Slice9.png", "SERIES1-slice300.png"]
        #expect(names.sorted(by: ImageSliceSeriesReader.naturalOrder)
                == ["SERIES1-slice300.png", "series2-Slice9.png", "Series2-slice10.png", "series10-slice1.png"])
    }

    @Test func numbersLongerThan64BitsStillCompare() {
        #expect(ImageSliceSeriesReader.naturalOrder("scan99999999999999999999999.png", "scan100000000000000000000000.png"))
        #expect(!ImageSliceSeriesReader.naturalOrder("scan100000000000000000000000.png", "scan99999999999999999999999.png"))
    }

    @Test func nameWithoutNumberComesBeforeNumberedOne() {
        // '.' sorts before any digit, as in strnatcmp.
        #expect(["scan1.png", "scan.png"].sorted(by: ImageSliceSeriesReader.naturalOrder) == ["scan.png", "scan1.png"])
    }

    @Test func orderIsTotalForNamesEqualUnderNaturalRules() {
        // 1 == 01 numerically and A == a case-insensitively: the tie-break must still decide.
        let a = "01.png", b = "1.png"
        #expect(ImageSliceSeriesReader.naturalOrder(a, b) != ImageSliceSeriesReader.naturalOrder(b, a))
        #expect(ImageSliceSeriesReader.naturalOrder("A.png", "a.png") != ImageSliceSeriesReader.naturalOrder("a.png", "A.png"))
        #expect(!ImageSliceSeriesReader.naturalOrder("x.png", "x.png"))
    }
}

@Suite struct ImageSeriesSidecarTests {
    private func parse(_ json: String) throws -> ImageSeriesSidecar {
        try ImageSeriesSidecar.parse(Data(json.utf8), path: "/data/case/series.json")
    }

    @Test func fullSidecar() throws {
        let sidecar = try parse("""
        {"pixel_spacing_mm": [0.7, 0.8], "slice_spacing_mm": 1.25, "rescale_slope": 1, "rescale_intercept": -1024,
         "pixel_padding_value": 0, "modality": "CT", "patient_id": "P-1", "patient_name": "Doe^Jane",
         "study_instance_uid": "1.2.3", "series_instance_uid": "1.2.3.4", "accession_number": "A7",
         "study_date": "20240131", "series_description": "Chest 1.25", "series_number": 3,
         "image_position_patient": [-180, -170, -300.5], "image_orientation_patient": [1, 0, 0, 0, 1, 0],
         "slice_step_mm": [0, 0, -1.25]}
        """)
        // DICOM Pixel Spacing order: row spacing first.
        #expect(sidecar.rowSpacingMM == 0.7)
        #expect(sidecar.columnSpacingMM == 0.8)
        #expect(sidecar.sliceSpacingMM == 1.25)
        #expect(sidecar.rescaleSlope == 1)
        #expect(sidecar.rescaleIntercept == -1024)
        #expect(sidecar.pixelPaddingValue == 0)
        #expect(sidecar.imagePositionPatient == SIMD3(-180, -170, -300.5))
        #expect(sidecar.imageOrientationPatient == [1, 0, 0, 0, 1, 0])
        #expect(sidecar.sliceStepMM == SIMD3(0, 0, -1.25))
        #expect(sidecar.identity == SeriesIdentity(patientID: "P-1", patientName: "Doe^Jane", studyInstanceUID: "1.2.3",
                                                   seriesInstanceUID: "1.2.3.4", accessionNumber: "A7",
                                                   studyDate: "20240131", modality: "CT",
                                                   seriesDescription: "Chest 1.25", seriesNumber: 3))
    }

    @Test func singleNumberSpacingAndEmptyObject() throws {
        let sidecar = try parse(#"{"pixel_spacing_mm": 0.65}"#)
        #expect(sidecar.columnSpacingMM == 0.65 && sidecar.rowSpacingMM == 0.65)
        #expect(try parse("{}") == ImageSeriesSidecar())
    }

    @Test func unknownKeyIsNamed() throws {
        let error = try #require(throws: ImageSliceSeriesError.self) {
            try parse(#"{"slice_spacing": 2.5, "modality": "CT"}"#)
        }
        #expect(error.path == "/data/case/series.json")
        #expect(error.reason.contains("unknown key \"slice_spacing\""))
    }

    @Test(arguments: [
        (#"{"slice_spacing_mm": "2.5"}"#, "slice_spacing_mm"),
        (#"{"slice_spacing_mm": true}"#, "slice_spacing_mm"),
        (#"{"slice_spacing_mm": 0}"#, "slice_spacing_mm"),
        (#"{"pixel_spacing_mm": [0.7]}"#, "pixel_spacing_mm"),
        (#"{"pixel_spacing_mm": [0.7, -1]}"#, "pixel_spacing_mm"),
        (#"{"rescale_slope": 0}"#, "rescale_slope"),
        (#"{"rescale_intercept": "-1024"}"#, "rescale_intercept"),
        (#"{"pixel_padding_value": 1.5}"#, "pixel_padding_value"),
        (#"{"patient_id": 12345}"#, "patient_id"),
        (#"{"image_position_patient": [1, 2]}"#, "image_position_patient"),
        (#"{"image_orientation_patient": [1, 0, 0, 1, 0, 0]}"#, "image_orientation_patient"),
        (#"{"image_orientation_patient": [2, 0, 0, 0, 1, 0]}"#, "image_orientation_patient"),
        (#"{"slice_step_mm": [1, 0, 0]}"#, "slice_step_mm"),
        (#"{"slice_step_mm": [0, 0, 2], "slice_spacing_mm": 2.5}"#, "slice_step_mm"),
        (#"{"series_number": 2.5}"#, "series_number"),
        (#"{"pixel_representation": 2}"#, "pixel_representation"),
    ])
    func badValueNamesTheKey(json: String, key: String) throws {
        let error = try #require(throws: ImageSliceSeriesError.self) { try parse(json) }
        #expect(error.reason.contains("\"\(key)\""), "\(error)")
        #expect(error.path == "/data/case/series.json")
    }

    @Test func notJSONOrNotAnObject() throws {
        let broken = try #require(throws: ImageSliceSeriesError.self) { try parse(#"{"slice_spacing_mm": 2.5"#) }
        #expect(broken.reason.contains("not valid JSON"))
        let array = try #require(throws: ImageSliceSeriesError.self) { try parse("[1, 2]") }
        #expect(array.reason.contains("JSON object"))
    }
}

@Suite struct ImageSliceSeriesReaderTests {
    @Test func sixteenBitSeriesWithSidecar() throws {
        let folder = try SliceFolder()
        // Written in an order different from the slice order; natural sort must put 10 last.
        try writeSeries16(folder, names: ["ct-1.png", "ct-2.png", "ct-10.png"])
        try folder.writeSidecar("""
        {"pixel_spacing_mm": [0.7, 0.8], "slice_spacing_mm": 2.5, "rescale_slope": 0.5, "rescale_intercept": -1024,
         "pixel_padding_value": 1000, "modality": "CT", "series_instance_uid": "1.2.826.0.1.3680043.2.1125.7",
         "image_position_patient": [-10, -20, -30]}
        """)
        let series = try ImageSliceSeriesReader.read(folder: folder.url, files: try folder.files(), workers: 2)
        let volume = series.volume
        #expect(series.kind == .png)
        #expect(series.sourcePaths.map { URL(fileURLWithPath: $0).lastPathComponent } == ["ct-1.png", "ct-2.png", "ct-10.png"])
        #expect((volume.columns, volume.rows, volume.slices) == (6, 4, 3))
        // pixel_spacing_mm is [row, column] as in DICOM.
        #expect(volume.spacing == VoxelSpacing(columnMM: 0.8, rowMM: 0.7, sliceMM: 2.5))
        #expect(volume.affine == PatientAffine(origin: SIMD3(-10, -20, -30), columnStep: SIMD3(0.8, 0, 0),
                                               rowStep: SIMD3(0, 0.7, 0), sliceStep: SIMD3(0, 0, 2.5)))
        #expect(series.orientation == "axial")
        #expect(series.identity.modality == "CT")
        #expect(series.identity.seriesInstanceUID == "1.2.826.0.1.3680043.2.1125.7")
        #expect(series.warnings.isEmpty, "\(series.warnings)")

        // HU = stored x 0.5 - 1024, except the padding value 1000 (voxel 0,0 of slice 0).
        var expectedSum = 0.0, expectedMin = Double.infinity, expectedMax = -Double.infinity, counted = 0
        for z in 0..<3 {
            for y in 0..<4 {
                for x in 0..<6 {
                    let stored = storedValue(x: x, y: y, z: z)
                    if stored == 1000 {
                        #expect(volume[x, y, z] == -1024)
                        continue
                    }
                    let hu = Double(stored) * 0.5 - 1024
                    #expect(Double(volume[x, y, z]) == hu, "voxel \(x),\(y),\(z)")
                    expectedSum += hu
                    expectedMin = min(expectedMin, hu)
                    expectedMax = max(expectedMax, hu)
                    counted += 1
                }
            }
        }
        #expect(series.statistics.paddingVoxelCount == 1)
        #expect(series.statistics.voxelCount == counted)
        #expect(series.statistics.minHU == expectedMin)
        #expect(series.statistics.maxHU == expectedMax)
        #expect(abs(series.statistics.meanHU - expectedSum / Double(counted)) < 1e-9)
    }

    @Test func withoutSidecarAssumesOneMillimetreAndSaysSo() throws {
        let folder = try SliceFolder()
        try writeSeries16(folder, names: ["a.png", "b.png"])
        let series = try ImageSliceSeriesReader.read(folder: folder.url, files: try folder.files(), workers: 1)
        #expect(series.volume.spacing == .isotropic1mm)
        #expect(series.volume[2, 1, 1] == Float(storedValue(x: 2, y: 1, z: 1)))
        #expect(series.identity == SeriesIdentity())
        #expect(series.warnings.count == 1)
        #expect(series.warnings[0].contains("no series.json"))
        #expect(series.warnings[0].contains("1 mm"))
    }

    @Test func partialSidecarWarnsAboutWhatIsMissing() throws {
        let folder = try SliceFolder()
        try writeSeries16(folder, names: ["1.png", "2.png"])
        try folder.writeSidecar(#"{"pixel_spacing_mm": 0.5}"#)
        let series = try ImageSliceSeriesReader.read(folder: folder.url, files: try folder.files())
        #expect(series.volume.spacing == VoxelSpacing(columnMM: 0.5, rowMM: 0.5, sliceMM: 1))
        #expect(series.warnings.contains { $0.contains("slice_spacing_mm") })
        #expect(series.warnings.contains { $0.contains("rescale") })
        #expect(!series.warnings.contains { $0.contains("pixel_spacing_mm") })
    }

    @Test func singleImageIsASeriesOfOneSlice() throws {
        let folder = try SliceFolder()
        try writeSeries16(folder, names: ["only.png"])
        try folder.writeSidecar(#"{"pixel_spacing_mm": 0.7, "rescale_intercept": -1024, "rescale_slope": 1}"#)
        let series = try ImageSliceSeriesReader.read(folder: folder.url, files: [folder.file("only.png")])
        #expect(series.volume.slices == 1)
        #expect(series.volume[5, 3, 0] == Float(storedValue(x: 5, y: 3, z: 0)) - 1024)
        // One slice: no complaint about the missing slice spacing.
        #expect(!series.warnings.contains { $0.contains("slice_spacing_mm") })
    }

    @Test func eightBitColourSlicesBecomeLuminanceWithAWarning() throws {
        let folder = try SliceFolder()
        var red = RGBImage(width: 3, height: 2)
        for y in 0..<2 { for x in 0..<3 { red[x, y] = SIMD3(200, 100, 50) } }
        try PNGCodec.write(red, to: folder.file("s1.png"))
        try PNGCodec.write(GrayImage(width: 3, height: 2, bitDepth: 8, samples: [10, 20, 30, 40, 50, 60]),
                           to: folder.file("s2.png"))
        let series = try ImageSliceSeriesReader.read(folder: folder.url, files: try folder.files())
        // BT.601: (299*200 + 587*100 + 114*50 + 500) / 1000 = 124.
        #expect(series.volume[0, 0, 0] == 124)
        #expect(series.volume[2, 1, 1] == 60)
        #expect(series.warnings.contains { $0.contains("1 of 2 slice(s) were colour") && $0.contains("BT.601") })
    }

    @Test func jpegFolder() throws {
        let folder = try SliceFolder()
        for (z, name) in ["img9.jpg", "img10.jpg"].enumerated() {
            let image = GrayImage(width: 16, height: 8, bitDepth: 8,
                                  samples: [UInt16](repeating: UInt16(60 + 100 * z), count: 128))
            try JPEGCodec.write(image, to: folder.file(name), quality: 95)
        }
        try folder.writeSidecar(#"{"slice_spacing_mm": 5, "rescale_slope": 4, "rescale_intercept": -1000}"#)
        let series = try ImageSliceSeriesReader.read(folder: folder.url, files: try folder.files())
        #expect(series.kind == .jpeg)
        // Flat blocks survive JPEG exactly (checked in the codec tests): 60 then 160.
        #expect(series.volume[3, 3, 0] == 60 * 4 - 1000)
        #expect(series.volume[3, 3, 1] == 160 * 4 - 1000)
        #expect(series.statistics.minHU == -760 && series.statistics.maxHU == -360)
    }

    @Test func sagittalOrientationGivesTheMatchingAffine() throws {
        let folder = try SliceFolder()
        try writeSeries16(folder, names: ["1.png", "2.png"])
        // Rows run anterior->posterior (+y), columns run head->feet (-z): a sagittal plane.
        try folder.writeSidecar("""
        {"pixel_spacing_mm": [0.6, 0.5], "slice_spacing_mm": 2, "image_orientation_patient": [0, 1, 0, 0, 0, -1],
         "image_position_patient": [100, 0, 0], "rescale_slope": 1, "rescale_intercept": 0}
        """)
        let series = try ImageSliceSeriesReader.read(folder: folder.url, files: try folder.files())
        #expect(series.orientation == "sagittal")
        let affine = series.volume.affine
        #expect(affine.columnStep == SIMD3(0, 0.5, 0))
        #expect(affine.rowStep == SIMD3(0, 0, -0.6))
        // normal = (0,1,0) x (0,0,-1) = (-1, 0, 0)
        #expect(affine.sliceStep == SIMD3(-2, 0, 0))
        #expect(series.volume.patientPosition(column: 2, row: 1, slice: 1) == SIMD3(98, 1.0, -0.6))
    }

    @Test func superiorFirstSeriesFromTheSliceStep() throws {
        // The sidecar the phantom writer emits: files run head -> feet, so each file moves
        // -1.25 mm in z although the axial normal points +z.
        let folder = try SliceFolder()
        try writeSeries16(folder, names: ["slice-0001.png", "slice-0002.png", "slice-0003.png"])
        try folder.writeSidecar("""
        {"modality": "CT", "pixel_spacing_mm": [0.75, 0.75], "slice_spacing_mm": 1.25, "rescale_slope": 1,
         "rescale_intercept": -1024, "patient_id": "PH-1", "study_instance_uid": "2.25.1",
         "series_instance_uid": "2.25.2", "series_description": "PHANTOM CHEST PNG",
         "image_position_patient": [-190, -190, 40], "image_orientation_patient": [1, 0, 0, 0, 1, 0],
         "slice_step_mm": [0, 0, -1.25]}
        """)
        let series = try ImageSliceSeriesReader.read(folder: folder.url, files: try folder.files())
        #expect(series.volume.spacing == VoxelSpacing(columnMM: 0.75, rowMM: 0.75, sliceMM: 1.25))
        #expect(series.volume.affine.sliceStep == SIMD3(0, 0, -1.25))
        #expect(series.volume.patientPosition(column: 0, row: 0, slice: 2) == SIMD3(-190, -190, 37.5))
        #expect(series.orientation == "axial")
        #expect(series.identity.patientID == "PH-1")
        #expect(series.warnings.isEmpty, "\(series.warnings)")
    }

    @Test func signedSixteenBitSamples() throws {
        // int16 HU written into a 16-bit PNG by reinterpretation: -1000 -> 64536.
        let folder = try SliceFolder()
        let hu: [Int16] = [-1000, -1, 0, 40, 3071, -32768]
        try PNGCodec.write(GrayImage(width: 3, height: 2, bitDepth: 16, samples: hu.map { UInt16(bitPattern: $0) }),
                           to: folder.file("s.png"))
        try folder.writeSidecar(#"{"pixel_representation": 1, "pixel_padding_value": -32768}"#)
        let series = try ImageSliceSeriesReader.read(folder: folder.url, files: try folder.files())
        #expect(series.volume.voxels == [-1000, -1, 0, 40, 3071, -1024])
        #expect(series.statistics.minHU == -1000 && series.statistics.maxHU == 3071)
        #expect(series.statistics.paddingVoxelCount == 1)
        #expect(abs(series.statistics.meanHU - Double(-1000 - 1 + 0 + 40 + 3071) / 5) < 1e-9)
    }

    @Test func differentSizeNamesTheOddFile() throws {
        let folder = try SliceFolder()
        try writeSeries16(folder, names: ["s1.png", "s2.png"])
        try PNGCodec.write(GrayImage(width: 5, height: 4, bitDepth: 16, samples: [UInt16](repeating: 1, count: 20)),
                           to: folder.file("s3.png"))
        let error = try #require(throws: ImageSliceSeriesError.self) {
            try ImageSliceSeriesReader.read(folder: folder.url, files: try folder.files())
        }
        #expect(error.path == folder.file("s3.png").path)
        #expect(error.reason.contains("5x4"))
        #expect(error.reason.contains("6x4"))
        #expect(error.reason.contains("s1.png"))
    }

    @Test func mixedBitDepthIsAnError() throws {
        let folder = try SliceFolder()
        try writeSeries16(folder, names: ["s1.png"])
        try PNGCodec.write(GrayImage(width: 6, height: 4, bitDepth: 8, samples: [UInt16](repeating: 1, count: 24)),
                           to: folder.file("s2.png"))
        let error = try #require(throws: ImageSliceSeriesError.self) {
            try ImageSliceSeriesReader.read(folder: folder.url, files: try folder.files())
        }
        #expect(error.path.hasSuffix("s2.png"))
        #expect(error.reason.contains("8-bit"))
    }

    @Test func truncatedSliceNamesTheFile() throws {
        let folder = try SliceFolder()
        try writeSeries16(folder, names: ["s1.png", "s2.png", "s3.png"])
        let cut = try Data(contentsOf: folder.file("s2.png")).prefix(60)
        try cut.write(to: folder.file("s2.png"))
        let error = try #require(throws: ImageSliceSeriesError.self) {
            try ImageSliceSeriesReader.read(folder: folder.url, files: try folder.files())
        }
        #expect(error.path == folder.file("s2.png").path)
        #expect(error.reason.contains("truncated"))
    }

    @Test func badSidecarStopsTheRead() throws {
        let folder = try SliceFolder()
        try writeSeries16(folder, names: ["s1.png"])
        try folder.writeSidecar(#"{"pixel_spacing": 0.7}"#)
        let error = try #require(throws: ImageSliceSeriesError.self) {
            try ImageSliceSeriesReader.read(folder: folder.url, files: try folder.files())
        }
        #expect(error.path == folder.file("series.json").path)
        #expect(error.reason.contains("\"pixel_spacing\""))
    }

    @Test func noSlicesIsAnError() throws {
        let folder = try SliceFolder()
        try folder.writeSidecar("{}")
        let error = try #require(throws: ImageSliceSeriesError.self) {
            try ImageSliceSeriesReader.read(folder: folder.url, files: try folder.files())
        }
        #expect(error.reason.contains("no PNG or JPEG slices"))
    }
}
