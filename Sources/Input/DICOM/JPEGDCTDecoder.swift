import Foundation
import ImageCodecs

/// JPEG Baseline / Extended (DCT) frames, decoded with libjpeg-turbo through ImageCodecs'
/// `JPEGCodec`. Debian's libjpeg-turbo is built for 8-bit samples only, so 12-bit
/// Extended frames give a clear unsupported error. Colour frames come out as their
/// BT.601 luminance (all this project needs from them).
enum JPEGDCTDecoder {
    static func decode(_ data: Data) throws -> DecodedJPEGImage {
        let header: JPEGCodec.Header
        do {
            header = try JPEGCodec.header(data: data)
        } catch let error as ImageCodecError where error.kind == .unsupported {
            // e.g. 12-bit Extended: libjpeg-turbo here is built for 8-bit samples only.
            throw DICOMError(.unsupported("JPEG frame: \(error)"))
        } catch {
            throw DICOMError(.decodeFailed("JPEG header: \(error)"))
        }
        guard header.precision == 8 else {
            throw DICOMError(.unsupported(
                "\(header.precision)-bit JPEG Extended frames (libjpeg-turbo here decodes 8-bit samples only)"))
        }
        do {
            let gray = try JPEGCodec.decode(data: data)
            return DecodedJPEGImage(width: gray.width, height: gray.height, components: 1, precision: 8,
                                    samples: gray.samples, isLuminanceOfColour: gray.wasColor)
        } catch let error as ImageCodecError where error.kind == .unsupported {
            throw DICOMError(.unsupported("JPEG frame: \(error)"))
        } catch {
            throw DICOMError(.decodeFailed("JPEG frame: \(error)"))
        }
    }
}
