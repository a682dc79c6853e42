/// ImageCodecs: PNG (libpng) and JPEG (libjpeg-turbo) decoding and encoding of 8- and
/// 16-bit grayscale (and colour converted to luminance) images, from files or memory.
///
/// - `PNGCodec`: decode any PNG colour type and bit depth to a `GrayImage`; encode 8/16-bit
///   gray and 8-bit RGB (`RGBImage`, for key images).
/// - `JPEGCodec`: decode 8-bit baseline/extended/progressive JPEG (gray, or colour reduced to
///   luma) to a `GrayImage`; encode 8-bit gray. 12-bit and lossless JPEG are not supported by
///   Debian's libjpeg-turbo 2.1 and give `ImageCodecError.Kind.unsupported`.
/// - Errors never exit the process: the C shim `CImageCodecShim` catches libpng/libjpeg
///   fatal errors with setjmp and returns them; corrupt-data warnings are errors too.
import Foundation
import CImageCodecShim

/// The image file formats this module reads.
public enum ImageFileFormat: String, Sendable, Codable, CaseIterable {
    case png
    case jpeg

    /// Recognises a format from the first bytes of a file (the signature), not the name.
    public static func sniff(_ data: Data) -> ImageFileFormat? {
        if data.count >= 8, data.prefix(8).elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            return .png
        }
        if data.count >= 3, data.prefix(3).elementsEqual([0xFF, 0xD8, 0xFF]) { return .jpeg }
        return nil
    }

    /// The format a file name's extension suggests (`.png`, `.jpg`, `.jpeg`; any case).
    public static func fromExtension(of url: URL) -> ImageFileFormat? {
        switch url.pathExtension.lowercased() {
        case "png": return .png
        case "jpg", "jpeg", "jpe", "jfif": return .jpeg
        default: return nil
        }
    }
}

/// Decodes a PNG or JPEG whatever its name says, by its signature.
public enum ImageDecoder {
    /// Reads and decodes `url`; the format comes from the file's first bytes.
    public static func decode(contentsOf url: URL) throws -> (format: ImageFileFormat, image: GrayImage) {
        let data = try ImageFileIO.read(url, format: ImageFileFormat.fromExtension(of: url) ?? .png)
        guard let format = ImageFileFormat.sniff(data) else {
            throw ImageCodecError(format: ImageFileFormat.fromExtension(of: url) ?? .png, kind: .notThisFormat,
                                  reason: data.isEmpty ? "empty file" : "neither a PNG nor a JPEG signature",
                                  path: url.path)
        }
        do {
            switch format {
            case .png: return (format, try PNGCodec.decode(data: data))
            case .jpeg: return (format, try JPEGCodec.decode(data: data))
            }
        } catch let error as ImageCodecError {
            throw error.at(path: url.path)
        }
    }
}

/// Versions of the linked codec libraries, for diagnostics.
public enum ImageCodecLibraries {
    public static var libpngVersion: String { String(cString: icshim_libpng_version()) }
    /// libjpeg API version (62 for Debian's libjpeg62-turbo).
    public static var libjpegAPIVersion: Int { Int(icshim_libjpeg_version()) }
}
