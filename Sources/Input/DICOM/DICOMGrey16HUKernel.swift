/// Stored 16-bit grey samples -> Hounsfield units, eight samples per step in SIMD lanes.
///
/// This is the hot loop of reading a CT series (one pass per slice over the file bytes,
/// writing straight into the volume), so it is written to be fast on the x86-64 baseline
/// (SSE2) as well as with AVX2 (which Package.swift builds the module for when the build
/// machine has it): masking, padding tests and min/max run on 16-bit lanes
/// (`pminsw`/`pmaxsw`/`pcmpgtw` exist in SSE2; their 32-bit forms do not), and only the values
/// and the running sum are widened to 32 bits. Unsigned samples are biased by 0x8000 into
/// signed 16-bit lanes, which keeps their order, and un-biased when widened.
///
/// The result is bit-identical to the per-sample definition in `referenceScalar`
/// (`Float(v) * slope + intercept`, padding -> -1024, statistics over the other samples).
enum DICOMGrey16HUKernel {
    /// Integer statistics of the stored values that are not padding.
    struct StoredStatistics: Equatable {
        var minStored: Int32 = .max
        var maxStored: Int32 = .min
        var sumStored: Int64 = 0
        var paddingCount = 0

        mutating func merge(_ o: StoredStatistics) {
            minStored = min(minStored, o.minStored)
            maxStored = max(maxStored, o.maxStored)
            sumStored &+= o.sumStored
            paddingCount += o.paddingCount
        }
    }

    /// How the 16-bit containers hold their values (PS3.5 8.1.1).
    struct Layout {
        /// Bits below the stored bits (High Bit + 1 - Bits Stored).
        var shift: UInt16
        /// Bits above the stored bits once shifted down (16 - Bits Stored).
        var spare: UInt16
        var isSigned: Bool

        init(bitsStored: Int, highBit: Int, isSigned: Bool) {
            shift = UInt16(highBit + 1 - bitsStored)
            spare = UInt16(16 - bitsStored)
            self.isSigned = isSigned
        }
    }

    /// Converts `count` little-endian 16-bit containers at `source` (any alignment) into
    /// `destination`. `padding` is the closed range of stored values that are padding (nil:
    /// none). The caller guarantees `source` holds `2 * count` readable bytes and
    /// `destination` `count` writable floats.
    static func convert(source: UnsafeRawPointer, count: Int, layout: Layout, slope: Float, intercept: Float,
                        padding: ClosedRange<Int64>?, destination: UnsafeMutablePointer<Float>) -> StoredStatistics {
        let vectorCount = count & ~7
        var stats = StoredStatistics()
        // Padding bounds in the 16-bit lane domain (biased when unsigned); an empty range
        // when the padding range holds no representable stored value.
        let bias: Int64 = layout.isSigned ? 0 : 0x8000
        var lo16 = Int16(1), hi16 = Int16(0), hasPadding = false
        if let p = padding {
            let lowest: Int64 = layout.isSigned ? -0x8000 : 0, highest: Int64 = layout.isSigned ? 0x7FFF : 0xFFFF
            let lo = max(p.lowerBound, lowest), hi = min(p.upperBound, highest)
            if lo <= hi {
                lo16 = Int16(lo - bias)
                hi16 = Int16(hi - bias)
                hasPadding = true
            }
        }
        // Each combination gets its own copy of the loop with the flags as constants (full
        // width: Bits Stored 16, so the masking shifts fold away and free registers).
        let fullWidth = layout.shift == 0 && layout.spare == 0
        @inline(__always) func run(_ signed: Bool, _ padded: Bool, _ full: Bool) -> StoredStatistics {
            vectorLoop(source, vectorCount, layout, slope, intercept, lo16, hi16, destination,
                       signed: signed, padded: padded, fullWidth: full)
        }
        switch (layout.isSigned, hasPadding, fullWidth) {
        case (true, true, true): stats = run(true, true, true)
        case (true, true, false): stats = run(true, true, false)
        case (true, false, true): stats = run(true, false, true)
        case (true, false, false): stats = run(true, false, false)
        case (false, true, true): stats = run(false, true, true)
        case (false, true, false): stats = run(false, true, false)
        case (false, false, true): stats = run(false, false, true)
        case (false, false, false): stats = run(false, false, false)
        }
        if vectorCount < count {
            stats.merge(referenceScalar(source: source + 2 * vectorCount, count: count - vectorCount, layout: layout,
                                        slope: slope, intercept: intercept, padding: padding,
                                        destination: destination + vectorCount))
        }
        return stats
    }

    /// The loop body, specialised by the caller for each (signed, padded, full width)
    /// combination so the branches leave the loop.
    @inline(__always)
    private static func vectorLoop(_ source: UnsafeRawPointer, _ vectorCount: Int, _ layout: Layout,
                                   _ slope: Float, _ intercept: Float, _ lo16: Int16, _ hi16: Int16,
                                   _ destination: UnsafeMutablePointer<Float>,
                                   signed: Bool, padded: Bool, fullWidth: Bool) -> StoredStatistics {
        typealias Lanes16 = SIMD8<Int16>
        typealias Lanes32 = SIMD8<Int32>
        let shift: UInt16 = fullWidth ? 0 : layout.shift, spare: UInt16 = fullWidth ? 0 : layout.spare
        let vSlope = SIMD8<Float>(repeating: slope), vIntercept = SIMD8<Float>(repeating: intercept)
        let paddingBits = SIMD8<UInt32>(repeating: DICOMModalityTransform.paddingHU.bitPattern)
        let vLo = Lanes16(repeating: lo16), vHi = Lanes16(repeating: hi16)
        let unbias = Lanes32(repeating: signed ? 0 : 0x8000)
        var vMin = Lanes16(repeating: .max), vMax = Lanes16(repeating: .min)
        var sum: Int64 = 0, paddingCount = 0
        var i = 0
        while i < vectorCount {
            // Blocks keep the 32-bit lane sums and 16-bit padding counts from overflowing:
            // 2048 steps x 32768 < 2^31, 2048 < 2^15.
            let blockEnd = min(vectorCount, i + 8 * 2048)
            var vSum = Lanes32(repeating: 0)
            var vPadding = Lanes16(repeating: 0)
            while i < blockEnd {
                var container = source.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<UInt16>.self)
                #if _endian(big)
                container = (container &<< 8) | (container &>> 8)
                #endif
                // Stored bits to the top, then back down (arithmetic shift sign-extends).
                let top = (container &>> shift) &<< spare
                let lanes: Lanes16 = signed ? Lanes16(truncatingIfNeeded: top) &>> Int16(spare)
                                            : Lanes16(truncatingIfNeeded: (top &>> spare) ^ 0x8000)
                var hu: SIMD8<Float>
                if padded {
                    let isPadding = (lanes .>= vLo) .& (lanes .<= vHi)
                    vMin = pointwiseMin(vMin, lanes.replacing(with: .max, where: isPadding))
                    vMax = pointwiseMax(vMax, lanes.replacing(with: .min, where: isPadding))
                    let paddingLanes = Lanes16(repeating: 0).replacing(with: -1, where: isPadding)
                    vPadding &-= paddingLanes
                    let values = Lanes32(truncatingIfNeeded: lanes) &+ unbias
                    let padding32 = Lanes32(truncatingIfNeeded: paddingLanes)
                    vSum &+= values & ~padding32
                    // Select with bit masks: a mask comparison on 32-bit lanes does not
                    // vectorise here.
                    let huBits = unsafeBitCast(SIMD8<Float>(values) * vSlope + vIntercept, to: SIMD8<UInt32>.self)
                    let mask = SIMD8<UInt32>(truncatingIfNeeded: padding32)
                    hu = unsafeBitCast((huBits & ~mask) | (paddingBits & mask), to: SIMD8<Float>.self)
                } else {
                    vMin = pointwiseMin(vMin, lanes)
                    vMax = pointwiseMax(vMax, lanes)
                    let values = Lanes32(truncatingIfNeeded: lanes) &+ unbias
                    vSum &+= values
                    hu = SIMD8<Float>(values) * vSlope + vIntercept
                }
                UnsafeMutableRawPointer(destination + i).storeBytes(of: hu, as: SIMD8<Float>.self)
                i += 8
            }
            for lane in 0..<8 {
                sum &+= Int64(vSum[lane])
                paddingCount &+= Int(vPadding[lane])
            }
        }
        var stats = StoredStatistics(sumStored: sum, paddingCount: paddingCount)
        if vectorCount - paddingCount > 0 {
            let b: Int32 = signed ? 0 : 0x8000
            stats.minStored = Int32(vMin.min()) + b
            stats.maxStored = Int32(vMax.max()) + b
        }
        return stats
    }

    /// The per-sample definition, used for the last `count % 8` samples and by the tests.
    static func referenceScalar(source: UnsafeRawPointer, count: Int, layout: Layout, slope: Float, intercept: Float,
                                padding: ClosedRange<Int64>?, destination: UnsafeMutablePointer<Float>) -> StoredStatistics {
        var stats = StoredStatistics()
        for i in 0..<count {
            let container = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            let top = (container >> layout.shift) << layout.spare
            let v = layout.isSigned ? Int32(Int16(bitPattern: top) >> layout.spare) : Int32(top >> layout.spare)
            if let p = padding, p.contains(Int64(v)) {
                destination[i] = DICOMModalityTransform.paddingHU
                stats.paddingCount += 1
            } else {
                destination[i] = Float(v) * slope + intercept
                stats.minStored = min(stats.minStored, v)
                stats.maxStored = max(stats.maxStored, v)
                stats.sumStored &+= Int64(v)
            }
        }
        return stats
    }
}
