import Foundation

/// DICOM RLE Lossless (PS3.5 Annex G): a 64-byte header with the segment count and up
/// to 15 segment offsets, each segment a PackBits byte stream holding one byte plane
/// (for each sample, its most significant byte first).
enum RLEDecoder {
    static func decode(_ frame: Data, description d: DICOMPixelDescription) throws -> [Int32] {
        guard !d.isBitPacked else { throw DICOMError(.unsupported("RLE-compressed 1-bit pixels")) }
        let pixels = d.rows * d.columns
        let bytesPerSample = d.bytesPerSample
        let segmentCount = d.samplesPerPixel * bytesPerSample
        return try frame.withUnsafeBytes { raw -> [Int32] in
            guard raw.count >= 64 else {
                throw DICOMError(.truncated("RLE frame of \(raw.count) bytes has no 64-byte header"))
            }
            let declared = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
            guard declared == segmentCount else {
                throw DICOMError(.decodeFailed("RLE header has \(declared) segments, the image needs \(segmentCount)"))
            }
            var offsets: [Int] = (0..<segmentCount).map {
                Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 + 4 * $0, as: UInt32.self)))
            }
            offsets.append(raw.count)
            var planes = [UInt8](repeating: 0, count: segmentCount * pixels)
            try planes.withUnsafeMutableBufferPointer { dst in
                for s in 0..<segmentCount {
                    let lo = offsets[s], hi = min(offsets[s + 1] < lo ? raw.count : offsets[s + 1], raw.count)
                    guard lo >= 64, lo <= hi else {
                        throw DICOMError(.decodeFailed("RLE segment \(s) offset \(lo) is outside the frame"))
                    }
                    try unpackBits(raw, from: lo, to: hi,
                                   into: UnsafeMutableBufferPointer(rebasing: dst[(s * pixels)..<((s + 1) * pixels)]),
                                   segment: s)
                }
            }
            var out = [Int32](repeating: 0, count: pixels * d.samplesPerPixel)
            for sample in 0..<d.samplesPerPixel {
                for i in 0..<pixels {
                    var container: UInt32 = 0
                    for b in 0..<bytesPerSample {
                        container = container << 8 | UInt32(planes[(sample * bytesPerSample + b) * pixels + i])
                    }
                    out[i * d.samplesPerPixel + sample] = try DICOMFile.int32(d.storedValue(container))
                }
            }
            return out
        }
    }

    /// PackBits: n in 0...127 copies n+1 literal bytes; n in -127...-1 repeats the next
    /// byte 1-n times; -128 is a no-op. Output must fill `dst` exactly.
    private static func unpackBits(_ raw: UnsafeRawBufferPointer, from start: Int, to end: Int,
                                   into dst: UnsafeMutableBufferPointer<UInt8>, segment: Int) throws {
        var p = start
        var o = 0
        let n = dst.count
        while o < n {
            guard p < end else {
                throw DICOMError(.truncated("RLE segment \(segment) ends after \(o) of \(n) bytes"))
            }
            let header = Int(Int8(bitPattern: raw[p]))
            p += 1
            if header >= 0 {
                let count = header + 1
                guard end - p >= count, n - o >= count else {
                    throw DICOMError(.decodeFailed("RLE segment \(segment) literal run overruns"))
                }
                for k in 0..<count { dst[o + k] = raw[p + k] }
                p += count
                o += count
            } else if header != -128 {
                let count = 1 - header
                guard p < end, n - o >= count else {
                    throw DICOMError(.decodeFailed("RLE segment \(segment) replicate run overruns"))
                }
                let v = raw[p]
                p += 1
                for k in 0..<count { dst[o + k] = v }
                o += count
            }
        }
    }
}
