import Foundation
import DICOM

/// Writes small synthetic CT series for assembly tests with the project's DICOM writer.
struct SyntheticSeries {
    var folder: URL
    var seriesUID = "1.2.826.0.1.3680043.10.1137.99.1"
    var rows = 8
    var columns = 6
    var pixelSpacing: (row: Double, column: Double) = (0.7, 0.8)
    var orientation: [Double] = [1, 0, 0, 0, 1, 0]
    var encoding: DICOMWriter.Encoding = .explicitVRLittleEndian
    var rescaleIntercept = -1024.0
    var signed = false
    var paddingValue: Int?

    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("series-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes one slice named `name` at `position`; every pixel holds `stored`
    /// except pixel 0, which holds `paddingValue` when set.
    func writeSlice(name: String, position: SIMD3<Double>, instance: Int, stored: Int, sopSuffix: String? = nil) throws {
        var a = CTSliceAttributes(
            patientName: "TEST^PATIENT", patientID: "P-1", studyInstanceUID: "1.2.826.0.1.3680043.10.1137.99",
            seriesInstanceUID: seriesUID, sopInstanceUID: seriesUID + "." + (sopSuffix ?? String(instance)),
            frameOfReferenceUID: "1.2.826.0.1.3680043.10.1137.98", instanceNumber: instance,
            imagePositionPatient: position, pixelSpacingMM: pixelSpacing, sliceThicknessMM: 1.0,
            rows: rows, columns: columns, rescaleIntercept: rescaleIntercept, signedPixels: signed)
        a.imageOrientationPatient = orientation
        a.pixelPaddingValue = paddingValue
        var pixels = [UInt16](repeating: UInt16(truncatingIfNeeded: stored), count: rows * columns)
        if let p = paddingValue { pixels[0] = UInt16(truncatingIfNeeded: p) }
        try DICOMWriter(encoding: encoding).write(
            to: folder.appendingPathComponent(name), sopClassUID: CTSliceAttributes.ctImageStorageSOPClassUID,
            sopInstanceUID: a.sopInstanceUID, elements: a.elements(storedPixels: pixels))
    }
}
