import Foundation
import Testing
@testable import DICOM

/// Reading from disk: header-only reads parse a prefix of the file and must give the same
/// header as a whole-file read wherever Pixel Data starts; text values are trimmed and split
/// as PS3.5 6.2 says.
struct FileReadTests {
    static func write(_ data: Data) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("read-\(UUID().uuidString).dcm")
        try data.write(to: url)
        return url
    }

    /// A file whose header holds a private OB value of `fillerBytes` before the image module.
    static func fileWithLongHeader(fillerBytes: Int) -> Data {
        var b = RawDICOMBuilder.withPreamble()
        b.element(0x0008, 0x0060, "CS", Data("CT".utf8))
        b.element(0x0009, 0x0010, "LO", Data("VENDOR".utf8))
        b.element(0x0009, 0x1001, "OB", Data(repeating: 0xAB, count: fillerBytes))
        b.element(0x0020, 0x000E, "UI", Data("1.2.3.4\0".utf8))
        b.image(rows: 4, columns: 6)
        b.element(0x7FE0, 0x0010, "OW", Data((0..<48).flatMap { [UInt8($0), 0] }))
        return b.bytes
    }

    /// Header sizes around the two prefixes a header-only read tries: Pixel Data well inside
    /// one, its element header cut by the prefix end, its value cut, and far beyond both.
    /// (The header before the filler value is 196 bytes, after it 106, then 12 for the
    /// Pixel Data element header.)
    @Test(arguments: [1000, DICOMFile.headerPrefixBytes - 314, DICOMFile.headerPrefixBytes - 308,
                      DICOMFile.headerPrefixBytes - 200, DICOMFile.headerPrefixBytes + 10,
                      DICOMFile.longHeaderPrefixBytes - 314, DICOMFile.longHeaderPrefixBytes - 308,
                      DICOMFile.longHeaderPrefixBytes + 10, 300_000])
    func headerOnlyEqualsWholeRead(fillerBytes: Int) throws {
        let url = try Self.write(Self.fileWithLongHeader(fillerBytes: fillerBytes))
        defer { try? FileManager.default.removeItem(at: url) }
        let header = try DICOMFile.read(contentsOf: url, headersOnly: true)
        let whole = try DICOMFile.read(contentsOf: url)
        #expect(header.hasPixelData && header.isHeaderOnly)
        #expect(header.dataSet.string(.seriesInstanceUID) == "1.2.3.4")
        #expect(try header.pixelDescription() == whole.pixelDescription())
        #expect(Set(header.dataSet.elements.keys) == Set(whole.dataSet.elements.keys).subtracting([.pixelData]))
        #expect(header.dataSet[DICOMTag(0x0009, 0x1001)]?.length == fillerBytes)
        // The whole read decodes; the header-only one says why it cannot.
        #expect(try whole.decodeFrameSamples(0) == (0..<24).map { Int32($0) })
        #expect(throws: DICOMError.self) { try header.decodeFrameSamples(0) }
    }

    /// A file cut inside its header is refused with the path, header-only or not, whether
    /// or not the cut lies inside the header-only prefix.
    @Test(arguments: [500, DICOMFile.headerPrefixBytes + 100, DICOMFile.longHeaderPrefixBytes - 40_000])
    func truncatedHeaderOnDiskNamesTheFile(cut: Int) throws {
        let whole = Self.fileWithLongHeader(fillerBytes: 100_000)
        let url = try Self.write(whole.prefix(cut))
        defer { try? FileManager.default.removeItem(at: url) }
        for headersOnly in [true, false] {
            do {
                _ = try DICOMFile.read(contentsOf: url, headersOnly: headersOnly)
                Issue.record("truncated file accepted (headersOnly \(headersOnly))")
            } catch let error as DICOMError {
                guard case .truncated = error.reason else { Issue.record("\(error)"); continue }
                #expect(error.description.hasPrefix(url.path + ": truncated"))
            }
        }
    }

    @Test func missingFileAndFolderAreIOErrors() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("none-\(UUID().uuidString).dcm")
        for url in [missing, FileManager.default.temporaryDirectory] {
            do {
                _ = try DICOMFile.read(contentsOf: url)
                Issue.record("\(url.path) read")
            } catch let error as DICOMError {
                guard case .io = error.reason else { Issue.record("\(error)"); continue }
                #expect(error.path == url.path)
            }
        }
    }

    /// Leading and trailing spaces and NULs go; backslashes split values; bytes above 0x7F
    /// are ISO 8859-1 characters.
    @Test func textValuesAreTrimmedAndSplit() throws {
        var b = RawDICOMBuilder.withPreamble()
        b.element(0x0008, 0x0060, "CS", Data("  CT \0".utf8))
        b.element(0x0010, 0x0010, "PN", Data([0x20, 0x4D, 0xE9, 0x6C, 0x61, 0x5E, 0x41, 0x20]))  // " Méla^A "
        b.element(0x0020, 0x0037, "DS", Data(" 1\\0 \\ 0\\\\0\\-1 ".utf8))
        b.element(0x0008, 0x0070, "LO", Data("    ".utf8))
        let file = try DICOMFile(data: b.bytes)
        #expect(file.dataSet.string(.modality) == "CT")
        #expect(file.dataSet.string(.patientName) == "M\u{E9}la^A")
        #expect(file.dataSet.strings(.imageOrientationPatient) == ["1", "0", "0", "", "0", "-1"])
        #expect(file.dataSet.numbers(.imageOrientationPatient) == [1, 0, 0, 0, -1])
        #expect(file.dataSet.string(DICOMTag(0x0008, 0x0070)) == nil)
        #expect(file.dataSet.strings(DICOMTag(0x0008, 0x0070)) == [])
    }
}
