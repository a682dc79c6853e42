import Foundation
import CPNG

/// Decodes a PNG file to 8-bit RGB with libpng's simplified API (`png_image_*`), a
/// different code path from the writer's `png_write_row`, so the key-image tests read
/// back what any PNG reader would see.
struct DecodedRGB {
    var width: Int
    var height: Int
    var pixels: [UInt8]

    func rgb(_ x: Int, _ y: Int) -> (r: Int, g: Int, b: Int) {
        let i = 3 * (y * width + x)
        return (Int(pixels[i]), Int(pixels[i + 1]), Int(pixels[i + 2]))
    }

    static func read(_ url: URL) throws -> DecodedRGB {
        let data = try Data(contentsOf: url)
        // begin_read keeps a pointer to the bytes, so both calls run inside one closure.
        let decoded: DecodedRGB? = data.withUnsafeBytes { raw in
            var image = png_image()
            image.version = png_uint_32(PNG_IMAGE_VERSION)
            guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else { return nil }
            image.format = png_uint_32(PNG_FORMAT_RGB)
            var pixels = [UInt8](repeating: 0, count: 3 * Int(image.width) * Int(image.height))
            let finished = pixels.withUnsafeMutableBytes { out in
                png_image_finish_read(&image, nil, out.baseAddress, 0, nil)
            }
            guard finished != 0 else { return nil }
            return DecodedRGB(width: Int(image.width), height: Int(image.height), pixels: pixels)
        }
        guard let decoded else { throw TestPNGError.unreadable(url.path) }
        return decoded
    }
}

enum TestPNGError: Error { case unreadable(String) }
