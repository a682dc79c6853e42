import Foundation
import CImageCodecShim

/// PNG through libpng.
///
/// Decoding accepts every PNG colour type and bit depth: gray (1/2/4-bit gray scaled to
/// 8-bit as libpng's expand does; 8/16-bit kept raw), gray+alpha, palette, RGB and RGBA
/// (8/16-bit), interlaced or not. Colour becomes BT.601 luminance (`Luminance`) with
/// `wasColor` set when some pixel really has colour; alpha is ignored; gamma, sBIT and colour-profile chunks are ignored so
/// samples are exactly the stored values. 16-bit data is stored big-endian in the file and
/// returned as native integers.
public enum PNGCodec {
    /// Decoded buffers beyond this many bytes are refused before allocation (a 65535 x 65535
    /// RGBA16 header would otherwise ask for 32 GiB).
    public static let maximumDecodedBytes = 1 << 30

    /// Decodes a PNG held in memory.
    public static func decode(data: Data) throws -> GrayImage {
        var info = icshim_png_info()
        var pixels: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let code: Int32 = data.withUnsafeBytes { raw in
            icshim_png_decode(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, maximumDecodedBytes,
                              &info, &pixels, &size, &message, message.count)
        }
        defer { icshim_free(pixels) }
        guard code == 0, let pixels else {
            throw ImageCodecError(format: .png, kind: .init(shimCode: code), reason: String(cString: message))
        }
        let width = Int(info.width), height = Int(info.height)
        let channels = Int(info.channels), bitDepth = Int(info.bit_depth)
        let count = width * height
        guard size == count * channels * (bitDepth / 8), bitDepth == 8 || bitDepth == 16,
              (1...4).contains(channels) else {
            throw ImageCodecError(format: .png, kind: .corrupt, reason: "unexpected decoded layout")
        }
        let hadAlpha = channels == 2 || channels == 4

        var samples = [UInt16](repeating: 0, count: count)
        let wasColor = samples.withUnsafeMutableBufferPointer { out -> Bool in
            if bitDepth == 8 {
                return convert(UnsafePointer(pixels), channels: channels, into: out)
            }
            return pixels.withMemoryRebound(to: UInt16.self, capacity: count * channels) { wide in
                convert(UnsafePointer(wide), channels: channels, into: out)
            }
        }
        return GrayImage(width: width, height: height, bitDepth: bitDepth, samples: samples,
                         wasColor: wasColor, hadAlpha: hadAlpha)
    }

    /// Reads and decodes a PNG file; errors name the file.
    public static func decode(contentsOf url: URL) throws -> GrayImage {
        let data = try ImageFileIO.read(url, format: .png)
        do {
            return try decode(data: data)
        } catch let error as ImageCodecError {
            throw error.at(path: url.path)
        }
    }

    /// Interleaved samples -> one gray sample per pixel (first channel for gray(+alpha),
    /// BT.601 luminance for RGB(A)). Returns whether any pixel had colour (R, G, B not all
    /// equal): an RGB or palette file holding only gray pixels is not reported as colour.
    @inline(__always)
    private static func convert<Sample: FixedWidthInteger & UnsignedInteger>(
        _ source: UnsafePointer<Sample>, channels: Int, into out: UnsafeMutableBufferPointer<UInt16>
    ) -> Bool {
        let n = out.count
        switch channels {
        case 1, 2:
            for i in 0..<n { out[i] = UInt16(truncatingIfNeeded: source[i * channels]) }
            return false
        default:
            var chroma: Sample = 0
            for i in 0..<n {
                let p = source + i * channels
                let r = p[0], g = p[1], b = p[2]
                chroma |= (r ^ g) | (g ^ b)
                out[i] = Luminance.bt601(red: UInt32(r), green: UInt32(g), blue: UInt32(b))
            }
            return chroma != 0
        }
    }

    // MARK: Encoding

    /// Encodes a gray image as an 8- or 16-bit (its `bitDepth`) grayscale PNG.
    /// `compressionLevel` is zlib's 0 (none) ... 9 (smallest).
    public static func encode(_ image: GrayImage, compressionLevel: Int = 6) throws -> Data {
        if image.bitDepth == 8 {
            let bytes = image.samples.map { UInt8(clamping: $0) }
            return try encodeRaw(bytes, width: image.width, height: image.height, channels: 1, bitDepth: 8,
                                 compressionLevel: compressionLevel)
        }
        return try encodeRaw(image.samples, width: image.width, height: image.height, channels: 1, bitDepth: 16,
                             compressionLevel: compressionLevel)
    }

    /// Encodes an 8-bit RGB PNG (key images).
    public static func encode(_ image: RGBImage, compressionLevel: Int = 6) throws -> Data {
        try encodeRaw(image.rgb, width: image.width, height: image.height, channels: 3, bitDepth: 8,
                      compressionLevel: compressionLevel)
    }

    /// Writes a gray PNG to `url` via a temporary file and a rename.
    public static func write(_ image: GrayImage, to url: URL, compressionLevel: Int = 6) throws {
        do {
            try ImageFileIO.writeAtomically(try encode(image, compressionLevel: compressionLevel), to: url, format: .png)
        } catch let error as ImageCodecError {
            throw error.path == nil ? error.at(path: url.path) : error
        }
    }

    /// Writes an RGB PNG to `url` via a temporary file and a rename.
    public static func write(_ image: RGBImage, to url: URL, compressionLevel: Int = 6) throws {
        do {
            try ImageFileIO.writeAtomically(try encode(image, compressionLevel: compressionLevel), to: url, format: .png)
        } catch let error as ImageCodecError {
            throw error.path == nil ? error.at(path: url.path) : error
        }
    }

    private static func encodeRaw<Sample>(_ samples: [Sample], width: Int, height: Int, channels: Int, bitDepth: Int,
                                          compressionLevel: Int) throws -> Data {
        guard width > 0, height > 0, width <= 65535, height <= 65535 else {
            throw ImageCodecError(format: .png, kind: .invalidArgument,
                                  reason: "image size \(width)x\(height) outside 1...65535")
        }
        guard (0...9).contains(compressionLevel) else {
            throw ImageCodecError(format: .png, kind: .invalidArgument,
                                  reason: "compression level \(compressionLevel) outside 0...9")
        }
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let code = samples.withUnsafeBytes { raw in
            icshim_png_encode(raw.baseAddress, UInt32(width), UInt32(height), Int32(channels), Int32(bitDepth),
                              Int32(compressionLevel), &out, &size, &message, message.count)
        }
        defer { icshim_free(out) }
        guard code == 0, let out else {
            throw ImageCodecError(format: .png, kind: .init(shimCode: code), reason: String(cString: message))
        }
        return Data(bytes: out, count: size)
    }
}
