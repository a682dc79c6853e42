import Foundation

extension DICOMFile {
    /// The Image Pixel module, validated.
    public func pixelDescription() throws -> DICOMPixelDescription {
        do { return try DICOMPixelDescription(dataSet: dataSet) } catch let e as DICOMError { throw e.at(path) }
    }

    /// The Pixel Data element (the file must have been read without `headersOnly`).
    func pixelDataElement() throws -> DICOMElement {
        guard let e = dataSet[.pixelData] else {
            if isHeaderOnly && hasPixelData {
                throw DICOMError(.malformed("pixel data was not parsed (header-only read)"), path: path)
            }
            throw DICOMError(.missingAttribute("Pixel Data (7FE0,0010)"), path: path)
        }
        return e
    }

    /// Decodes one frame to its stored values (masked to Bits Stored and sign-extended),
    /// `rows * columns * samplesPerPixel` of them, pixel-interleaved (R G B R G B ... for
    /// colour, whatever the Planar Configuration), in row-major order. No rescale applied.
    public func decodeFrameSamples(_ frame: Int) throws -> [Int32] {
        try decodeFrameSamples(frame, allowLuminance: false).samples
    }

    /// As `decodeFrameSamples`, but colour JPEG frames may come back as one luminance
    /// sample per pixel (`isLuminance`).
    func decodeFrameSamples(_ frame: Int, allowLuminance: Bool) throws -> (samples: [Int32], isLuminance: Bool) {
        do {
            let d = try DICOMPixelDescription(dataSet: dataSet)
            guard frame >= 0, frame < d.numberOfFrames else {
                throw DICOMError(.malformed("frame \(frame) requested, the file has \(d.numberOfFrames)"))
            }
            let element = try pixelDataElement()
            switch transferSyntax.pixelEncoding {
            case .native:
                return (try decodeNative(d, element: element, frame: frame), false)
            case .rleLossless:
                let frameBytes = try encapsulatedFrame(frame, of: d, element: element)
                return (try RLEDecoder.decode(frameBytes, description: d), false)
            case .jpegLossless:
                let frameBytes = try encapsulatedFrame(frame, of: d, element: element)
                let image = try JPEGLosslessDecoder.decode(frameBytes)
                return (try samples(fromJPEG: image, description: d), false)
            case .jpegDCT:
                let frameBytes = try encapsulatedFrame(frame, of: d, element: element)
                let image = try JPEGDCTDecoder.decode(frameBytes)
                if image.isLuminanceOfColour || d.samplesPerPixel == 3 {
                    guard allowLuminance, d.samplesPerPixel == 3, image.width == d.columns, image.height == d.rows else {
                        throw DICOMError(.unsupported("colour JPEG frames are read as luminance only (decodeFrameHU)"))
                    }
                    return (image.samples.map { Int32($0) }, true)
                }
                return (try samples(fromJPEG: image, description: d), false)
            case .unsupported:
                throw DICOMError(.unsupportedTransferSyntax(uid: transferSyntax.uid, name: transferSyntax.name))
            }
        } catch let e as DICOMError {
            throw e.at(path)
        }
    }

    private func decodeNative(_ d: DICOMPixelDescription, element: DICOMElement, frame: Int) throws -> [Int32] {
        guard element.fragments == nil else {
            throw DICOMError(.malformed("encapsulated pixel data in a native transfer syntax \(transferSyntax.uid)"))
        }
        let needed = d.nativeDataBytes
        guard element.length >= needed else {
            throw DICOMError(.pixelDataTooShort(expectedBytes: needed, actualBytes: element.length))
        }
        let n = d.rows * d.columns
        if d.isBitPacked {
            let firstBit = frame * n
            return dataSet.bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [Int32] in
                (0..<n).map { (i: Int) -> Int32 in
                    let bit = firstBit + i
                    let byte: UInt8 = raw[element.valueOffset + (bit >> 3)]
                    return Int32((byte >> UInt8(bit & 7)) & 1)
                }
            }
        }
        let start = element.valueOffset + frame * d.bytesPerFrame
        let spp = d.samplesPerPixel
        let planar = spp > 1 && d.planarConfiguration == 1
        let big = transferSyntax.isBigEndian
        var out = [Int32](repeating: 0, count: d.samplesPerFrame)
        try dataSet.bytes.withUnsafeBytes { raw in
            try out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    for s in 0..<spp {
                        let sourceIndex = planar ? s * n + i : i * spp + s
                        let o = start + sourceIndex * d.bytesPerSample
                        let container: UInt32
                        switch d.bytesPerSample {
                        case 1: container = UInt32(raw[o])
                        case 2:
                            let v = raw.loadUnaligned(fromByteOffset: o, as: UInt16.self)
                            container = UInt32(big ? UInt16(bigEndian: v) : UInt16(littleEndian: v))
                        default:
                            let v = raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)
                            container = big ? UInt32(bigEndian: v) : UInt32(littleEndian: v)
                        }
                        dst[i * spp + s] = try Self.int32(d.storedValue(container))
                    }
                }
            }
        }
        return out
    }

    @inline(__always) static func int32(_ v: Int64) throws -> Int32 {
        guard let r = Int32(exactly: v) else {
            throw DICOMError(.unsupported("stored value \(v) does not fit 32-bit signed samples"))
        }
        return r
    }

    private func samples(fromJPEG image: DecodedJPEGImage, description d: DICOMPixelDescription) throws -> [Int32] {
        guard image.width == d.columns, image.height == d.rows, image.components == d.samplesPerPixel else {
            throw DICOMError(.decodeFailed(
                "JPEG frame is \(image.width)x\(image.height)x\(image.components), "
                + "the header says \(d.columns)x\(d.rows)x\(d.samplesPerPixel)"))
        }
        // The codestream carries the stored bits; mask and sign-extend them as native data.
        return image.samples.map { Int32(truncatingIfNeeded: d.storedValue(UInt32($0))) }
    }

    /// The bytes of one frame of encapsulated Pixel Data (PS3.5 A.4): located with the
    /// Basic Offset Table when present, else one fragment per frame, else (single frame)
    /// all fragments, else split at JPEG start-of-image markers.
    func encapsulatedFrame(_ frame: Int, of d: DICOMPixelDescription, element: DICOMElement) throws -> Data {
        guard let fragments = element.fragments, !fragments.isEmpty else {
            throw DICOMError(.malformed("compressed transfer syntax \(transferSyntax.uid) but Pixel Data is not encapsulated"))
        }
        let bytes = dataSet.bytes
        let table = fragments[0]
        let data = Array(fragments.dropFirst())
        guard !data.isEmpty else { throw DICOMError(.truncated("encapsulated pixel data holds no fragments")) }
        var groups: [[Range<Int>]] = []
        if table.count >= 4 * d.numberOfFrames, table.count % 4 == 0 {
            // Offsets count from the first byte of the first item after the table.
            let base = data[0].lowerBound - 8
            let offsets: [Int] = bytes.withUnsafeBytes { raw in
                (0..<(table.count / 4)).map {
                    Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: table.lowerBound + 4 * $0, as: UInt32.self)))
                }
            }
            for f in 0..<d.numberOfFrames {
                let lo = base + offsets[f]
                let hi = f + 1 < offsets.count ? base + offsets[f + 1] : Int.max
                guard lo <= hi else { throw DICOMError(.malformed("basic offset table is not increasing")) }
                groups.append(data.filter { $0.lowerBound - 8 >= lo && $0.lowerBound - 8 < hi })
            }
        } else if data.count == d.numberOfFrames {
            groups = data.map { [$0] }
        } else if d.numberOfFrames == 1 {
            groups = [data]
        } else {
            // Without an offset table, a JPEG frame starts at a fragment beginning with SOI.
            for r in data {
                let startsFrame = r.count >= 2 && bytes[r.lowerBound] == 0xFF && bytes[r.lowerBound + 1] == 0xD8
                if startsFrame || groups.isEmpty { groups.append([r]) } else { groups[groups.count - 1].append(r) }
            }
        }
        guard frame < groups.count, !groups[frame].isEmpty else {
            throw DICOMError(.truncated("frame \(frame) has no pixel data fragments (\(groups.count) frames found)"))
        }
        let parts = groups[frame]
        if parts.count == 1 { return bytes[parts[0]] }
        var joined = Data(capacity: parts.reduce(0) { $0 + $1.count })
        for r in parts { joined.append(bytes[r]) }
        return joined
    }
}

/// A decoded JPEG frame: samples interleaved by component, row-major.
struct DecodedJPEGImage {
    var width: Int
    var height: Int
    var components: Int
    var precision: Int
    var samples: [UInt16]
    /// Colour decoded to its luminance (one component left).
    var isLuminanceOfColour = false
}
