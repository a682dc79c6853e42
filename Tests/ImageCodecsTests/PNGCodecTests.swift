import Foundation
@testable import ImageCodecs
import Testing

@Suite struct PNGDecodeTests {
    @Test("decodes independently written PNGs exactly", arguments: ReferenceFixtures.pngNames)
    func decodesReferenceFixture(name: String) throws {
        let expected = try #require(ReferenceFixtures.expected[name])
        let image = try PNGCodec.decode(contentsOf: ReferenceFixtures.url(name))
        #expect(image.width == expected.width)
        #expect(image.height == expected.height)
        #expect(image.bitDepth == expected.bit_depth)
        #expect(image.wasColor == expected.was_color)
        #expect(image.hadAlpha == expected.had_alpha)
        #expect(image.samples.map(Int.init) == expected.samples)
    }

    @Test func fixtureListCoversEveryColourType() {
        // Guards the parameterised test above against an empty or shrunken fixture set.
        let names = Set(ReferenceFixtures.pngNames)
        for needed in ["gray8.png", "gray16.png", "gray16_interlaced.png", "gray_alpha8.png", "palette4.png",
                       "rgb8.png", "rgba16.png", "rgb16_interlaced.png", "gray16_gama_sbit.png"] {
            #expect(names.contains(needed), "missing fixture \(needed)")
        }
    }

    @Test func sixteenBitIsBigEndianInTheFile() throws {
        // First samples of gray16.png are 0x00FF and 0xFF00: swapped bytes would read 0xFF00, 0x00FF.
        let image = try PNGCodec.decode(contentsOf: ReferenceFixtures.url("gray16.png"))
        #expect(image[0, 0] == 0x00FF)
        #expect(image[1, 0] == 0xFF00)
        #expect(image[2, 0] == 65535)
    }

    @Test func gammaAndSignificantBitsAreNotApplied() throws {
        let plain = try PNGCodec.decode(contentsOf: ReferenceFixtures.url("gray16.png"))
        let withChunks = try PNGCodec.decode(contentsOf: ReferenceFixtures.url("gray16_gama_sbit.png"))
        #expect(plain.samples == withChunks.samples)
    }

    @Test func detectsFormatBySignatureNotName() throws {
        let folder = try TemporaryFolder()
        let misnamed = folder.url.appendingPathComponent("slice.jpg")
        try FileManager.default.copyItem(at: ReferenceFixtures.url("gray8.png"), to: misnamed)
        let (format, image) = try ImageDecoder.decode(contentsOf: misnamed)
        #expect(format == .png)
        #expect(image.samples.map(Int.init) == ReferenceFixtures.expected["gray8.png"]!.samples)
    }
}

@Suite struct PNGHostileInputTests {
    @Test func everyTruncationIsATruncatedError() throws {
        for name in ["gray16.png", "rgb8_interlaced.png", "palette4.png"] {
            let data = try ReferenceFixtures.data(name)
            for length in 0..<data.count {
                do {
                    _ = try PNGCodec.decode(data: data.prefix(length))
                    Issue.record("\(name) cut to \(length) of \(data.count) bytes decoded without error")
                } catch let error as ImageCodecError {
                    // A cut inside a chunk's length/type can also look corrupt (a CRC over
                    // the missing bytes never matches), but never another kind.
                    #expect(error.kind == .truncated || error.kind == .corrupt,
                            "\(name) at \(length): \(error)")
                    if length > 8 && length < data.count - 12 { #expect(error.kind == .truncated, "\(name) at \(length): \(error)") }
                }
            }
        }
    }

    @Test func flippedBitInImageDataFailsTheCRC() throws {
        var data = try ReferenceFixtures.data("gray8.png")
        // The first IDAT payload byte: signature (8) + IHDR chunk (25) + IDAT length/type (8).
        data[8 + 25 + 8 + 2] ^= 0x10
        let error = try #require(throws: ImageCodecError.self) { try PNGCodec.decode(data: data) }
        #expect(error.kind == .corrupt)
        #expect(error.reason.lowercased().contains("crc"))
    }

    @Test func randomBytesAreNotAPNG() throws {
        var generator = SplitMix64(seed: 7)
        let data = Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let error = try #require(throws: ImageCodecError.self) { try PNGCodec.decode(data: data) }
        #expect(error.kind == .notThisFormat)
    }

    @Test func absurdDimensionsAreRefusedBeforeAllocating() throws {
        // A valid IHDR for 60000 x 60000 RGBA16 (27 GB decoded) with a correct CRC.
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        let ihdr: [UInt8] = Array("IHDR".utf8) + bigEndian(60000) + bigEndian(60000) + [16, 6, 0, 0, 0]
        bytes += bigEndian(13) + ihdr + bigEndian(crc32(ihdr))
        let idat: [UInt8] = Array("IDAT".utf8) + [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]
        bytes += bigEndian(8) + idat + bigEndian(crc32(idat))
        let error = try #require(throws: ImageCodecError.self) { try PNGCodec.decode(data: Data(bytes)) }
        #expect(error.kind == .tooLarge)
    }

    @Test func randomMutationsEitherThrowOrGiveAConsistentImage() throws {
        var generator = SplitMix64(seed: 2026)
        let names = ["gray16_interlaced.png", "rgba16.png", "palette4.png", "gray4.png"]
        var thrown = 0
        for trial in 0..<400 {
            var data = try ReferenceFixtures.data(names[trial % names.count])
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                data[Int.random(in: 8..<data.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            do {
                let image = try PNGCodec.decode(data: data)
                #expect(image.samples.count == image.width * image.height)
            } catch is ImageCodecError {
                thrown += 1
            }
        }
        // Every IDAT/IHDR byte is covered by a CRC, so nearly all mutations must be caught.
        #expect(thrown > 380)
    }

    @Test func missingFileNamesThePath() throws {
        let url = URL(fileURLWithPath: "/nonexistent/folder/slice-001.png")
        let error = try #require(throws: ImageCodecError.self) { try PNGCodec.decode(contentsOf: url) }
        #expect(error.kind == .io)
        #expect(error.description.contains("/nonexistent/folder/slice-001.png"))
    }

    @Test func corruptFileErrorNamesThePathAndReason() throws {
        let folder = try TemporaryFolder()
        let url = folder.url.appendingPathComponent("cut.png")
        try ReferenceFixtures.data("gray8.png").prefix(100).write(to: url)
        let error = try #require(throws: ImageCodecError.self) { try PNGCodec.decode(contentsOf: url) }
        #expect(error.path == url.path)
        #expect(error.description.contains("cut.png"))
        #expect(error.description.contains("truncated"))
    }
}

@Suite struct PNGEncodeTests {
    @Test(arguments: [8, 16])
    func grayRoundTripIsExact(bitDepth: Int) throws {
        let width = 67, height = 45
        var generator = SplitMix64(seed: UInt64(bitDepth))
        let maximum: UInt16 = bitDepth == 8 ? 255 : 65535
        var samples = (0..<(width * height)).map { _ in UInt16.random(in: 0...maximum, using: &generator) }
        samples[0] = 0
        samples[1] = maximum
        let image = GrayImage(width: width, height: height, bitDepth: bitDepth, samples: samples)
        for level in [0, 1, 6, 9] {
            let decoded = try PNGCodec.decode(data: try PNGCodec.encode(image, compressionLevel: level))
            #expect(decoded == image)
        }
    }

    @Test func sixteenBitFileHoldsBigEndianSamples() throws {
        let image = GrayImage(width: 2, height: 1, bitDepth: 16, samples: [0x1234, 0xABCD])
        let data = try PNGCodec.encode(image)
        #expect(Array(data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // IHDR: width 2, height 1, bit depth 16, colour type 0 (gray).
        #expect(Array(data[16..<26]) == [0, 0, 0, 2, 0, 0, 0, 1, 16, 0])
        #expect(try PNGCodec.decode(data: data).samples == [0x1234, 0xABCD])
    }

    @Test func rgbRoundTripAndLuminance() throws {
        var image = RGBImage(width: 5, height: 3)
        image[0, 0] = SIMD3(255, 0, 0)
        image[1, 0] = SIMD3(0, 255, 0)
        image[2, 0] = SIMD3(0, 0, 255)
        image[3, 0] = SIMD3(77, 77, 77)
        image[4, 2] = SIMD3(255, 255, 255)
        let data = try PNGCodec.encode(image)
        #expect(data[16 + 9] == 2) // colour type RGB
        let decoded = try PNGCodec.decode(data: data)
        #expect(decoded.wasColor)
        // BT.601: round(0.299 * 255) = 76, round(0.587 * 255) = 150, round(0.114 * 255) = 29.
        #expect(decoded[0, 0] == 76)
        #expect(decoded[1, 0] == 150)
        #expect(decoded[2, 0] == 29)
        #expect(decoded[3, 0] == 77)
        #expect(decoded[4, 2] == 255)
        #expect(decoded[0, 1] == 0)
    }

    @Test func rgbFileOfGrayPixelsIsNotColour() throws {
        let gray = GrayImage(width: 4, height: 2, bitDepth: 8, samples: [0, 1, 2, 3, 128, 200, 254, 255])
        let decoded = try PNGCodec.decode(data: try PNGCodec.encode(RGBImage(gray: gray)))
        #expect(!decoded.wasColor)
        #expect(decoded.samples == gray.samples)
        var tinted = RGBImage(gray: gray)
        tinted[3, 1] = SIMD3(255, 255, 254)
        #expect(try PNGCodec.decode(data: try PNGCodec.encode(tinted)).wasColor)
    }

    @Test func writeReplacesAtomicallyAndLeavesNoTemporaryFiles() throws {
        let folder = try TemporaryFolder()
        let url = folder.url.appendingPathComponent("key.png")
        try "old contents".write(to: url, atomically: false, encoding: .utf8)
        let image = GrayImage(width: 3, height: 2, bitDepth: 8, samples: [0, 1, 2, 253, 254, 255])
        try PNGCodec.write(image, to: url)
        #expect(try PNGCodec.decode(contentsOf: url) == image)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.url.path)
        #expect(names == ["key.png"])
    }

    @Test func writeIntoMissingFolderNamesThePath() throws {
        let url = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/key.png")
        let image = GrayImage(width: 1, height: 1, bitDepth: 8, samples: [9])
        let error = try #require(throws: ImageCodecError.self) { try PNGCodec.write(image, to: url) }
        #expect(error.kind == .io)
        #expect(error.path == url.path)
    }

    @Test func emptyImageIsRejected() throws {
        let image = GrayImage(width: 0, height: 0, bitDepth: 8, samples: [])
        let error = try #require(throws: ImageCodecError.self) { try PNGCodec.encode(image) }
        #expect(error.kind == .invalidArgument)
    }
}

// MARK: - Helpers

/// Deterministic generator so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
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

func bigEndian(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
}

/// CRC-32 as PNG defines it (ISO 3309), for hand-made chunks.
func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}
