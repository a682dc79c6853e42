/// A decoded single-channel image: what a PNG or JPEG slice holds once colour is reduced
/// to luminance.
///
/// Samples are row-major (`index = y * width + x`), top row first, and are the raw stored
/// values: no gamma, no sBIT shift, no rescale. 8-bit images hold 0...255, 16-bit images
/// 0...65535.
public struct GrayImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// 8 or 16.
    public let bitDepth: Int
    /// `width * height` samples, row-major.
    public var samples: [UInt16]
    /// The image had colour and `samples` hold its BT.601 luminance (see `Luminance`).
    /// PNG: some pixel of an RGB/RGBA/palette file has R, G, B not all equal (an RGB file of
    /// gray pixels is exact and not flagged). JPEG: the file has 3 components (YCbCr/RGB).
    public let wasColor: Bool
    /// The file had an alpha channel, which was ignored (samples are not composited).
    public let hadAlpha: Bool

    /// - Precondition: `bitDepth` is 8 or 16, `samples.count == width * height`, and 8-bit
    ///   samples are at most 255.
    public init(width: Int, height: Int, bitDepth: Int, samples: [UInt16], wasColor: Bool = false,
                hadAlpha: Bool = false) {
        precondition(width >= 0 && height >= 0, "negative image size")
        precondition(bitDepth == 8 || bitDepth == 16, "bit depth must be 8 or 16, got \(bitDepth)")
        precondition(samples.count == width * height,
                     "sample count \(samples.count) does not match \(width)x\(height)")
        self.width = width
        self.height = height
        self.bitDepth = bitDepth
        self.samples = samples
        self.wasColor = wasColor
        self.hadAlpha = hadAlpha
    }

    /// An 8-bit image from bytes (row-major).
    public init(width: Int, height: Int, bytes: [UInt8]) {
        self.init(width: width, height: height, bitDepth: 8, samples: bytes.map { UInt16($0) })
    }

    /// The largest value a sample can hold at this bit depth.
    public var maximumValue: UInt16 { bitDepth == 8 ? 255 : 65535 }

    @inlinable
    public subscript(x: Int, y: Int) -> UInt16 {
        samples[y * width + x]
    }
}

/// An 8-bit RGB image, row-major and interleaved (`(y * width + x) * 3 + channel`): the
/// format of key images with coloured annotations.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes: R, G, B per pixel.
    public var rgb: [UInt8]

    public init(width: Int, height: Int, rgb: [UInt8]) {
        precondition(width >= 0 && height >= 0, "negative image size")
        precondition(rgb.count == width * height * 3,
                     "byte count \(rgb.count) does not match \(width)x\(height)x3")
        self.width = width
        self.height = height
        self.rgb = rgb
    }

    /// A black image.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, rgb: [UInt8](repeating: 0, count: width * height * 3))
    }

    /// A gray 8-bit image shown in RGB (R = G = B).
    public init(gray: GrayImage) {
        precondition(gray.bitDepth == 8, "RGBImage(gray:) needs an 8-bit image; window 16-bit data first")
        var rgb = [UInt8](repeating: 0, count: gray.width * gray.height * 3)
        for (i, value) in gray.samples.enumerated() {
            let v = UInt8(truncatingIfNeeded: value)
            rgb[3 * i] = v
            rgb[3 * i + 1] = v
            rgb[3 * i + 2] = v
        }
        self.init(width: gray.width, height: gray.height, rgb: rgb)
    }

    @inlinable
    public subscript(x: Int, y: Int) -> SIMD3<UInt8> {
        get {
            let i = (y * width + x) * 3
            return SIMD3(rgb[i], rgb[i + 1], rgb[i + 2])
        }
        set {
            let i = (y * width + x) * 3
            rgb[i] = newValue.x
            rgb[i + 1] = newValue.y
            rgb[i + 2] = newValue.z
        }
    }
}

/// Colour to gray: ITU-R BT.601 luma weights, Y = 0.299 R + 0.587 G + 0.114 B, computed in
/// integers and rounded half up, `(299 R + 587 G + 114 B + 500) / 1000`, at the image's own
/// bit depth. Gray pixels (R = G = B) keep their value exactly.
///
/// (JPEG needs none of this: libjpeg hands back the Y channel the encoder computed with the
/// same weights.)
public enum Luminance {
    @inlinable
    public static func bt601(red: UInt32, green: UInt32, blue: UInt32) -> UInt16 {
        UInt16(truncatingIfNeeded: (299 * red + 587 * green + 114 * blue + 500) / 1000)
    }
}
