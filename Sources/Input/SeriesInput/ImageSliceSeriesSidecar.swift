import Foundation
import Volumes

/// The optional `series.json` beside a folder of PNG/JPEG slices: what a DICOM header
/// would otherwise say. Every key is optional; an unknown key is an error (a typo such as
/// `slice_spacing` must not silently fall back to 1 mm). Documented in docs/image-series.md.
public struct ImageSeriesSidecar: Sendable, Equatable {
    /// The file name looked for in the slice folder.
    public static let fileName = "series.json"

    /// In-plane spacing in mm: `rowSpacingMM` between neighbouring rows (y),
    /// `columnSpacingMM` between neighbouring columns (x). JSON `pixel_spacing_mm`: one
    /// number, or `[row, column]` in DICOM Pixel Spacing order.
    public var rowSpacingMM: Double?
    public var columnSpacingMM: Double?
    /// Distance between slice centres in mm (`slice_spacing_mm`).
    public var sliceSpacingMM: Double?
    /// HU = stored value x slope + intercept (`rescale_slope`, `rescale_intercept`).
    public var rescaleSlope: Double?
    public var rescaleIntercept: Double?
    /// Samples are two's-complement signed (`pixel_representation` 1, as in DICOM): a 16-bit
    /// sample 64536 means -1000. PNG has no signed samples, but some exporters store int16
    /// HU this way. Default 0: unsigned.
    public var signedSamples: Bool

    /// Stored value that marks pixels outside the field of view (`pixel_padding_value`):
    /// they become -1024 HU and are left out of statistics and detection.
    public var pixelPaddingValue: Int?
    /// LPS position (mm) of the centre of the first pixel of the first slice, as DICOM Image
    /// Position (Patient) (`image_position_patient`).
    public var imagePositionPatient: SIMD3<Double>?
    /// Direction cosines as DICOM Image Orientation (Patient): the direction of increasing
    /// column, then of increasing row (`image_orientation_patient`, six numbers).
    public var imageOrientationPatient: [Double]?
    /// LPS displacement (mm) from one slice file to the next in natural file order
    /// (`slice_step_mm`). Without it, slices advance along the cross product of the two
    /// orientation directions by `slice_spacing_mm`.
    public var sliceStepMM: SIMD3<Double>?
    public var identity: SeriesIdentity

    public init(rowSpacingMM: Double? = nil, columnSpacingMM: Double? = nil, sliceSpacingMM: Double? = nil,
                rescaleSlope: Double? = nil, rescaleIntercept: Double? = nil, pixelPaddingValue: Int? = nil,
                imagePositionPatient: SIMD3<Double>? = nil, imageOrientationPatient: [Double]? = nil,
                sliceStepMM: SIMD3<Double>? = nil, signedSamples: Bool = false,
                identity: SeriesIdentity = SeriesIdentity()) {
        self.signedSamples = signedSamples
        self.rowSpacingMM = rowSpacingMM
        self.columnSpacingMM = columnSpacingMM
        self.sliceSpacingMM = sliceSpacingMM
        self.rescaleSlope = rescaleSlope
        self.rescaleIntercept = rescaleIntercept
        self.pixelPaddingValue = pixelPaddingValue
        self.imagePositionPatient = imagePositionPatient
        self.imageOrientationPatient = imageOrientationPatient
        self.sliceStepMM = sliceStepMM
        self.identity = identity
    }

    /// The keys `series.json` may hold.
    public static let knownKeys: [String] = [
        "pixel_spacing_mm", "slice_spacing_mm", "rescale_slope", "rescale_intercept", "pixel_representation", "pixel_padding_value",
        "image_position_patient", "image_orientation_patient", "slice_step_mm", "modality", "patient_id", "patient_name", "study_instance_uid",
        "series_instance_uid", "accession_number", "study_date", "series_description", "series_number",
    ]

    /// Reads `folder/series.json`; nil when there is none.
    public static func load(folder: URL) throws -> ImageSeriesSidecar? {
        let url = folder.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ImageSliceSeriesError(path: url.path, reason: "cannot read the sidecar (\(error.localizedDescription))")
        }
        return try parse(data, path: url.path)
    }

    /// Parses sidecar JSON; errors name `path` and the offending key.
    public static func parse(_ data: Data, path: String) throws -> ImageSeriesSidecar {
        func fail(_ reason: String) -> ImageSliceSeriesError { ImageSliceSeriesError(path: path, reason: reason) }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw fail("not valid JSON (\((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "parse error"))")
        }
        guard let dictionary = object as? [String: Any] else { throw fail("the sidecar must be a JSON object") }
        let known = Set(knownKeys)
        if let unknown = dictionary.keys.sorted().first(where: { !known.contains($0) }) {
            throw fail("unknown key \"\(unknown)\" (known keys: \(knownKeys.joined(separator: ", ")))")
        }

        func number(_ key: String) throws -> Double? {
            guard let value = dictionary[key], !(value is NSNull) else { return nil }
            guard let n = numericValue(value), n.isFinite else { throw fail("\"\(key)\" must be a number") }
            return n
        }
        func positive(_ key: String) throws -> Double? {
            guard let n = try number(key) else { return nil }
            guard n > 0 else { throw fail("\"\(key)\" must be greater than 0 (got \(n))") }
            return n
        }
        func numbers(_ key: String, count: Int) throws -> [Double]? {
            guard let value = dictionary[key], !(value is NSNull) else { return nil }
            guard let array = value as? [Any], array.count == count,
                  case let values = array.compactMap(numericValue), values.count == count,
                  values.allSatisfy(\.isFinite) else {
                throw fail("\"\(key)\" must be an array of \(count) numbers")
            }
            return values
        }
        func string(_ key: String) throws -> String? {
            guard let value = dictionary[key], !(value is NSNull) else { return nil }
            guard let s = value as? String, !isNumber(value) else { throw fail("\"\(key)\" must be a string") }
            return s
        }

        var sidecar = ImageSeriesSidecar()
        if let value = dictionary["pixel_spacing_mm"], !(value is NSNull) {
            if let single = numericValue(value) {
                guard single.isFinite, single > 0 else { throw fail("\"pixel_spacing_mm\" must be greater than 0") }
                sidecar.rowSpacingMM = single
                sidecar.columnSpacingMM = single
            } else {
                guard let pair = try numbers("pixel_spacing_mm", count: 2) else { throw fail("\"pixel_spacing_mm\"") }
                guard pair[0] > 0, pair[1] > 0 else {
                    throw fail("\"pixel_spacing_mm\" values must be greater than 0 (got \(pair))")
                }
                sidecar.rowSpacingMM = pair[0]
                sidecar.columnSpacingMM = pair[1]
            }
        }
        sidecar.sliceSpacingMM = try positive("slice_spacing_mm")
        sidecar.rescaleSlope = try number("rescale_slope")
        if sidecar.rescaleSlope == 0 { throw fail("\"rescale_slope\" must not be 0") }
        sidecar.rescaleIntercept = try number("rescale_intercept")
        if let representation = try number("pixel_representation") {
            guard representation == 0 || representation == 1 else {
                throw fail("\"pixel_representation\" must be 0 (unsigned) or 1 (signed), got \(representation)")
            }
            sidecar.signedSamples = representation == 1
        }
        if let padding = try number("pixel_padding_value") {
            guard padding == padding.rounded(), padding >= -32768, padding <= 65535 else {
                throw fail("\"pixel_padding_value\" must be an integer stored value (got \(padding))")
            }
            sidecar.pixelPaddingValue = Int(padding)
        }
        if let p = try numbers("image_position_patient", count: 3) {
            sidecar.imagePositionPatient = SIMD3(p[0], p[1], p[2])
        }
        let cosines = try numbers("image_orientation_patient", count: 6)
        if let cosines {
            let row = SIMD3(cosines[0], cosines[1], cosines[2]), column = SIMD3(cosines[3], cosines[4], cosines[5])
            let rowLength = (row * row).sum().squareRoot(), columnLength = (column * column).sum().squareRoot()
            guard abs(rowLength - 1) < 1e-3, abs(columnLength - 1) < 1e-3, abs((row * column).sum()) < 1e-3 else {
                throw fail("\"image_orientation_patient\" must be two orthogonal unit vectors "
                           + "(direction of increasing column, then of increasing row)")
            }
            sidecar.imageOrientationPatient = cosines
        }
        if let step = try numbers("slice_step_mm", count: 3) {
            let vector = SIMD3(step[0], step[1], step[2])
            let normal = SeriesGeometry.sliceNormal(imageOrientation: cosines ?? [1, 0, 0, 0, 1, 0]) ?? SIMD3(0, 0, 1)
            let length = (vector * vector).sum().squareRoot()
            let planeDistance = abs((vector * normal).sum())
            // A step (nearly) inside the slice plane would stack slices on top of each other.
            guard length > 0, planeDistance >= 0.1 * length else {
                throw fail("\"slice_step_mm\" must point out of the slice plane (got \(step))")
            }
            if let spacing = sidecar.sliceSpacingMM, abs(spacing - planeDistance) > 1e-3 * max(1, spacing) {
                throw fail("\"slice_step_mm\" \(step) moves \(planeDistance) mm between slice planes but "
                           + "\"slice_spacing_mm\" is \(spacing)")
            }
            sidecar.sliceStepMM = vector
        }
        var identity = SeriesIdentity()
        identity.modality = try string("modality")
        identity.patientID = try string("patient_id")
        identity.patientName = try string("patient_name")
        identity.studyInstanceUID = try string("study_instance_uid")
        identity.seriesInstanceUID = try string("series_instance_uid")
        identity.accessionNumber = try string("accession_number")
        identity.studyDate = try string("study_date")
        identity.seriesDescription = try string("series_description")
        if let seriesNumber = try number("series_number") {
            guard seriesNumber == seriesNumber.rounded(), abs(seriesNumber) < 1e9 else {
                throw fail("\"series_number\" must be an integer")
            }
            identity.seriesNumber = Int(seriesNumber)
        }
        sidecar.identity = identity
        return sidecar
    }

    /// JSON numbers arrive as NSNumber; JSON true/false do too, and must not count as numbers.
    private static func numericValue(_ value: Any) -> Double? {
        guard isNumber(value), let n = value as? NSNumber else { return nil }
        return n.doubleValue
    }

    private static func isNumber(_ value: Any) -> Bool {
        guard let n = value as? NSNumber else { return false }
        #if canImport(Darwin)
        return CFGetTypeID(n) != CFBooleanGetTypeID()
        #else
        // swift-corelibs-foundation reports JSON booleans with objCType "c" (char).
        return String(cString: n.objCType) != "c"
        #endif
    }
}
