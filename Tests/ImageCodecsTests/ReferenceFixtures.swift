import Foundation
import ImageCodecs
import Testing

/// The fixtures and expected values written by scripts/reference/codecs_reference.py
/// (a numpy + zlib PNG writer and Pillow; no code shared with libpng's decoder path here).
struct ReferenceFixtures {
    struct Expected: Decodable {
        let width: Int
        let height: Int
        let bit_depth: Int
        let was_color: Bool
        let had_alpha: Bool
        let samples: [Int]
        /// JPEG only: the pixels before lossy compression.
        let original: [Int]?
    }

    private struct File: Decodable {
        let files: [String: Expected]
    }

    static let directory: URL = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    static let expected: [String: Expected] = {
        let data = try! Data(contentsOf: directory.appendingPathComponent("expected.json"))
        return try! JSONDecoder().decode(File.self, from: data).files
    }()

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static func data(_ name: String) throws -> Data { try Data(contentsOf: url(name)) }

    static var pngNames: [String] { expected.keys.filter { $0.hasSuffix(".png") }.sorted() }
    static var jpegNames: [String] { expected.keys.filter { $0.hasSuffix(".jpg") }.sorted() }
}

/// A temporary folder removed when the value goes away.
final class TemporaryFolder {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("codecs-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}
