import Foundation
import ImageCodecs

/// Key images go to disk as 8-bit RGB PNG through ImageCodecs (libpng).
enum KeyImagePNG {
    static func encode(_ raster: RGBRaster) throws -> Data {
        try PNGCodec.encode(RGBImage(width: raster.width, height: raster.height, rgb: raster.pixels))
    }
}
