import Foundation

/// Stored value -> Hounsfield units (PS3.3 C.11.1 Modality LUT, rescale form), and which
/// stored values are padding (Pixel Padding Value / Pixel Padding Range Limit, C.7.5.1.1.2).
public struct DICOMModalityTransform: Sendable, Equatable {
    public var slope: Double
    public var intercept: Double
    /// True when the file had no Rescale Slope/Intercept and 1/0 were assumed.
    public var isAssumed: Bool
    /// Stored values in this closed range are padding (become `paddingHU`, not counted).
    public var paddingRange: ClosedRange<Int64>?
    /// What padding voxels become: air, so filters see no edge at the field of view.
    public static let paddingHU: Float = -1024

    public init(slope: Double = 1, intercept: Double = 0, isAssumed: Bool = false,
                paddingRange: ClosedRange<Int64>? = nil) {
        self.slope = slope
        self.intercept = intercept
        self.isAssumed = isAssumed
        self.paddingRange = paddingRange
    }

    /// Reads the rescale and padding attributes; enhanced multi-frame files keep the rescale
    /// in the Pixel Value Transformation Sequence of the shared functional groups.
    public init(dataSet ds: DICOMDataSet, pixels: DICOMPixelDescription) {
        var slope = ds.number(.rescaleSlope)
        var intercept = ds.number(.rescaleIntercept)
        if slope == nil || intercept == nil,
           let transform = ds.sequence(.sharedFunctionalGroupsSequence)?.first?
            .sequence(.pixelValueTransformationSequence)?.first {
            slope = slope ?? transform.number(.rescaleSlope)
            intercept = intercept ?? transform.number(.rescaleIntercept)
        }
        let assumed = slope == nil || intercept == nil
        // A zero slope would erase the image; treat it as missing.
        let usableSlope = (slope ?? 1) == 0 ? 1 : (slope ?? 1)
        var range: ClosedRange<Int64>?
        if let value = Self.paddingValue(ds, .pixelPaddingValue, pixels) {
            let limit = Self.paddingValue(ds, .pixelPaddingRangeLimit, pixels) ?? value
            range = min(value, limit)...max(value, limit)
        }
        self.init(slope: usableSlope, intercept: intercept ?? 0, isAssumed: assumed, paddingRange: range)
    }

    /// Padding attributes are "US or SS": their sign follows Pixel Representation.
    private static func paddingValue(_ ds: DICOMDataSet, _ tag: DICOMTag, _ d: DICOMPixelDescription) -> Int64? {
        if d.bitsAllocated <= 16, let raw = ds.raw16(tag) {
            return d.isSigned ? Int64(Int16(bitPattern: raw)) : Int64(raw)
        }
        if let raw = ds.raw32(tag), d.bitsAllocated == 32 {
            return d.isSigned ? Int64(Int32(bitPattern: raw)) : Int64(raw)
        }
        return ds.number(tag).map { Int64($0) }
    }

    @inlinable public func hu(_ stored: Int64) -> Double { Double(stored) * slope + intercept }
}

/// HU statistics of a frame or volume over the voxels that are not padding.
public struct HUAccumulator: Sendable, Equatable {
    public var minHU: Double = .infinity
    public var maxHU: Double = -.infinity
    public var sumHU: Double = 0
    /// Voxels counted (not padding).
    public var count = 0
    /// Padding voxels (set to -1024 HU, not counted).
    public var paddingCount = 0

    public init() {}

    public mutating func merge(_ other: HUAccumulator) {
        count += other.count
        paddingCount += other.paddingCount
        sumHU += other.sumHU
        minHU = Swift.min(minHU, other.minHU)
        maxHU = Swift.max(maxHU, other.maxHU)
    }

    /// Mean HU over counted voxels (nil when there are none).
    public var meanHU: Double? { count > 0 ? sumHU / Double(count) : nil }

    /// Statistics from exact integer sums of stored values: the rescale is linear, so
    /// min/max/sum map through it without per-voxel floating point error.
    init(minStored: Int64, maxStored: Int64, sumStored: Int64, count: Int, paddingCount: Int,
         transform t: DICOMModalityTransform) {
        self.count = count
        self.paddingCount = paddingCount
        if count > 0 {
            let a = t.hu(minStored), b = t.hu(maxStored)
            minHU = Swift.min(a, b)
            maxHU = Swift.max(a, b)
            sumHU = Double(sumStored) * t.slope + t.intercept * Double(count)
        }
    }
}
