import Foundation
@testable import ImageCodecs
import Testing

@Suite struct JPEGDecodeTests {
    @Test("decodes Pillow-written JPEGs like Pillow's libjpeg-turbo", arguments: ReferenceFixtures.jpegNames)
    func decodesReferenceFixture(name: String) throws {
        let expected = try #require(ReferenceFixtures.expected[name])
        let image = try JPEGCodec.decode(contentsOf: ReferenceFixtures.url(name))
        #expect(image.width == expected.width)
        #expect(image.height == expected.height)
        #expect(image.bitDepth == 8)
        #expect(image.wasColor == expected.was_color)
        // Same IDCT (libjpeg's default integer "islow") and the same colour -> gray rule
        // (take Y), so the samples agree exactly with Pillow's build.
        #expect(image.samples.map(Int.init) == expected.samples)
        // And independently of any decoder: close to the pixels before compression.
        let original = try #require(expected.original)
        let errors = zip(image.samples, original).map { abs(Int($0) - $1) }
        let meanError = Double(errors.reduce(0, +)) / Double(errors.count)
        #expect(meanError < 4.0)
        #expect(errors.max()! <= 16)
    }

    @Test func fixturesIncludeGrayColourAndProgressive() {
        #expect(Set(ReferenceFixtures.jpegNames) == ["gray.jpg", "gray_progressive.jpg", "color420.jpg"])
    }

    @Test func headerWithoutDecoding() throws {
        let color = try JPEGCodec.header(data: ReferenceFixtures.data("color420.jpg"))
        #expect(color == JPEGCodec.Header(width: 37, height: 29, components: 3, precision: 8, isProgressive: false))
        let progressive = try JPEGCodec.header(data: ReferenceFixtures.data("gray_progressive.jpg"))
        #expect(progressive.isProgressive)
        #expect(progressive.components == 1)
    }

    @Test func twelveBitJPEGIsClearlyUnsupported() throws {
        var data = try ReferenceFixtures.data("gray.jpg")
        let sof = try #require(markerOffset(0xC0, in: data))
        data[sof + 4] = 12 // sample precision byte of SOF0; make it SOF1 (extended) as DICOM 12-bit uses
        data[sof + 1] = 0xC1
        let error = try #require(throws: ImageCodecError.self) { try JPEGCodec.decode(data: data) }
        #expect(error.kind == .unsupported)
        #expect(error.reason.contains("precision 12"))
        #expect(error.reason.contains("8-bit JPEG only"))
        // The header alone already tells (DICOM readers check it before decoding frames).
        let headerError = try #require(throws: ImageCodecError.self) { try JPEGCodec.header(data: data) }
        #expect(headerError.kind == .unsupported)
    }

    @Test func losslessJPEGIsClearlyUnsupported() throws {
        var data = try ReferenceFixtures.data("gray.jpg")
        let sof = try #require(markerOffset(0xC0, in: data))
        data[sof + 1] = 0xC3
        let error = try #require(throws: ImageCodecError.self) { try JPEGCodec.decode(data: data) }
        #expect(error.kind == .unsupported)
        #expect(error.reason.lowercased().contains("sof type 0xc3"))
    }
}

@Suite struct JPEGHostileInputTests {
    @Test func everyTruncationIsAnErrorNotAGrayFill() throws {
        for name in ["gray.jpg", "color420.jpg", "gray_progressive.jpg"] {
            let data = try ReferenceFixtures.data(name)
            let headerEnd = try #require(markerOffset(0xDA, in: data))
            for length in 0..<data.count {
                do {
                    _ = try JPEGCodec.decode(data: data.prefix(length))
                    Issue.record("\(name) cut to \(length) of \(data.count) bytes decoded without error")
                } catch let error as ImageCodecError {
                    if length > headerEnd + 20 {
                        #expect(error.kind == .truncated || error.kind == .corrupt, "\(name) at \(length): \(error)")
                    }
                }
            }
        }
    }

    @Test func missingEndMarkerIsReportedAsTruncated() throws {
        let data = try ReferenceFixtures.data("gray.jpg")
        let error = try #require(throws: ImageCodecError.self) { try JPEGCodec.decode(data: data.dropLast(2)) }
        #expect(error.kind == .truncated)
        #expect(error.reason.contains("Premature end of JPEG file"))
    }

    @Test func garbageIsNotAJPEG() throws {
        var generator = SplitMix64(seed: 11)
        let data = Data((0..<2048).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let error = try #require(throws: ImageCodecError.self) { try JPEGCodec.decode(data: data) }
        #expect(error.kind == .notThisFormat)
        #expect(throws: ImageCodecError.self) { try JPEGCodec.decode(data: Data()) }
    }

    @Test func garbageAfterAValidHeaderIsAnError() throws {
        let data = try ReferenceFixtures.data("color420.jpg")
        let sos = try #require(markerOffset(0xDA, in: data))
        let sosLength = Int(data[sos + 2]) << 8 | Int(data[sos + 3])
        var generator = SplitMix64(seed: 99)
        var failures = 0
        for _ in 0..<50 {
            var damaged = Data(data.prefix(sos + 2 + sosLength))
            damaged += Data((0..<600).map { _ in UInt8.random(in: 0...255, using: &generator) })
            damaged += Data([0xFF, 0xD9])
            do {
                let image = try JPEGCodec.decode(data: damaged)
                #expect(image.samples.count == 37 * 29)
            } catch is ImageCodecError {
                failures += 1
            }
        }
        // Random entropy data hits bad Huffman codes or stray markers almost always.
        #expect(failures >= 45)
    }

    @Test func hugeDeclaredSizeIsRefused() throws {
        var data = try ReferenceFixtures.data("gray.jpg")
        let sof = try #require(markerOffset(0xC0, in: data))
        // height and width fields of SOF0 -> 65000 x 65000
        data[sof + 5] = 0xFD; data[sof + 6] = 0xE8
        data[sof + 7] = 0xFD; data[sof + 8] = 0xE8
        let error = try #require(throws: ImageCodecError.self) { try JPEGCodec.decode(data: data) }
        #expect(error.kind == .tooLarge)
    }
}

@Suite struct JPEGEncodeTests {
    @Test func grayEncodeDecodeStaysCloseAndKeepsSize() throws {
        let width = 45, height = 31
        let samples = (0..<(width * height)).map { i -> UInt16 in
            let x = Double(i % width), y = Double(i / width)
            let value: Double = 128 + 90 * sin(x / 6) * cos(y / 4)
            return UInt16(value.rounded())
        }
        let image = GrayImage(width: width, height: height, bitDepth: 8, samples: samples)
        let data = try JPEGCodec.encode(image, quality: 95)
        let header = try JPEGCodec.header(data: data)
        #expect(header == JPEGCodec.Header(width: width, height: height, components: 1, precision: 8, isProgressive: false))
        let decoded = try JPEGCodec.decode(data: data)
        #expect(!decoded.wasColor)
        let errors = zip(decoded.samples, samples).map { abs(Int($0) - Int($1)) }
        #expect(Double(errors.reduce(0, +)) / Double(errors.count) < 1.5)
        #expect(errors.max()! <= 6)
        // Lower quality: smaller file, larger error (the quality setting is honoured).
        let coarse = try JPEGCodec.encode(image, quality: 20)
        #expect(coarse.count < data.count)
    }

    @Test func flatImageSurvivesExactly() throws {
        let image = GrayImage(width: 16, height: 16, bitDepth: 8, samples: [UInt16](repeating: 93, count: 256))
        #expect(try JPEGCodec.decode(data: try JPEGCodec.encode(image, quality: 90)).samples == image.samples)
    }

    @Test func sixteenBitCannotBeWrittenAsJPEG() throws {
        let image = GrayImage(width: 2, height: 2, bitDepth: 16, samples: [0, 1, 2, 3])
        let error = try #require(throws: ImageCodecError.self) { try JPEGCodec.encode(image) }
        #expect(error.kind == .invalidArgument)
    }

    @Test func writeThenReadFile() throws {
        let folder = try TemporaryFolder()
        let url = folder.url.appendingPathComponent("slice.jpg")
        let image = GrayImage(width: 8, height: 8, bitDepth: 8, samples: [UInt16](repeating: 200, count: 64))
        try JPEGCodec.write(image, to: url, quality: 90)
        #expect(try JPEGCodec.decode(contentsOf: url).samples == image.samples)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path) == ["slice.jpg"])
    }
}

/// Writes our encoder's output for scripts/reference/codecs_reference.py verify-encoded.
/// Runs only when CODECS_REFERENCE_EXPORT names a folder.
@Test(.enabled(if: ProcessInfo.processInfo.environment["CODECS_REFERENCE_EXPORT"] != nil))
func exportEncoderOutputForPillow() throws {
    let folder = URL(fileURLWithPath: ProcessInfo.processInfo.environment["CODECS_REFERENCE_EXPORT"]!)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var generator = SplitMix64(seed: 5)
    func export(_ name: String, format: String, width: Int, height: Int, samples: [Int], data: Data) throws {
        try data.write(to: folder.appendingPathComponent(name))
        let meta: [String: Any] = ["file": name, "format": format, "width": width, "height": height,
                                   "samples": samples, "mean_error_limit": 1.5]
        try JSONSerialization.data(withJSONObject: meta).write(to: folder.appendingPathComponent(name + ".json"))
    }
    for bitDepth in [8, 16] {
        let maximum: UInt16 = bitDepth == 8 ? 255 : 65535
        let image = GrayImage(width: 33, height: 21, bitDepth: bitDepth,
                              samples: (0..<(33 * 21)).map { _ in UInt16.random(in: 0...maximum, using: &generator) })
        try export("gray\(bitDepth).png", format: "png", width: 33, height: 21,
                   samples: image.samples.map(Int.init), data: try PNGCodec.encode(image))
    }
    var rgb = RGBImage(width: 19, height: 7)
    for i in rgb.rgb.indices { rgb.rgb[i] = UInt8.random(in: 0...255, using: &generator) }
    try export("rgb8.png", format: "png", width: 19, height: 7, samples: rgb.rgb.map(Int.init),
               data: try PNGCodec.encode(rgb))
    var smoothSamples = [UInt16]()
    for i in 0..<(40 * 24) {
        let x = Double(i % 40), y = Double(i / 40)
        let value: Double = 128 + 60 * sin(x / 5) * cos(y / 3)
        smoothSamples.append(UInt16(value.rounded()))
    }
    let smooth = GrayImage(width: 40, height: 24, bitDepth: 8, samples: smoothSamples)
    try export("gray8.jpg", format: "jpeg", width: 40, height: 24, samples: smooth.samples.map(Int.init),
               data: try JPEGCodec.encode(smooth, quality: 95))
}

/// Offset of the first `FF xx` marker in a JPEG.
func markerOffset(_ marker: UInt8, in data: Data) -> Int? {
    let bytes = [UInt8](data)
    var i = 2
    while i + 3 < bytes.count {
        guard bytes[i] == 0xFF else { return nil }
        if bytes[i + 1] == marker { return i }
        i += 2 + (Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]))
    }
    return nil
}
