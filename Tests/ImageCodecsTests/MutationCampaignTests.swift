import Foundation
import ImageCodecs
import Testing

/// A longer mutation campaign over every PNG and JPEG fixture, for runs under AddressSanitizer:
///
///     CODECS_FUZZ_ITERATIONS=50000 swift test --sanitize=address --filter mutationCampaign
///
/// Each input is a fixture with 1-16 random byte changes, a random truncation, or both. The
/// decoders must either throw an `ImageCodecError` or return an image whose sample count
/// matches its size; ASan reports any out-of-bounds access in libpng, libjpeg or the shim.
@Test(.enabled(if: ProcessInfo.processInfo.environment["CODECS_FUZZ_ITERATIONS"] != nil))
func mutationCampaign() throws {
    let iterations = Int(ProcessInfo.processInfo.environment["CODECS_FUZZ_ITERATIONS"] ?? "") ?? 10_000
    let names = ReferenceFixtures.pngNames + ReferenceFixtures.jpegNames
    let originals = try names.map { try ReferenceFixtures.data($0) }
    var generator = SplitMix64(seed: 0xC0DEC)
    var decoded = 0, rejected = 0
    for _ in 0..<iterations {
        let which = Int.random(in: 0..<originals.count, using: &generator)
        var data = originals[which]
        let mode = Int.random(in: 0..<3, using: &generator)
        if mode != 1 {
            for _ in 0..<Int.random(in: 1...16, using: &generator) {
                data[Int.random(in: 0..<data.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
        }
        if mode != 0 { data = data.prefix(Int.random(in: 0...data.count, using: &generator)) }
        do {
            let image = names[which].hasSuffix(".png") ? try PNGCodec.decode(data: data) : try JPEGCodec.decode(data: data)
            #expect(image.samples.count == image.width * image.height)
            decoded += 1
        } catch is ImageCodecError {
            rejected += 1
        }
    }
    print("mutation campaign: \(iterations) inputs, \(decoded) decoded, \(rejected) rejected with an error")
    #expect(decoded + rejected == iterations)
}
