import Foundation
import ImageCodecs

/// Key images go to disk as 8-bit RGB PNG through ImageCodecs (libpng).
enum KeyImagePNG {
    /// zlib level 1. Deflate dominates the report stage: on a 512x512 RGB lung-window
    /// slice, Python's zlib (the same C library) took 198 ms at level 6 against 38 ms at
    /// level 1 for a 15% larger stream (211 vs 181 kB), measured on this shared 2-core machine
    /// while other builds ran; four images per finding made level 6 cost ~0.9 s per finding.
    static let compressionLevel = 1

    static func encode(_ raster: RGBRaster) throws -> Data {
        try PNGCodec.encode(RGBImage(width: raster.width, height: raster.height, rgb: raster.pixels),
                            compressionLevel: compressionLevel)
    }
}
