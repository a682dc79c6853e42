import Foundation
import CPNG

/// Encodes key images as 8-bit RGB PNG with libpng.
///
/// TEMPORARY: this talks to libpng directly until ImageCodecs' RGB encoder lands
/// (helper "codecs"); then it becomes a one-line call to it and this file shrinks.
enum KeyImagePNG {
    static func encode(_ raster: RGBRaster) throws -> Data {
        guard let png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nil, nil, nil) else {
            throw ReportError.imageEncodingFailed(path: "<memory>", reason: "png_create_write_struct failed")
        }
        var pngOpt: png_structp? = png
        guard let info = png_create_info_struct(png) else {
            png_destroy_write_struct(&pngOpt, nil)
            throw ReportError.imageEncodingFailed(path: "<memory>", reason: "png_create_info_struct failed")
        }
        var infoOpt: png_infop? = info
        defer { png_destroy_write_struct(&pngOpt, &infoOpt) }

        final class Sink { var data = Data() }
        let sink = Sink()
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        png_set_write_fn(png, sinkPointer, { png, bytes, length in
            guard let png, let bytes, let io = png_get_io_ptr(png) else { return }
            let sink = Unmanaged<Sink>.fromOpaque(io).takeUnretainedValue()
            sink.data.append(bytes, count: length)
        }, nil)
        // libpng reports errors by longjmp, which Swift cannot catch; the inputs here are
        // always valid (positive size, exact buffer), so the default handler never fires.
        png_set_IHDR(png, info, png_uint_32(raster.width), png_uint_32(raster.height), 8, PNG_COLOR_TYPE_RGB,
                     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT)
        png_set_compression_level(png, 6)
        png_write_info(png, info)
        raster.pixels.withUnsafeBufferPointer { buffer in
            let rowBytes = 3 * raster.width
            for y in 0..<raster.height {
                png_write_row(png, buffer.baseAddress! + y * rowBytes)
            }
        }
        png_write_end(png, nil)
        return sink.data
    }
}
