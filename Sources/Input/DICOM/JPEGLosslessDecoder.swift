import Foundation

/// A native decoder for JPEG Lossless, Non-Hierarchical (ITU-T T.81 Process 14, Annex H):
/// Huffman-coded differences from one of seven predictors, 2-16 bit precision, optional
/// point transform and restart intervals, interleaved or one-component scans. This is the
/// usual lossless CT syntax (1.2.840.10008.1.2.4.57 and .70, the latter predictor 1);
/// Debian's libjpeg-turbo 2.1 has no lossless mode, so it is decoded here.
enum JPEGLosslessDecoder {
    private struct Component {
        var id: Int
        var samplingFactors: Int
    }

    /// A canonical Huffman table (T.81 Annex C) with a 9-bit lookup for short codes.
    struct HuffmanTable {
        static let lookupBits = 9
        /// (symbol << 8 | length) for every 9-bit prefix of a short code; 0 when longer.
        var lookup = [UInt16](repeating: 0, count: 1 << lookupBits)
        /// Per code length 1...16: largest code (-1 when none), and index of its first value.
        var maxCode = [Int32](repeating: -1, count: 18)
        var valueOffset = [Int32](repeating: 0, count: 17)
        var values: [UInt8] = []

        init(counts: [Int], values: [UInt8]) throws {
            self.values = values
            var code: Int32 = 0
            var k: Int32 = 0
            for length in 1...16 {
                let n = Int32(counts[length - 1])
                if n > 0 {
                    valueOffset[length] = k - code
                    code += n
                    k += n
                    maxCode[length] = code - 1
                    guard code <= (1 << length) else {
                        throw DICOMError(.decodeFailed("JPEG Huffman table has more codes than fit in \(length) bits"))
                    }
                    if length <= Self.lookupBits {
                        for c in (code - n)..<code {
                            let sym = UInt16(values[Int(c + valueOffset[length])])
                            let shift = Self.lookupBits - length
                            let first = Int(c) << shift
                            for fill in 0..<(1 << shift) { lookup[first + fill] = sym << 8 | UInt16(length) }
                        }
                    }
                }
                code <<= 1
            }
            maxCode[17] = Int32.max
        }
    }

    /// Reads entropy-coded bits, removing stuffed zero bytes and stopping at markers.
    private struct BitReader {
        let raw: UnsafeRawBufferPointer
        var position: Int
        var accumulator: UInt64 = 0
        var bitCount = 0
        /// Zero bytes fed after the data ran out (at a marker or the end).
        var injectedBytes = 0

        init(raw: UnsafeRawBufferPointer, position: Int) {
            self.raw = raw
            self.position = position
        }

        @inline(__always) mutating func fill() {
            while bitCount <= 56 {
                var byte: UInt8 = 0
                if position < raw.count && injectedBytes == 0 {
                    byte = raw[position]
                    if byte == 0xFF {
                        let next: UInt8 = position + 1 < raw.count ? raw[position + 1] : 0xD9
                        if next == 0x00 {
                            position += 2
                        } else {
                            // A marker: feed zeros, leave the marker for the caller.
                            byte = 0
                            injectedBytes += 1
                        }
                    } else {
                        position += 1
                    }
                } else {
                    injectedBytes += 1
                }
                accumulator |= UInt64(byte) << UInt64(56 - bitCount)
                bitCount += 8
            }
        }

        @inline(__always) mutating func bits(_ n: Int) -> Int {
            if n == 0 { return 0 }
            if bitCount < n { fill() }
            let v = Int(accumulator >> UInt64(64 - n))
            accumulator <<= UInt64(n)
            bitCount -= n
            return v
        }

        @inline(__always) mutating func decode(_ table: HuffmanTable) throws -> Int {
            if bitCount < 16 { fill() }
            let peek = Int(accumulator >> UInt64(64 - HuffmanTable.lookupBits))
            let entry = table.lookup[peek]
            if entry != 0 {
                let length = Int(entry & 0xFF)
                accumulator <<= UInt64(length)
                bitCount -= length
                return Int(entry >> 8)
            }
            var code = Int32(0)
            for length in 1...16 {
                code = code << 1 | Int32(accumulator >> 63)
                accumulator <<= 1
                bitCount -= 1
                if code <= table.maxCode[length] {
                    let index = Int(code + table.valueOffset[length])
                    guard index >= 0, index < table.values.count else { break }
                    return Int(table.values[index])
                }
            }
            throw DICOMError(.decodeFailed("invalid Huffman code in JPEG Lossless data"))
        }

        /// Bits taken from the zero padding fed after the data ended: a truncated stream.
        var consumedPadding: Bool { injectedBytes * 8 > bitCount }

        /// Drops buffered bits and continues from the current byte position.
        mutating func reset() {
            accumulator = 0
            bitCount = 0
            injectedBytes = 0
        }
    }

    static func decode(_ data: Data) throws -> DecodedJPEGImage {
        try data.withUnsafeBytes { raw in try decode(raw: raw) }
    }

    private static func decode(raw: UnsafeRawBufferPointer) throws -> DecodedJPEGImage {
        func u16(_ p: Int) -> Int { Int(raw[p]) << 8 | Int(raw[p + 1]) }
        guard raw.count >= 4, raw[0] == 0xFF, raw[1] == 0xD8 else {
            throw DICOMError(.decodeFailed("JPEG data does not start with SOI"))
        }
        var p = 2
        var tables = [HuffmanTable?](repeating: nil, count: 4)
        var components: [Component] = []
        var precision = 0, width = 0, height = 0
        var restartInterval = 0
        var output: [UInt16] = []
        var scans = 0

        while p < raw.count {
            // Find the next marker (skipping fill bytes).
            guard raw[p] == 0xFF else {
                throw DICOMError(.decodeFailed("expected a JPEG marker at byte \(p)"))
            }
            while p < raw.count && raw[p] == 0xFF { p += 1 }
            guard p < raw.count else { break }
            let marker = raw[p]
            p += 1
            if marker == 0xD9 { break }  // EOI
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { continue }
            guard raw.count - p >= 2 else { throw DICOMError(.truncated("JPEG segment header at byte \(p)")) }
            let length = u16(p)
            guard length >= 2, raw.count - p >= length else {
                throw DICOMError(.truncated("JPEG segment FF\(String(marker, radix: 16)) of \(length) bytes at byte \(p)"))
            }
            let segment = p + 2
            let segmentEnd = p + length
            switch marker {
            case 0xC3:
                guard length >= 8 else { throw DICOMError(.truncated("JPEG SOF3 segment")) }
                precision = Int(raw[segment])
                height = u16(segment + 1)
                width = u16(segment + 3)
                let count = Int(raw[segment + 5])
                guard precision >= 2, precision <= 16, width > 0, height > 0, count >= 1, count <= 4,
                      length >= 8 + 3 * count else {
                    throw DICOMError(.decodeFailed(
                        "unsupported JPEG Lossless frame: precision \(precision), \(width)x\(height), \(count) components"))
                }
                guard width * height * count <= DICOMPixelDescription.maximumSamples else {
                    throw DICOMError(.tooLarge("JPEG frame \(width)x\(height)x\(count)"))
                }
                components = (0..<count).map {
                    Component(id: Int(raw[segment + 6 + 3 * $0]), samplingFactors: Int(raw[segment + 7 + 3 * $0]))
                }
                guard components.allSatisfy({ $0.samplingFactors == 0x11 }) else {
                    throw DICOMError(.unsupported("JPEG Lossless with subsampled components"))
                }
                output = [UInt16](repeating: 0, count: width * height * count)
            case 0xC0, 0xC1, 0xC2, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xF7:
                throw DICOMError(.decodeFailed(
                    "JPEG frame type SOF\(marker & 0x0F) is not Lossless Process 14 (SOF3)"))
            case 0xC4:
                var q = segment
                while q < segmentEnd {
                    guard segmentEnd - q >= 17 else { throw DICOMError(.truncated("JPEG DHT segment")) }
                    let classAndID = Int(raw[q])
                    let counts = (0..<16).map { Int(raw[q + 1 + $0]) }
                    let total = counts.reduce(0, +)
                    guard segmentEnd - (q + 17) >= total, classAndID & 0x0F < 4 else {
                        throw DICOMError(.truncated("JPEG DHT table values"))
                    }
                    let values = (0..<total).map { raw[q + 17 + $0] }
                    tables[classAndID & 0x0F] = try HuffmanTable(counts: counts, values: values)
                    q += 17 + total
                }
            case 0xDD:
                guard length >= 4 else { throw DICOMError(.truncated("JPEG DRI segment")) }
                restartInterval = u16(segment)
            case 0xDA:
                guard !components.isEmpty else { throw DICOMError(.decodeFailed("JPEG scan before SOF3")) }
                guard length >= 6 else { throw DICOMError(.truncated("JPEG SOS segment")) }
                let count = Int(raw[segment])
                guard count >= 1, count <= components.count, length >= 6 + 2 * count else {
                    throw DICOMError(.decodeFailed("JPEG SOS lists \(count) components"))
                }
                var scanComponents: [Int] = []
                var scanTables: [HuffmanTable] = []
                for k in 0..<count {
                    let id = Int(raw[segment + 1 + 2 * k])
                    guard let index = components.firstIndex(where: { $0.id == id }) else {
                        throw DICOMError(.decodeFailed("JPEG SOS names unknown component \(id)"))
                    }
                    let tableID = Int(raw[segment + 2 + 2 * k] >> 4) & 3
                    guard let table = tables[tableID] else {
                        throw DICOMError(.decodeFailed("JPEG scan uses Huffman table \(tableID), which is not defined"))
                    }
                    scanComponents.append(index)
                    scanTables.append(table)
                }
                let predictor = Int(raw[segment + 1 + 2 * count])
                let pointTransform = Int(raw[segment + 3 + 2 * count] & 0x0F)
                guard (1...7).contains(predictor), pointTransform < precision else {
                    throw DICOMError(.decodeFailed("JPEG Lossless predictor \(predictor), point transform \(pointTransform)"))
                }
                p = try decodeScan(raw: raw, from: segmentEnd, width: width, height: height,
                                   componentCount: components.count, scanComponents: scanComponents,
                                   tables: scanTables, predictor: predictor, pointTransform: pointTransform,
                                   precision: precision, restartInterval: restartInterval, output: &output)
                scans += 1
                continue
            default:
                break  // APPn, COM, DQT, DNL...: not needed
            }
            p = segmentEnd
        }
        guard scans > 0, !output.isEmpty else {
            throw DICOMError(.decodeFailed("JPEG Lossless data has no frame or scan"))
        }
        return DecodedJPEGImage(width: width, height: height, components: components.count, precision: precision,
                                samples: output)
    }

    /// Decodes one scan into `output` (interleaved by frame component). Returns the offset
    /// of the marker that ends it.
    private static func decodeScan(raw: UnsafeRawBufferPointer, from start: Int, width: Int, height: Int,
                                   componentCount: Int, scanComponents: [Int], tables: [HuffmanTable],
                                   predictor: Int, pointTransform: Int, precision: Int, restartInterval: Int,
                                   output: inout [UInt16]) throws -> Int {
        var reader = BitReader(raw: raw, position: start)
        let ns = scanComponents.count
        let initial = 1 << (precision - pointTransform - 1)
        let mask = (1 << 16) - 1
        var mcusLeft = restartInterval
        var restartRow = 0  // the row treated as a first line (changes after a restart)
        var restartColumn = 0
        try output.withUnsafeMutableBufferPointer { out in
            for y in 0..<height {
                for x in 0..<width {
                    if restartInterval > 0 {
                        if mcusLeft == 0 {
                            // Expect RSTn: drop padding bits, skip the marker, reset prediction.
                            reader.reset()
                            var q = reader.position
                            while q < raw.count && raw[q] == 0xFF { q += 1 }
                            guard q < raw.count, (0xD0...0xD7).contains(raw[q]) else {
                                throw DICOMError(.decodeFailed("JPEG restart marker missing at byte \(q)"))
                            }
                            reader.position = q + 1
                            mcusLeft = restartInterval
                            restartRow = y
                            restartColumn = x
                        }
                        mcusLeft -= 1
                    }
                    for k in 0..<ns {
                        let c = scanComponents[k]
                        let index = (y * width + x) * componentCount + c
                        let prediction: Int
                        if y == restartRow && x == restartColumn {
                            prediction = initial
                        } else if y == restartRow || (y == restartRow + 1 && x < restartColumn) {
                            prediction = Int(out[index - componentCount])
                        } else if x == 0 {
                            prediction = Int(out[index - width * componentCount])
                        } else {
                            let ra = Int(out[index - componentCount])
                            let rb = Int(out[index - width * componentCount])
                            let rc = Int(out[index - width * componentCount - componentCount])
                            switch predictor {
                            case 1: prediction = ra
                            case 2: prediction = rb
                            case 3: prediction = rc
                            case 4: prediction = ra + rb - rc
                            case 5: prediction = ra + ((rb - rc) >> 1)
                            case 6: prediction = rb + ((ra - rc) >> 1)
                            default: prediction = (ra + rb) >> 1
                            }
                        }
                        let ssss = try reader.decode(tables[k])
                        let diff: Int
                        switch ssss {
                        case 0: diff = 0
                        case 16: diff = 32768
                        case 1...15:
                            let v = reader.bits(ssss)
                            diff = v < (1 << (ssss - 1)) ? v - (1 << ssss) + 1 : v
                        default:
                            throw DICOMError(.decodeFailed("JPEG Lossless difference category \(ssss)"))
                        }
                        out[index] = UInt16((prediction + diff) & mask)
                    }
                }
                if reader.consumedPadding {
                    throw DICOMError(.truncated("JPEG Lossless data ends at row \(y) of \(height)"))
                }
            }
            // Undo the point transform.
            if pointTransform > 0 {
                for i in 0..<(width * height) {
                    for c in scanComponents {
                        let index = i * componentCount + c
                        out[index] = UInt16((Int(out[index]) << pointTransform) & mask)
                    }
                }
            }
        }
        // Continue after the entropy-coded data: find the next marker that is not RSTn.
        var q = reader.position
        while q + 1 < raw.count {
            if raw[q] == 0xFF && raw[q + 1] != 0x00 && !(0xD0...0xD7).contains(raw[q + 1]) && raw[q + 1] != 0xFF {
                return q
            }
            q += 1
        }
        return raw.count
    }
}
