import Foundation
import ImageCodecs

/// What discovery needs to describe a PNG/JPEG slice folder without decoding it; the
/// reading itself is `ImageSliceSeriesReader`.
enum ImageFolderBridge {

    /// Width and height from the PNG IHDR or the JPEG SOF, without decoding.
    static func imageSize(_ url: URL) -> (width: Int, height: Int)? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 64 * 1024) else { return nil }
        let b = [UInt8](head)
        if b.count >= 24, b[0] == 0x89, b[1] == 0x50, b[2] == 0x4E, b[3] == 0x47 {
            func be32(_ o: Int) -> Int { Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]) }
            return (be32(16), be32(20))
        }
        if let header = try? JPEGCodec.header(data: head) { return (header.width, header.height) }
        return nil
    }
}
