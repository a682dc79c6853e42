import Foundation

extension DICOMFile {
    /// The rescale and padding of this file.
    public func modalityTransform() throws -> DICOMModalityTransform {
        DICOMModalityTransform(dataSet: dataSet, pixels: try pixelDescription())
    }

    /// Decodes frame `frame` straight to Hounsfield units into `destination`
    /// (`rows * columns` floats, row-major). Padding becomes -1024 HU and is left out of
    /// the returned statistics. Colour frames are converted to luminance (Rec. 601).
    ///
    /// The common case (native 16-bit little endian grey) is one SIMD pass over the file
    /// bytes with no intermediate buffer (`DICOMGrey16HUKernel`).
    public func decodeFrameHU(_ frame: Int, transform: DICOMModalityTransform,
                              into destination: UnsafeMutableBufferPointer<Float>) throws -> HUAccumulator {
        let d = try pixelDescription()
        let pixels = d.rows * d.columns
        guard destination.count >= pixels else {
            throw DICOMError(.malformed("destination holds \(destination.count) voxels, the frame has \(pixels)"), path: path)
        }
        guard frame >= 0, frame < d.numberOfFrames else {
            throw DICOMError(.malformed("frame \(frame) requested, the file has \(d.numberOfFrames)"), path: path)
        }
        let slope = Float(transform.slope), intercept = Float(transform.intercept)
        let padLo = transform.paddingRange?.lowerBound ?? 1, padHi = transform.paddingRange?.upperBound ?? 0

        if transferSyntax.pixelEncoding == .native, !transferSyntax.isBigEndian, d.bitsAllocated == 16,
           d.samplesPerPixel == 1 {
            let element = try pixelDataElement()
            let needed = d.nativeDataBytes
            guard element.fragments == nil, element.length >= needed else {
                throw DICOMError(.pixelDataTooShort(expectedBytes: needed, actualBytes: element.length), path: path)
            }
            let start = element.valueOffset + frame * d.bytesPerFrame
            // `element.length >= nativeDataBytes` (checked above) keeps every frame's
            // 2 * pixels bytes inside the file.
            let stats = dataSet.bytes.withUnsafeBytes { raw in
                DICOMGrey16HUKernel.convert(
                    source: raw.baseAddress! + start, count: pixels,
                    layout: .init(bitsStored: d.bitsStored, highBit: d.highBit, isSigned: d.isSigned),
                    slope: slope, intercept: intercept, padding: transform.paddingRange,
                    destination: destination.baseAddress!)
            }
            return HUAccumulator(minStored: Int64(stats.minStored), maxStored: Int64(stats.maxStored),
                                 sumStored: stats.sumStored, count: pixels - stats.paddingCount,
                                 paddingCount: stats.paddingCount, transform: transform)
        }

        let (samples, isLuminance) = try decodeFrameSamples(frame, allowLuminance: true)
        if d.samplesPerPixel == 3 && !isLuminance {
            var acc = HUAccumulator()
            for i in 0..<pixels {
                let luminance = 0.299 * Double(samples[3 * i]) + 0.587 * Double(samples[3 * i + 1])
                    + 0.114 * Double(samples[3 * i + 2])
                let hu = luminance * transform.slope + transform.intercept
                destination[i] = Float(hu)
                acc.minHU = min(acc.minHU, hu)
                acc.maxHU = max(acc.maxHU, hu)
                acc.sumHU += hu
            }
            acc.count = pixels
            return acc
        }
        var minV = Int64.max, maxV = Int64.min, sum: Int64 = 0, count = 0
        for i in 0..<pixels {
            let v = Int64(samples[i])
            if v >= padLo && v <= padHi {
                destination[i] = DICOMModalityTransform.paddingHU
            } else {
                destination[i] = Float(Double(v) * transform.slope + transform.intercept)
                minV = min(minV, v)
                maxV = max(maxV, v)
                sum += v
                count += 1
            }
        }
        return HUAccumulator(minStored: minV, maxStored: maxV, sumStored: sum, count: count,
                             paddingCount: pixels - count, transform: transform)
    }
}
