import DICOM
import Foundation
import ImageCodecs
import Volumes

/// Writes a rendered phantom (HU volume in generation order) the way real archives store
/// CT: as a DICOM series with the case's storage choices (signed/unsigned pixels, rescale
/// intercept, padding outside the circular field of view, explicit/implicit VR, slice
/// order, file names), or as a 16-bit PNG series with a `series.json` sidecar.
public enum PhantomSeriesWriter {
    /// True when pixel (column, row) lies outside the inscribed reconstruction circle.
    @inline(__always)
    public static func outsideFieldOfView(column: Int, row: Int, columns: Int, rows: Int) -> Bool {
        let cx = Double(columns - 1) / 2, cy = Double(rows - 1) / 2
        let r = Double(Swift.min(columns, rows)) / 2
        let dx = Double(column) - cx, dy = Double(row) - cy
        return dx * dx + dy * dy > r * r
    }

    /// Stored pixel values of generation slice `k` under `storage`.
    public static func storedPixels(_ volume: Volume, slice k: Int, storage: PhantomStorage) -> [UInt16] {
        let cols = volume.columns, rows = volume.rows
        var out = [UInt16](repeating: 0, count: cols * rows)
        let intercept = storage.rescaleIntercept
        // Representable HU: 12-bit unsigned (0...4095) or the usual signed CT range.
        let minHU: Double = storage.signedPixels ? -1024 : (storage.paddingValue != nil ? -1023 : -1024)
        let maxHU: Double = 3071
        let outsideStored: Int = storage.paddingValue ?? (storage.signedPixels ? Int(-3024 - intercept) : 0)
        let base = k * cols * rows
        for r in 0..<rows {
            for c in 0..<cols {
                let stored: Int
                if outsideFieldOfView(column: c, row: r, columns: cols, rows: rows) {
                    stored = outsideStored
                } else {
                    let hu = Swift.min(maxHU, Swift.max(minHU, Double(volume.voxels[base + r * cols + c]).rounded()))
                    stored = Int(hu - intercept)
                }
                out[r * cols + c] = storage.signedPixels ? UInt16(bitPattern: Int16(stored)) : UInt16(stored)
            }
        }
        return out
    }

    /// Writes `volume` as a DICOM series into `folder` (created if needed); returns the file URLs.
    @discardableResult
    public static func writeDICOM(_ volume: Volume, phantom: PhantomCase, folder: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let st = phantom.storage, id = phantom.identity
        let writer = DICOMWriter(encoding: st.implicitVR ? .implicitVRLittleEndian : .explicitVRLittleEndian)
        let n = volume.slices
        // File names: in instance order, or a deterministic shuffle.
        var names = (1...n).map { String(format: "IM-%04d.dcm", $0) }
        if st.shuffledNames {
            var r = PhantomRandom(seed: phantom.seed, stream: UInt64(phantom.index) &+ 4_000_037)
            names = (0..<n).map { _ in String(format: "%08llX.dcm", r.next() >> 32) }
            var seen = Set<String>()
            for i in names.indices where !seen.insert(names[i]).inserted { names[i] = String(format: "X%07d.dcm", i) }
        }
        var urls: [URL] = []
        for k in 0..<n {
            // Instance order follows the stored direction.
            let instance = st.superiorFirst ? n - k : k + 1
            let position = volume.affine.patientPosition(column: 0, row: 0, slice: Double(k))
            var attrs = CTSliceAttributes(
                patientName: id.patientName, patientID: id.patientID, studyInstanceUID: id.studyInstanceUID,
                seriesInstanceUID: id.seriesInstanceUID, sopInstanceUID: id.sopInstanceUID(instance),
                frameOfReferenceUID: id.frameOfReferenceUID, instanceNumber: instance,
                imagePositionPatient: position,
                pixelSpacingMM: (row: volume.spacing.rowMM, column: volume.spacing.columnMM),
                sliceThicknessMM: volume.spacing.sliceMM, rows: volume.rows, columns: volume.columns,
                rescaleIntercept: st.rescaleIntercept, signedPixels: st.signedPixels)
            attrs.accessionNumber = id.accessionNumber
            attrs.bitsStored = st.signedPixels ? 16 : 12
            attrs.pixelPaddingValue = st.paddingValue
            attrs.sliceLocationMM = position.z
            attrs.spacingBetweenSlicesMM = volume.spacing.sliceMM
            attrs.seriesDescription = "PHANTOM CHEST \(DICOMWriter.decimalString(volume.spacing.sliceMM)) LUNG"
            let url = folder.appendingPathComponent(names[instance - 1])
            try writer.write(to: url, sopClassUID: CTSliceAttributes.ctImageStorageSOPClassUID,
                             sopInstanceUID: attrs.sopInstanceUID,
                             elements: attrs.elements(storedPixels: storedPixels(volume, slice: k, storage: st)))
            urls.append(url)
        }
        return urls
    }

    /// The `series.json` sidecar of an image-slice series.
    public struct Sidecar: Codable, Sendable {
        public var modality = "CT"
        public var pixelSpacingMM: [Double]
        public var sliceSpacingMM: Double
        public var rescaleSlope: Double
        public var rescaleIntercept: Double
        public var patientID: String
        public var studyInstanceUID: String
        public var seriesInstanceUID: String
        public var seriesDescription: String
        /// LPS position (mm) of the first file's first pixel, and the orientation cosines.
        public var imagePositionPatient: [Double]
        public var imageOrientationPatient: [Double]
        /// LPS displacement (mm) from one file to the next (natural file order).
        public var sliceStepMM: [Double]

        enum CodingKeys: String, CodingKey {
            case modality
            case pixelSpacingMM = "pixel_spacing_mm"
            case sliceSpacingMM = "slice_spacing_mm"
            case rescaleSlope = "rescale_slope"
            case rescaleIntercept = "rescale_intercept"
            case patientID = "patient_id"
            case studyInstanceUID = "study_instance_uid"
            case seriesInstanceUID = "series_instance_uid"
            case seriesDescription = "series_description"
            case imagePositionPatient = "image_position_patient"
            case imageOrientationPatient = "image_orientation_patient"
            case sliceStepMM = "slice_step_mm"
        }
    }

    /// Writes `volume` as `slice-0001.png`... (16-bit, stored = HU + 1024, superior first) or,
    /// with `jpeg`, 8-bit gray JPEGs at the lung window (-600/1500: stored 0...255 maps to
    /// -1350...150 HU), plus `series.json`.
    @discardableResult
    public static func writeImageSeries(_ volume: Volume, phantom: PhantomCase, seriesInstanceUID: String,
                                        folder: URL, jpeg: Bool = false) throws -> [URL] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let cols = volume.columns, rows = volume.rows, n = volume.slices
        let slope: Double = jpeg ? 1500.0 / 255.0 : 1
        let intercept: Double = jpeg ? -1350 : -1024
        var urls: [URL] = []
        for i in 0..<n {
            let k = n - 1 - i                      // superior first, as radiologists scroll
            var samples = [UInt16](repeating: 0, count: cols * rows)
            for p in 0..<(cols * rows) {
                let hu = Double(volume.voxels[k * cols * rows + p])
                let s = ((hu - intercept) / slope).rounded()
                samples[p] = UInt16(Swift.min(jpeg ? 255 : 65535, Swift.max(0, s)))
            }
            let image = GrayImage(width: cols, height: rows, bitDepth: jpeg ? 8 : 16, samples: samples)
            let url = folder.appendingPathComponent(String(format: "slice-%04d.%@", i + 1, jpeg ? "jpg" : "png"))
            let data = jpeg ? try JPEGCodec.encode(image, quality: 92) : try PNGCodec.encode(image)
            try DICOMWriter.atomicWrite(data, to: url)
            urls.append(url)
        }
        let first = volume.affine.patientPosition(column: 0, row: 0, slice: Double(n - 1))
        let sidecar = Sidecar(pixelSpacingMM: [volume.spacing.rowMM, volume.spacing.columnMM],
                              sliceSpacingMM: volume.spacing.sliceMM, rescaleSlope: slope, rescaleIntercept: intercept,
                              patientID: phantom.identity.patientID, studyInstanceUID: phantom.identity.studyInstanceUID,
                              seriesInstanceUID: seriesInstanceUID,
                              seriesDescription: jpeg ? "PHANTOM CHEST JPEG LUNG WINDOW" : "PHANTOM CHEST PNG",
                              imagePositionPatient: [first.x, first.y, first.z],
                              imageOrientationPatient: [1, 0, 0, 0, 1, 0],
                              sliceStepMM: [-volume.affine.sliceStep.x, -volume.affine.sliceStep.y, -volume.affine.sliceStep.z])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try DICOMWriter.atomicWrite(try encoder.encode(sidecar), to: folder.appendingPathComponent("series.json"))
        return urls
    }
}
