import Foundation
import Testing
@testable import DICOM

/// Builds explicit VR little endian bytes by hand, including invalid ones.
struct RawDICOMBuilder {
    var bytes = Data()

    static func withPreamble() -> RawDICOMBuilder {
        var b = RawDICOMBuilder()
        b.bytes = Data(count: 128) + Data("DICM".utf8)
        b.element(0x0002, 0x0010, "UI", Data("1.2.840.10008.1.2.1\0".utf8))
        return b
    }

    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }

    /// An element with the given VR; `length` overrides the true value length.
    mutating func element(_ g: UInt16, _ e: UInt16, _ vr: String, _ value: Data, length: UInt32? = nil) {
        u16(g); u16(e)
        bytes.append(contentsOf: Array(vr.utf8))
        if ["OB", "OW", "SQ", "UN", "UT"].contains(vr) {
            u16(0); u32(length ?? UInt32(value.count))
        } else {
            u16(UInt16(truncatingIfNeeded: length ?? UInt32(value.count)))
        }
        bytes.append(value)
    }

    mutating func us(_ g: UInt16, _ e: UInt16, _ v: UInt16) {
        element(g, e, "US", withUnsafeBytes(of: v.littleEndian) { Data($0) })
    }

    /// Image pixel module for a rows x columns 16-bit image.
    mutating func image(rows: UInt16, columns: UInt16, frames: String? = nil) {
        us(0x0028, 0x0002, 1)
        element(0x0028, 0x0004, "CS", Data("MONOCHROME2 ".utf8))
        if let frames { element(0x0028, 0x0008, "IS", Data(frames.utf8)) }
        us(0x0028, 0x0010, rows)
        us(0x0028, 0x0011, columns)
        us(0x0028, 0x0100, 16)
        us(0x0028, 0x0101, 16)
        us(0x0028, 0x0102, 15)
        us(0x0028, 0x0103, 0)
    }
}

struct HostileInputTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// Reading and decoding must fail with a DICOMError (never crash, never read out of bounds).
    static func expectRefused(_ data: Data, sourceLocation: SourceLocation = #_sourceLocation) -> DICOMError? {
        do {
            let file = try DICOMFile(data: data, path: "hostile.dcm")
            _ = try file.decodeFrameSamples(0)
            Issue.record("hostile input was accepted", sourceLocation: sourceLocation)
            return nil
        } catch let error as DICOMError {
            #expect(error.path == "hostile.dcm", sourceLocation: sourceLocation)
            return error
        } catch {
            Issue.record("not a DICOMError: \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    @Test(arguments: ["CT_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm", "MR_small_RLE.dcm",
                      "JPEG-LL.dcm", "emri_small_RLE.dcm", "SC_rgb_jpeg_gdcm.dcm"])
    func everyTruncationIsRefused(name: String) throws {
        let whole = try Data(contentsOf: Self.fixtures.appendingPathComponent(name))
        // Every cut in the header region, then a stride through the rest.
        var cuts = Array(0..<min(whole.count, 1200))
        cuts += stride(from: 1200, to: whole.count - 1, by: 97)
        cuts.append(whole.count - 1)
        for cut in cuts {
            _ = Self.expectRefused(whole.prefix(cut))
        }
    }

    @Test func randomBytesAreRefused() {
        var rng = SplitMix64(seed: 20261123)
        for trial in 0..<400 {
            let size = Int(rng.next() % 4096)
            var data = Data((0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            if trial % 2 == 0 && data.count > 140 {
                // Half of them look like Part 10 files, so the parser gets past the magic.
                data.replaceSubrange(128..<132, with: Data("DICM".utf8))
            }
            _ = Self.expectRefused(data)
        }
    }

    @Test func bitFlipsInARealFileNeverCrash() throws {
        let whole = try Data(contentsOf: Self.fixtures.appendingPathComponent("MR_small_RLE.dcm"))
        var rng = SplitMix64(seed: 7)
        for _ in 0..<300 {
            var data = whole
            for _ in 0..<4 {
                let i = Int(rng.next() % UInt64(data.count))
                data[i] ^= UInt8(1 << (rng.next() % 8))
            }
            // Either a clean error or a decoded frame of the right size.
            do {
                let file = try DICOMFile(data: data)
                let d = try file.pixelDescription()
                let samples = try file.decodeFrameSamples(0)
                #expect(samples.count == d.rows * d.columns * d.samplesPerPixel)
            } catch is DICOMError {
            }
        }
    }

    @Test func lengthPastEndOfFile() throws {
        var b = RawDICOMBuilder.withPreamble()
        b.element(0x0008, 0x0060, "CS", Data("CT".utf8))
        b.element(0x0010, 0x4000, "UT", Data("short".utf8), length: 0xFFFF_0000)
        let error = try #require(Self.expectRefused(b.bytes))
        guard case .truncated(let s) = error.reason else { Issue.record("\(error)"); return }
        #expect(s.contains("(0010,4000)") && s.contains("4294901760"))
    }

    @Test func absurdImageSizeIsRefusedBeforeAllocating() throws {
        var b = RawDICOMBuilder.withPreamble()
        b.image(rows: 65535, columns: 65535, frames: "99999")
        b.element(0x7FE0, 0x0010, "OW", Data(count: 16))
        let error = try #require(Self.expectRefused(b.bytes))
        guard case .tooLarge = error.reason else { Issue.record("\(error)"); return }
    }

    @Test func shortPixelData() throws {
        var b = RawDICOMBuilder.withPreamble()
        b.image(rows: 64, columns: 64)
        b.element(0x7FE0, 0x0010, "OW", Data(count: 64 * 64 * 2 - 2))
        let error = try #require(Self.expectRefused(b.bytes))
        #expect(error.reason == .pixelDataTooShort(expectedBytes: 8192, actualBytes: 8190))
        // The same through the HU path.
        let file = try DICOMFile(data: b.bytes)
        var out = [Float](repeating: 0, count: 64 * 64)
        #expect(throws: DICOMError.self) {
            try out.withUnsafeMutableBufferPointer { try file.decodeFrameHU(0, transform: .init(), into: $0) }
        }
    }

    @Test func deepSequenceNestingIsRefused() throws {
        var b = RawDICOMBuilder.withPreamble()
        for _ in 0..<200 {
            b.u16(0x0008); b.u16(0x1140); b.bytes.append(contentsOf: Array("SQ".utf8)); b.u16(0); b.u32(0xFFFF_FFFF)
            b.u16(0xFFFE); b.u16(0xE000); b.u32(0xFFFF_FFFF)
        }
        let error = try #require(Self.expectRefused(b.bytes))
        guard case .malformed(let s) = error.reason else { Issue.record("\(error)"); return }
        #expect(s.contains("nested deeper than 16"))
    }

    @Test func nestingWithinTheLimitIsRead() throws {
        var b = RawDICOMBuilder.withPreamble()
        for _ in 0..<10 {
            b.u16(0x0008); b.u16(0x1140); b.bytes.append(contentsOf: Array("SQ".utf8)); b.u16(0); b.u32(0xFFFF_FFFF)
            b.u16(0xFFFE); b.u16(0xE000); b.u32(0xFFFF_FFFF)
        }
        b.element(0x0008, 0x0060, "CS", Data("CT".utf8))
        for _ in 0..<10 {
            b.u16(0xFFFE); b.u16(0xE00D); b.u32(0)
            b.u16(0xFFFE); b.u16(0xE0DD); b.u32(0)
        }
        let file = try DICOMFile(data: b.bytes)
        var level = file.dataSet
        for _ in 0..<10 { level = try #require(level.sequence(DICOMTag(0x0008, 0x1140))?.first) }
        #expect(level.string(.modality) == "CT")
    }

    @Test func invalidVRIsNamed() throws {
        var b = RawDICOMBuilder.withPreamble()
        b.element(0x0008, 0x0020, "DA", Data("20260101".utf8))
        b.element(0x0008, 0x0060, "c!", Data("CT".utf8))
        let error = try #require(Self.expectRefused(b.bytes))
        guard case .malformed(let s) = error.reason else { Issue.record("\(error)"); return }
        #expect(s.contains("(0008,0060)") && s.contains("invalid VR"))
    }

    @Test func notDICOMIsSaidSo() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("notes-\(UUID()).txt")
        try Data("Patient notes, not an image.\n".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            _ = try DICOMFile.read(contentsOf: url)
            Issue.record("text file accepted")
        } catch let error as DICOMError {
            guard case .notDICOM = error.reason else { Issue.record("\(error)"); return }
            #expect(error.description.hasPrefix(url.path + ": not a DICOM file"))
        }
    }

    @Test func corruptRLEAndJPEGFramesAreRefused() throws {
        // Damage the compressed frame bytes (after the header) of real files.
        for name in ["MR_small_RLE.dcm", "JPEG-LL.dcm"] {
            let whole = try Data(contentsOf: Self.fixtures.appendingPathComponent(name))
            let file = try DICOMFile(data: whole)
            let fragment = try #require(file.dataSet[.pixelData]?.fragments?.last)
            var data = whole
            // Cut the frame short but keep the item lengths consistent: zero its second half.
            let mid = fragment.lowerBound + fragment.count / 2
            data.replaceSubrange(mid..<fragment.upperBound, with: Data(count: fragment.upperBound - mid))
            do {
                let damaged = try DICOMFile(data: data)
                let samples = try damaged.decodeFrameSamples(0)
                // RLE may still decode (zeros are valid PackBits); then the pixels must differ.
                #expect(samples != (try file.decodeFrameSamples(0)))
            } catch is DICOMError {
            }
        }
    }
}

/// Deterministic random numbers for reproducible hostile inputs (Steele, Lea & Flood 2014).
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
