import Foundation
import DICOM
import Testing

/// Small chest-like CT series written as real DICOM files with the project's DICOM writer:
/// an elliptic body (+40 HU) in air holding two ellipsoidal lungs (-850 HU), optionally a
/// 9 mm solid nodule (+40 HU) in the right lung. 64 x 56 pixels of 1.5 mm, slices 2.5 mm apart.
struct TestStudy {
    var patientID: String
    var studyUID: String
    var seriesUID: String
    var slices = 20
    var nodule = true
    /// Slice index not written (a series with one slice missing).
    var missingSlice: Int? = nil
    /// Bytes kept of every file (a truncated series).
    var truncateTo: Int? = nil

    static let columns = 64, rows = 56
    static let pixelMM = 1.5, sliceMM = 2.5

    func hu(x: Double, y: Double, z: Double) -> Double {
        let bx = (x - 48) / 45, by = (y - 42) / 38
        if bx * bx + by * by > 1 { return -1000 }
        if nodule {
            let d = SIMD3(x - 30, y - 42, z - 25)
            if (d * d).sum() <= 4.5 * 4.5 { return 40 }
        }
        for cx in [27.0, 69.0] {
            let q = SIMD3((x - cx) / 16, (y - 42) / 26, (z - 25) / 22)
            if (q * q).sum() <= 1 { return -850 }
        }
        return 40
    }

    /// Writes the slices into `folder` (created), in reverse file-name order.
    func write(to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let writer = DICOMWriter(encoding: .explicitVRLittleEndian)
        for k in 0..<slices where k != missingSlice {
            let z = Double(k) * Self.sliceMM
            var attributes = CTSliceAttributes(
                patientName: "TEST^PATIENT", patientID: patientID, studyInstanceUID: studyUID,
                seriesInstanceUID: seriesUID, sopInstanceUID: "\(seriesUID).\(k + 1)",
                frameOfReferenceUID: "\(studyUID).9", instanceNumber: k + 1,
                imagePositionPatient: SIMD3(0, 0, z), pixelSpacingMM: (Self.pixelMM, Self.pixelMM),
                sliceThicknessMM: Self.sliceMM, rows: Self.rows, columns: Self.columns,
                rescaleIntercept: -1024, signedPixels: false)
            attributes.sliceLocationMM = z
            var stored = [UInt16](repeating: 0, count: Self.rows * Self.columns)
            for r in 0..<Self.rows {
                for c in 0..<Self.columns {
                    let h = hu(x: Double(c) * Self.pixelMM, y: Double(r) * Self.pixelMM, z: z)
                    stored[r * Self.columns + c] = UInt16(h + 1024)
                }
            }
            let url = folder.appendingPathComponent(String(format: "img%03d.dcm", slices - k))
            try writer.write(to: url, sopClassUID: CTSliceAttributes.ctImageStorageSOPClassUID,
                             sopInstanceUID: attributes.sopInstanceUID,
                             elements: attributes.elements(storedPixels: stored))
            if let keep = truncateTo {
                let data = try Data(contentsOf: url)
                try data.prefix(keep).write(to: url)
            }
        }
    }
}

/// A fresh temporary folder per test.
func makeTemporaryFolder(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("pipeline-tests-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The `triage` executable built beside the test bundle.
func triageExecutable() -> URL? {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<3 {
        let candidate = dir.appendingPathComponent("triage")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return nil
}

/// Runs `triage` to completion; returns (exit status, stderr).
@discardableResult
func runTriage(_ arguments: [String]) throws -> (Int32, String) {
    let process = Process()
    let executable: URL = try #require(triageExecutable(), "build the triage product first (swift build --build-tests)")
    process.executableURL = executable
    process.arguments = arguments
    let errPipe = Pipe()
    process.standardError = errPipe
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let err = errPipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: err, as: UTF8.self))
}

/// Test pipeline: small studies, lungs small enough for the 64 x 56 phantom.
let testPipelineYAML = """
name: test
version: "1"
selection:
  per_study: largest
  rule:
    modality: [CT]
decode: {workers: 1, queue_capacity: 1}
detect:
  workers: 1
  queue_capacity: 1
  detector:
    minimum_lung_volume_ml: 5
    closing_radius_mm: 4
report:
  key_image_max_side: 256
memory:
  budget_mib: 512
"""

struct FindingsJSON: Decodable {
    struct Study: Decodable {
        var patient_id: String?
        var series_instance_uid: String?
    }
    var status: String
    var error: String?
    var study: Study
}

func readFindings(_ url: URL) throws -> FindingsJSON {
    try JSONDecoder().decode(FindingsJSON.self, from: Data(contentsOf: url))
}
