import Foundation
import CImageCodecShim

/// JPEG through libjpeg-turbo.
///
/// Decodes 8-bit baseline, extended and progressive JPEG, gray or colour, to an 8-bit
/// `GrayImage`. Colour images come out as libjpeg's grayscale output: the Y (luma) channel
/// of YCbCr, which the encoder computed with the BT.601 weights; RGB JPEGs are converted
/// with the same weights. CMYK/YCCK images are unsupported.
///
/// 12-bit (DICOM JPEG Extended, process 4) and lossless JPEG (process 14) are **not**
/// supported: Debian's libjpeg62-turbo 2.1 is built for 8-bit samples only. They give an
/// `.unsupported` error ("Unsupported JPEG data precision 12", "Unsupported JPEG process:
/// SOF type 0xc3").
///
/// libjpeg treats damaged entropy data and a missing end marker as warnings and fills the
/// missing part with gray; here they are errors (`.corrupt`, `.truncated`), because an
/// invented region in a CT slice is worse than a refused file.
public enum JPEGCodec {
    /// Images with more pixels are refused before decoding.
    public static let maximumPixels = 1 << 28

    /// What a JPEG header says, without decoding the image.
    public struct Header: Sendable, Equatable {
        public var width: Int
        public var height: Int
        /// 1 gray, 3 colour, 4 CMYK/YCCK.
        public var components: Int
        /// Bits per sample: always 8 here, since 12-bit files already fail in `header(data:)`
        /// with `.unsupported` (this libjpeg-turbo build cannot even parse their header).
        public var precision: Int
        public var isProgressive: Bool
    }

    /// Parses the header (SOI ... SOS) only.
    public static func header(data: Data) throws -> Header {
        var info = icshim_jpeg_info()
        var message = [CChar](repeating: 0, count: 256)
        let code = data.withUnsafeBytes { raw in
            icshim_jpeg_read_header(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &info,
                                    &message, message.count)
        }
        guard code == 0 else { throw error(code: code, message: message) }
        return Header(width: Int(info.width), height: Int(info.height), components: Int(info.components),
                      precision: Int(info.precision), isProgressive: info.progressive != 0)
    }

    /// Decodes a JPEG held in memory (e.g. one DICOM encapsulated frame).
    public static func decode(data: Data) throws -> GrayImage {
        var info = icshim_jpeg_info()
        var pixels: UnsafeMutablePointer<UInt8>?
        var message = [CChar](repeating: 0, count: 256)
        let code = data.withUnsafeBytes { raw in
            icshim_jpeg_decode_gray(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, maximumPixels,
                                    &info, &pixels, &message, message.count)
        }
        defer { icshim_free(pixels) }
        guard code == 0, let pixels else { throw error(code: code, message: message) }
        let width = Int(info.width), height = Int(info.height)
        let count = width * height
        var samples = [UInt16](repeating: 0, count: count)
        samples.withUnsafeMutableBufferPointer { out in
            for i in 0..<count { out[i] = UInt16(pixels[i]) }
        }
        return GrayImage(width: width, height: height, bitDepth: 8, samples: samples,
                         wasColor: info.components > 1, hadAlpha: false)
    }

    /// The shim's result as an error; unsupported precisions say why.
    private static func error(code: Int32, message: [CChar]) -> ImageCodecError {
        var reason = String(cString: message)
        let kind = ImageCodecError.Kind(shimCode: code)
        if kind == .unsupported && reason.contains("precision") {
            reason += " (this libjpeg-turbo build decodes 8-bit JPEG only)"
        }
        return ImageCodecError(format: .jpeg, kind: kind, reason: reason)
    }

    /// Reads and decodes a JPEG file; errors name the file.
    public static func decode(contentsOf url: URL) throws -> GrayImage {
        let data = try ImageFileIO.read(url, format: .jpeg)
        do {
            return try decode(data: data)
        } catch let error as ImageCodecError {
            throw error.at(path: url.path)
        }
    }

    /// Encodes an 8-bit gray image as a baseline JPEG; `quality` 1...100 (libjpeg's scale).
    public static func encode(_ image: GrayImage, quality: Int = 90) throws -> Data {
        guard image.bitDepth == 8 else {
            throw ImageCodecError(format: .jpeg, kind: .invalidArgument,
                                  reason: "only 8-bit images can be written as JPEG (got \(image.bitDepth)-bit)")
        }
        guard image.width > 0, image.height > 0, image.width <= 65500, image.height <= 65500 else {
            throw ImageCodecError(format: .jpeg, kind: .invalidArgument,
                                  reason: "image size \(image.width)x\(image.height) outside 1...65500")
        }
        guard (1...100).contains(quality) else {
            throw ImageCodecError(format: .jpeg, kind: .invalidArgument, reason: "quality \(quality) outside 1...100")
        }
        let bytes = image.samples.map { UInt8(clamping: $0) }
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let code = bytes.withUnsafeBufferPointer { buffer in
            icshim_jpeg_encode_gray(buffer.baseAddress, UInt32(image.width), UInt32(image.height), Int32(quality),
                                    &out, &size, &message, message.count)
        }
        defer { icshim_free(out) }
        guard code == 0, let out else {
            throw ImageCodecError(format: .jpeg, kind: .init(shimCode: code), reason: String(cString: message))
        }
        return Data(bytes: out, count: size)
    }

    /// Writes an 8-bit gray JPEG to `url` via a temporary file and a rename.
    public static func write(_ image: GrayImage, to url: URL, quality: Int = 90) throws {
        do {
            try ImageFileIO.writeAtomically(try encode(image, quality: quality), to: url, format: .jpeg)
        } catch let error as ImageCodecError {
            throw error.path == nil ? error.at(path: url.path) : error
        }
    }
}
