import Foundation

/// Writes DICOM Part 10 files (128-byte preamble, "DICM", file meta group in Explicit VR
/// Little Endian, then the data set in Explicit or Implicit VR Little Endian, PS3.10 7.1).
///
/// Used by the phantom generator to write CT slices; `CTSliceAttributes` holds everything a
/// CT Image Storage object needs (PS3.3 A.3). Files are written to a temporary name in the
/// destination folder and renamed, so a reader never sees half a file.
public struct DICOMWriter: Sendable {
    /// The data-set encoding. The meta group is always Explicit VR Little Endian.
    public enum Encoding: String, Sendable, Codable {
        case explicitVRLittleEndian
        case implicitVRLittleEndian

        public var transferSyntaxUID: String {
            switch self {
            case .explicitVRLittleEndian: return "1.2.840.10008.1.2.1"
            case .implicitVRLittleEndian: return "1.2.840.10008.1.2"
            }
        }
    }

    /// One element to write: a tag, its VR, and its value bytes (little endian, unpadded;
    /// the writer pads to even length with a space for text and a NUL for UI/binary).
    public struct Element: Sendable {
        public var tag: DICOMTag
        public var vr: DICOMValueRepresentation
        public var value: Data

        public init(tag: DICOMTag, vr: DICOMValueRepresentation, value: Data) {
            self.tag = tag
            self.vr = vr
            self.value = value
        }

        /// A text element (AE, AS, CS, DA, DS, IS, LO, PN, SH, TM, UI, ...).
        public static func text(_ tag: DICOMTag, _ vr: DICOMValueRepresentation, _ s: String) -> Element {
            Element(tag: tag, vr: vr, value: Data(s.utf8))
        }
        /// A decimal-string element with several values joined by backslashes.
        public static func decimals(_ tag: DICOMTag, _ values: [Double]) -> Element {
            text(tag, .DS, values.map(DICOMWriter.decimalString).joined(separator: "\\"))
        }
        public static func uint16(_ tag: DICOMTag, _ v: UInt16) -> Element {
            Element(tag: tag, vr: .US, value: withUnsafeBytes(of: v.littleEndian) { Data($0) })
        }
        public static func int16(_ tag: DICOMTag, _ v: Int16) -> Element {
            Element(tag: tag, vr: .SS, value: withUnsafeBytes(of: v.littleEndian) { Data($0) })
        }
    }

    public var encoding: Encoding
    /// Implementation Class UID written in the meta group (our UID root).
    public var implementationClassUID: String = DICOMWriter.uidRoot + ".0.1"

    /// The UID root used for everything this project generates ("2.25" followed by a
    /// decimal UUID-derived number is the other standard option; we use a fixed private root).
    public static let uidRoot = "1.2.826.0.1.3680043.10.1137"

    public init(encoding: Encoding) {
        self.encoding = encoding
    }

    /// The complete file bytes for a data set of `elements` (any order; written sorted by tag).
    public func fileBytes(sopClassUID: String, sopInstanceUID: String, elements: [Element]) -> Data {
        var out = Data(count: 128)
        out.append(contentsOf: Array("DICM".utf8))

        // File meta group (always explicit VR LE); its group length counts what follows it.
        var meta = Data()
        Self.appendExplicit(&meta, Element(tag: .init(0x0002, 0x0001), vr: .OB, value: Data([0, 1])))
        Self.appendExplicit(&meta, .text(.mediaStorageSOPClassUID, .UI, sopClassUID))
        Self.appendExplicit(&meta, .text(.mediaStorageSOPInstanceUID, .UI, sopInstanceUID))
        Self.appendExplicit(&meta, .text(.transferSyntaxUID, .UI, encoding.transferSyntaxUID))
        Self.appendExplicit(&meta, .text(.implementationClassUID, .UI, implementationClassUID))
        var groupLength = UInt32(meta.count).littleEndian
        Self.appendExplicit(&out, Element(tag: .fileMetaInformationGroupLength, vr: .UL,
                                          value: Data(bytes: &groupLength, count: 4)))
        out.append(meta)

        for e in elements.sorted(by: { $0.tag < $1.tag }) {
            switch encoding {
            case .explicitVRLittleEndian: Self.appendExplicit(&out, e)
            case .implicitVRLittleEndian: Self.appendImplicit(&out, e)
            }
        }
        return out
    }

    /// Writes the file to `url` through a temporary name in the same folder, then renames it.
    public func write(to url: URL, sopClassUID: String, sopInstanceUID: String, elements: [Element]) throws {
        let data = fileBytes(sopClassUID: sopClassUID, sopInstanceUID: sopInstanceUID, elements: elements)
        try Self.atomicWrite(data, to: url)
    }

    /// Writes `data` to a temporary sibling of `url` and renames it over `url`.
    public static func atomicWrite(_ data: Data, to url: URL) throws {
        let tmp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        try data.write(to: tmp)
        if FileManager.default.fileExists(atPath: url.path) {
            _ = try FileManager.default.replaceItemAt(url, withItemAt: tmp)
        } else {
            try FileManager.default.moveItem(at: tmp, to: url)
        }
    }

    // MARK: Encoding

    static func padded(_ e: Element) -> Data {
        var v = e.value
        if v.count % 2 == 1 {
            switch e.vr {
            case .UI, .OB, .UN: v.append(0)
            default: v.append(0x20)
            }
        }
        return v
    }

    static func appendTag(_ out: inout Data, _ tag: DICOMTag) {
        var g = tag.group.littleEndian, el = tag.element.littleEndian
        out.append(Data(bytes: &g, count: 2))
        out.append(Data(bytes: &el, count: 2))
    }

    static func appendExplicit(_ out: inout Data, _ e: Element) {
        let v = padded(e)
        appendTag(&out, e.tag)
        out.append(contentsOf: Array(e.vr.rawValue.utf8))
        if e.vr.hasLongLength {
            out.append(contentsOf: [0, 0])
            var len = UInt32(v.count).littleEndian
            out.append(Data(bytes: &len, count: 4))
        } else {
            precondition(v.count <= 0xFFFF, "value of \(e.tag) too long for a 16-bit length")
            var len = UInt16(v.count).littleEndian
            out.append(Data(bytes: &len, count: 2))
        }
        out.append(v)
    }

    static func appendImplicit(_ out: inout Data, _ e: Element) {
        let v = padded(e)
        appendTag(&out, e.tag)
        var len = UInt32(v.count).littleEndian
        out.append(Data(bytes: &len, count: 4))
        out.append(v)
    }

    /// A DS value of at most 16 characters (PS3.5 6.2), without needless trailing zeros.
    public static func decimalString(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        for digits in stride(from: 10, through: 1, by: -1) {
            let s = String(format: "%.\(digits)f", x)
            var t = s
            while t.contains("."), t.hasSuffix("0") { t.removeLast() }
            if t.hasSuffix(".") { t.removeLast() }
            if t.count <= 16 { return t }
        }
        return String(format: "%.6g", x)
    }
}

/// Everything needed to write one slice of a CT series as CT Image Storage
/// (SOP Class 1.2.840.10008.5.1.4.1.1.2).
public struct CTSliceAttributes: Sendable {
    public static let ctImageStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"

    public var patientName: String
    public var patientID: String
    public var patientSex: String = "O"
    public var patientBirthDate: String = ""
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var sopInstanceUID: String
    public var frameOfReferenceUID: String
    public var studyDate: String = "20260101"
    public var studyTime: String = "000000"
    public var accessionNumber: String = ""
    public var studyID: String = "1"
    public var studyDescription: String = "CT CHEST"
    public var seriesDescription: String = "CHEST 1.0 LUNG"
    public var seriesNumber: Int = 1
    public var instanceNumber: Int
    public var manufacturer: String = "ChestCTTriage phantom"
    public var bodyPartExamined: String = "CHEST"
    public var kvp: Double = 120
    public var convolutionKernel: String = "LUNG"

    /// Image Position (Patient): LPS mm of the centre of the first transmitted pixel.
    public var imagePositionPatient: SIMD3<Double>
    /// Image Orientation (Patient): row direction cosines then column direction cosines.
    public var imageOrientationPatient: [Double] = [1, 0, 0, 0, 1, 0]
    /// Pixel Spacing: (between rows, between columns) in mm, DICOM order.
    public var pixelSpacingMM: (row: Double, column: Double)
    public var sliceThicknessMM: Double
    public var spacingBetweenSlicesMM: Double?
    public var sliceLocationMM: Double?

    public var rows: Int
    public var columns: Int
    public var rescaleSlope: Double = 1
    public var rescaleIntercept: Double
    /// Pixel Representation: true for two's-complement signed stored values.
    public var signedPixels: Bool
    public var bitsStored: Int = 16
    /// Stored value written outside the field of view (nil: none).
    public var pixelPaddingValue: Int?
    public var windowCenter: Double = -600
    public var windowWidth: Double = 1500

    public init(patientName: String, patientID: String, studyInstanceUID: String, seriesInstanceUID: String,
                sopInstanceUID: String, frameOfReferenceUID: String, instanceNumber: Int,
                imagePositionPatient: SIMD3<Double>, pixelSpacingMM: (row: Double, column: Double),
                sliceThicknessMM: Double, rows: Int, columns: Int, rescaleIntercept: Double, signedPixels: Bool) {
        self.patientName = patientName
        self.patientID = patientID
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.sopInstanceUID = sopInstanceUID
        self.frameOfReferenceUID = frameOfReferenceUID
        self.instanceNumber = instanceNumber
        self.imagePositionPatient = imagePositionPatient
        self.pixelSpacingMM = pixelSpacingMM
        self.sliceThicknessMM = sliceThicknessMM
        self.rows = rows
        self.columns = columns
        self.rescaleIntercept = rescaleIntercept
        self.signedPixels = signedPixels
    }

    /// The data-set elements for this slice with `storedPixels` (rows x columns, row-major)
    /// as 16-bit Pixel Data.
    public func elements(storedPixels: [UInt16]) -> [DICOMWriter.Element] {
        precondition(storedPixels.count == rows * columns, "pixel count does not match rows x columns")
        typealias E = DICOMWriter.Element
        var e: [E] = [
            .text(.specificCharacterSet, .CS, "ISO_IR 100"),
            .text(.imageType, .CS, "ORIGINAL\\PRIMARY\\AXIAL"),
            .text(.sopClassUID, .UI, Self.ctImageStorageSOPClassUID),
            .text(.sopInstanceUID, .UI, sopInstanceUID),
            .text(.studyDate, .DA, studyDate),
            .text(.seriesDate, .DA, studyDate),
            .text(.studyTime, .TM, studyTime),
            .text(.accessionNumber, .SH, accessionNumber),
            .text(.modality, .CS, "CT"),
            .text(.manufacturer, .LO, manufacturer),
            .text(DICOMTag(0x0008, 0x0090), .PN, ""),                  // Referring Physician's Name
            .text(.studyDescription, .LO, studyDescription),
            .text(.seriesDescription, .LO, seriesDescription),
            .text(.patientName, .PN, patientName),
            .text(.patientID, .LO, patientID),
            .text(DICOMTag(0x0010, 0x0030), .DA, patientBirthDate),   // Patient's Birth Date
            .text(DICOMTag(0x0010, 0x0040), .CS, patientSex),         // Patient's Sex
            .text(DICOMTag(0x0018, 0x0015), .CS, bodyPartExamined),   // Body Part Examined
            .decimals(.sliceThickness, [sliceThicknessMM]),
            .decimals(DICOMTag(0x0018, 0x0060), [kvp]),               // KVP
            .text(DICOMTag(0x0018, 0x1210), .SH, convolutionKernel),  // Convolution Kernel
            .text(DICOMTag(0x0018, 0x5100), .CS, "FFS"),              // Patient Position
            .text(.studyInstanceUID, .UI, studyInstanceUID),
            .text(.seriesInstanceUID, .UI, seriesInstanceUID),
            .text(DICOMTag(0x0020, 0x0010), .SH, studyID),            // Study ID
            .text(.seriesNumber, .IS, String(seriesNumber)),
            .text(.instanceNumber, .IS, String(instanceNumber)),
            .decimals(.imagePositionPatient, [imagePositionPatient.x, imagePositionPatient.y, imagePositionPatient.z]),
            .decimals(.imageOrientationPatient, imageOrientationPatient),
            .text(.frameOfReferenceUID, .UI, frameOfReferenceUID),
            .text(DICOMTag(0x0020, 0x1040), .LO, ""),                 // Position Reference Indicator
            .uint16(.samplesPerPixel, 1),
            .text(.photometricInterpretation, .CS, "MONOCHROME2"),
            .uint16(DICOMTag(0x0028, 0x0010), UInt16(rows)),
            .uint16(DICOMTag(0x0028, 0x0011), UInt16(columns)),
            .decimals(DICOMTag(0x0028, 0x0030), [pixelSpacingMM.row, pixelSpacingMM.column]),
            .uint16(DICOMTag(0x0028, 0x0100), 16),                    // Bits Allocated
            .uint16(DICOMTag(0x0028, 0x0101), UInt16(bitsStored)),
            .uint16(DICOMTag(0x0028, 0x0102), UInt16(bitsStored - 1)), // High Bit
            .uint16(DICOMTag(0x0028, 0x0103), signedPixels ? 1 : 0),  // Pixel Representation
            .decimals(DICOMTag(0x0028, 0x1050), [windowCenter]),
            .decimals(DICOMTag(0x0028, 0x1051), [windowWidth]),
            .decimals(DICOMTag(0x0028, 0x1052), [rescaleIntercept]),
            .decimals(DICOMTag(0x0028, 0x1053), [rescaleSlope]),
            .text(DICOMTag(0x0028, 0x1054), .LO, "HU"),               // Rescale Type
        ]
        if let s = spacingBetweenSlicesMM { e.append(.decimals(.spacingBetweenSlices, [s])) }
        if let l = sliceLocationMM { e.append(.decimals(.sliceLocation, [l])) }
        if let p = pixelPaddingValue {
            // Pixel Padding Value takes the VR of the pixels: SS when signed, US when not.
            e.append(signedPixels ? .int16(DICOMTag(0x0028, 0x0120), Int16(p))
                                  : .uint16(DICOMTag(0x0028, 0x0120), UInt16(p)))
        }
        var pixelBytes = Data(count: storedPixels.count * 2)
        pixelBytes.withUnsafeMutableBytes { raw in
            let dst = raw.bindMemory(to: UInt16.self)
            for i in 0..<storedPixels.count { dst[i] = storedPixels[i].littleEndian }
        }
        e.append(E(tag: .pixelData, vr: .OW, value: pixelBytes))
        return e
    }
}
