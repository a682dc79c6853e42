import Foundation
import Testing
@testable import DICOM

/// The SIMD path of `decodeFrameHU` (native 16-bit little endian grey) against
/// independent references: pydicom's statistics of the corpus files, the general sample
/// decoder (`decodeFrameSamples`, which masks with `DICOMPixelDescription.storedValue`)
/// rescaled in Double, and the kernel's own per-sample definition.
struct HUFastPathTests {
    /// A native 16-bit grey file with hand-chosen containers and attributes.
    static func file(rows: Int, columns: Int, frames: Int = 1, containers: [UInt16], bitsStored: Int, highBit: Int,
                     signed: Bool, slope: String? = nil, intercept: String? = nil, padding: UInt16? = nil,
                     paddingLimit: UInt16? = nil) -> Data {
        var b = RawDICOMBuilder.withPreamble()
        if let intercept { b.element(0x0028, 0x1052, "DS", Data(intercept.utf8)) }
        b.us(0x0028, 0x0002, 1)
        b.element(0x0028, 0x0004, "CS", Data("MONOCHROME2 ".utf8))
        if frames > 1 { b.element(0x0028, 0x0008, "IS", Data(String(frames).utf8)) }
        b.us(0x0028, 0x0010, UInt16(rows))
        b.us(0x0028, 0x0011, UInt16(columns))
        b.us(0x0028, 0x0100, 16)
        b.us(0x0028, 0x0101, UInt16(bitsStored))
        b.us(0x0028, 0x0102, UInt16(highBit))
        b.us(0x0028, 0x0103, signed ? 1 : 0)
        let vr = signed ? "SS" : "US"
        if let padding { b.element(0x0028, 0x0120, vr, withUnsafeBytes(of: padding.littleEndian) { Data($0) }) }
        if let paddingLimit {
            b.element(0x0028, 0x0121, vr, withUnsafeBytes(of: paddingLimit.littleEndian) { Data($0) })
        }
        if let slope { b.element(0x0028, 0x1053, "DS", Data(slope.utf8)) }
        var pixels = Data()
        for c in containers { withUnsafeBytes(of: c.littleEndian) { pixels.append(contentsOf: $0) } }
        b.element(0x7FE0, 0x0010, "OW", pixels)
        return b.bytes
    }

    /// Decodes every frame with `decodeFrameHU` and with the general sample path and
    /// compares voxels and statistics.
    static func expectFastPathMatchesGeneralPath(_ data: Data, slopeTolerance: Float = 0,
                                                 sourceLocation: SourceLocation = #_sourceLocation) throws {
        let file = try DICOMFile(data: data, path: "case.dcm")
        let d = try file.pixelDescription()
        let t = try file.modalityTransform()
        let pixels = d.rows * d.columns
        for frame in 0..<d.numberOfFrames {
            var hu = [Float](repeating: .nan, count: pixels)
            let stats = try hu.withUnsafeMutableBufferPointer { try file.decodeFrameHU(frame, transform: t, into: $0) }
            let samples = try file.decodeFrameSamples(frame)
            var expected = HUAccumulator()
            var mismatches = 0
            for i in 0..<pixels {
                let v = Int64(samples[i])
                let want: Float
                if let p = t.paddingRange, p.contains(v) {
                    want = DICOMModalityTransform.paddingHU
                    expected.paddingCount += 1
                } else {
                    let x = t.hu(v)
                    want = Float(x)
                    expected.count += 1
                    expected.sumHU += x
                    expected.minHU = min(expected.minHU, x)
                    expected.maxHU = max(expected.maxHU, x)
                }
                if abs(hu[i] - want) > slopeTolerance * max(1, abs(want)) { mismatches += 1 }
            }
            #expect(mismatches == 0, "frame \(frame): \(mismatches) voxels differ", sourceLocation: sourceLocation)
            #expect(stats.count == expected.count && stats.paddingCount == expected.paddingCount,
                    sourceLocation: sourceLocation)
            if expected.count > 0 {
                #expect(stats.minHU == expected.minHU && stats.maxHU == expected.maxHU, sourceLocation: sourceLocation)
                #expect(abs(stats.sumHU - expected.sumHU) <= 1e-9 * max(1, abs(expected.sumHU)),
                        sourceLocation: sourceLocation)
            }
        }
    }

    /// Signed 16-bit, the usual CT layout, with a padding value outside the field of view
    /// and a size that is not a multiple of the 8-lane step.
    @Test func signedWithPaddingValue() throws {
        var rng = SplitMix64(seed: 1)
        let containers = (0..<(13 * 11)).map { i -> UInt16 in
            i % 7 == 0 ? UInt16(bitPattern: -2000) : UInt16(bitPattern: Int16(Int(rng.next() % 5000) - 1100))
        }
        let data = Self.file(rows: 13, columns: 11, containers: containers, bitsStored: 16, highBit: 15, signed: true,
                             slope: "1", intercept: "-1024", padding: UInt16(bitPattern: -2000))
        try Self.expectFastPathMatchesGeneralPath(data)
        // And by hand: the first voxel is padding, the statistics leave it out.
        let file = try DICOMFile(data: data)
        var hu = [Float](repeating: 0, count: 13 * 11)
        let stats = try hu.withUnsafeMutableBufferPointer { try file.decodeFrameHU(0, transform: file.modalityTransform(), into: $0) }
        #expect(hu[0] == -1024 && hu[1] == Float(Int16(bitPattern: containers[1])) - 1024)
        #expect(stats.paddingCount == (13 * 11 + 6) / 7)
    }

    /// Unsigned 12 of 16 bits with garbage in the 4 bits above High Bit (overlay bits):
    /// they must be masked off, not read as part of the value.
    @Test func unsignedMaskedWithGarbageHighBits() throws {
        var rng = SplitMix64(seed: 2)
        let containers = (0..<(9 * 17)).map { _ in UInt16(truncatingIfNeeded: rng.next()) }
        let data = Self.file(rows: 9, columns: 17, containers: containers, bitsStored: 12, highBit: 11, signed: false,
                             slope: "1", intercept: "-1024")
        try Self.expectFastPathMatchesGeneralPath(data)
        let file = try DICOMFile(data: data)
        var hu = [Float](repeating: 0, count: 9 * 17)
        let stats = try hu.withUnsafeMutableBufferPointer { try file.decodeFrameHU(0, transform: file.modalityTransform(), into: $0) }
        for i in [0, 8, 100, 152] { #expect(hu[i] == Float(containers[i] & 0x0FFF) - 1024) }
        #expect(stats.maxHU <= 4095 - 1024 && stats.minHU >= -1024)
    }

    /// Signed 12-bit values stored in bits 13...2 (High Bit 13, not Bits Stored - 1):
    /// shifted down and sign-extended from bit 11.
    @Test func signedShiftedBitsAreSignExtended() throws {
        var rng = SplitMix64(seed: 3)
        let containers = (0..<(8 * 8 + 5)).map { _ in UInt16(truncatingIfNeeded: rng.next()) }
        let data = Self.file(rows: 1, columns: 8 * 8 + 5, containers: containers, bitsStored: 12, highBit: 13,
                             signed: true, slope: "2.5", intercept: "-7.25")
        try Self.expectFastPathMatchesGeneralPath(data, slopeTolerance: 1e-6)
        let file = try DICOMFile(data: data)
        var hu = [Float](repeating: 0, count: 69)
        _ = try hu.withUnsafeMutableBufferPointer { try file.decodeFrameHU(0, transform: file.modalityTransform(), into: $0) }
        for i in 0..<69 {
            var v = Int(containers[i] >> 2) & 0xFFF
            if v >= 0x800 { v -= 0x1000 }
            #expect(abs(hu[i] - (Float(v) * 2.5 - 7.25)) <= 1e-3)
        }
    }

    /// Unsigned with a Pixel Padding Range Limit above the value: a range of padding values,
    /// including the top of the unsigned range (where the SIMD lanes are biased).
    @Test func unsignedPaddingRangeAtTheTop() throws {
        var rng = SplitMix64(seed: 4)
        let containers = (0..<(31 * 7)).map { i -> UInt16 in
            i % 5 == 0 ? UInt16(65500 + Int(rng.next() % 36)) : UInt16(rng.next() % 65536)
        }
        let data = Self.file(rows: 31, columns: 7, containers: containers, bitsStored: 16, highBit: 15, signed: false,
                             slope: "0.5", intercept: "-3000", padding: 65500, paddingLimit: 65535)
        try Self.expectFastPathMatchesGeneralPath(data, slopeTolerance: 1e-6)
        let file = try DICOMFile(data: data)
        #expect(try file.modalityTransform().paddingRange == 65500...65535)
    }

    /// Signed padding range at the bottom of the range, several frames (the frame offset).
    @Test func multiFrameSignedPaddingRange() throws {
        var rng = SplitMix64(seed: 5)
        let frames = 3, rows = 5, columns = 19
        let containers = (0..<(frames * rows * columns)).map { i -> UInt16 in
            i % 4 == 0 ? UInt16(bitPattern: Int16(-32768 + Int(rng.next() % 40))) : UInt16(truncatingIfNeeded: rng.next())
        }
        let data = Self.file(rows: rows, columns: columns, frames: frames, containers: containers, bitsStored: 16,
                             highBit: 15, signed: true, slope: "1", intercept: "0",
                             padding: UInt16(bitPattern: -32768), paddingLimit: UInt16(bitPattern: -32740))
        try Self.expectFastPathMatchesGeneralPath(data)
    }

    /// All voxels padding: no statistics, nothing counted.
    @Test func everyVoxelPadding() throws {
        let containers = [UInt16](repeating: 0, count: 64)
        let data = Self.file(rows: 8, columns: 8, containers: containers, bitsStored: 16, highBit: 15, signed: false,
                             slope: "1", intercept: "-1024", padding: 0)
        let file = try DICOMFile(data: data)
        var hu = [Float](repeating: 0, count: 64)
        let stats = try hu.withUnsafeMutableBufferPointer { try file.decodeFrameHU(0, transform: file.modalityTransform(), into: $0) }
        #expect(stats.count == 0 && stats.paddingCount == 64 && stats.meanHU == nil)
        #expect(hu.allSatisfy { $0 == -1024 })
    }

    /// The kernel against its per-sample definition, bit for bit, on random layouts,
    /// padding ranges (also outside the representable values), lengths and misaligned sources.
    @Test func kernelEqualsPerSampleDefinition() {
        var rng = SplitMix64(seed: 6)
        for _ in 0..<400 {
            let count = Int(rng.next() % 200)
            let bitsStored = 1 + Int(rng.next() % 16)
            let highBit = bitsStored - 1 + Int(rng.next() % UInt64(17 - bitsStored))
            let layout = DICOMGrey16HUKernel.Layout(bitsStored: bitsStored, highBit: highBit, isSigned: rng.next() % 2 == 0)
            let source = (0..<(count + 1)).map { _ in UInt16(truncatingIfNeeded: rng.next()) }
            var padding: ClosedRange<Int64>?
            if rng.next() % 3 != 0 {
                let lo = Int64(rng.next() % 140_000) - 70_000
                padding = lo...(lo + Int64(rng.next() % 30_000))
            }
            let slope = Float(Int(rng.next() % 600) - 300) / 100, intercept = Float(Int(rng.next() % 4000) - 2000)
            let offset = Int(rng.next() % 2)
            var fast = [Float](repeating: .nan, count: count), reference = [Float](repeating: .nan, count: count)
            let a = source.withUnsafeBytes { s in
                fast.withUnsafeMutableBufferPointer {
                    DICOMGrey16HUKernel.convert(source: s.baseAddress! + offset, count: count, layout: layout, slope: slope,
                                                intercept: intercept, padding: padding, destination: $0.baseAddress!)
                }
            }
            let b = source.withUnsafeBytes { s in
                reference.withUnsafeMutableBufferPointer {
                    DICOMGrey16HUKernel.referenceScalar(source: s.baseAddress! + offset, count: count, layout: layout,
                                                        slope: slope, intercept: intercept, padding: padding,
                                                        destination: $0.baseAddress!)
                }
            }
            #expect(a == b)
            #expect(fast.map(\.bitPattern) == reference.map(\.bitPattern))
        }
    }

    /// pydicom's statistics of every native 16-bit little endian grey file of the corpus,
    /// through the HU path with the identity rescale (so HU = stored value).
    @Test func corpusStatisticsMatchPydicom() throws {
        let reference = try #require(PydicomCorpusTests.reference)
        var checked: [String] = []
        for name in PydicomCorpusTests.names({ $0 == "pixels" }) {
            let e = try #require(reference.files[name])
            let file = try DICOMFile.read(contentsOf: PydicomCorpusTests.fixtures.appendingPathComponent(name))
            let d = try file.pixelDescription()
            guard file.transferSyntax.pixelEncoding == .native, !file.transferSyntax.isBigEndian,
                  d.bitsAllocated == 16, d.samplesPerPixel == 1 else { continue }
            var total = HUAccumulator()
            var hu = [Float](repeating: 0, count: d.rows * d.columns)
            for f in 0..<d.numberOfFrames {
                total.merge(try hu.withUnsafeMutableBufferPointer {
                    try file.decodeFrameHU(f, transform: DICOMModalityTransform(), into: $0)
                })
            }
            #expect(total.count == d.rows * d.columns * d.numberOfFrames, "\(name)")
            #expect(total.minHU == e.min && total.maxHU == e.max, "\(name)")
            #expect(PydicomCorpusTests.close(total.sumHU, try #require(e.sum)), "\(name)")
            checked.append(name)
        }
        // CT_small (signed), MR_small (signed), emri_small (multi-frame, unsigned) at least.
        #expect(checked.count >= 4, "\(checked)")
        #expect(checked.contains("CT_small.dcm") && checked.contains("emri_small.dcm"))
    }
}
