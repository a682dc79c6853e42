import Foundation
import Volumes

/// Loads the scipy reference arrays written by scripts/reference/kernels_reference.py.
struct ReferenceFixtures {
    struct ArrayEntry: Decodable { let offset: Int; let count: Int }
    struct Manifest: Decodable {
        let shape_zyx: [Int]
        let input: String
        let arrays: [String: ArrayEntry]
        let cases: [[String: JSONValue]]
    }
    enum JSONValue: Decodable {
        case number(Double), string(String)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let d = try? c.decode(Double.self) { self = .number(d) } else { self = .string(try c.decode(String.self)) }
        }
        var number: Double? { if case .number(let d) = self { return d }; return nil }
        var string: String? { if case .string(let s) = self { return s }; return nil }
    }

    let manifest: Manifest
    let floats: [Float]

    static func load() throws -> ReferenceFixtures {
        let dir = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        let json = try Data(contentsOf: dir.appendingPathComponent("kernels_reference.json"))
        let manifest = try JSONDecoder().decode(Manifest.self, from: json)
        let raw = try Data(contentsOf: dir.appendingPathComponent("kernels_reference.f32"))
        var floats = [Float](repeating: 0, count: raw.count / 4)
        _ = floats.withUnsafeMutableBytes { raw.copyBytes(to: $0) }
        // Fixtures are little-endian; so is every platform we build on.
        return ReferenceFixtures(manifest: manifest, floats: floats)
    }

    func array(_ name: String) -> [Float] {
        let e = manifest.arrays[name]!
        return Array(floats[e.offset..<(e.offset + e.count)])
    }

    func volume(_ name: String, spacing: VoxelSpacing = .isotropic1mm) -> Volume {
        let s = manifest.shape_zyx
        return Volume(columns: s[2], rows: s[1], slices: s[0], voxels: array(name), spacing: spacing)
    }

    var input: Volume { volume(manifest.input) }

    func cases(kind: String) -> [[String: JSONValue]] {
        manifest.cases.filter { $0["kind"]?.string == kind }
    }
}

/// Largest absolute difference, and the largest magnitude of the reference.
func maxAbsDifference(_ a: [Float], _ b: [Float]) -> (difference: Float, scale: Float) {
    precondition(a.count == b.count)
    var d: Float = 0, s: Float = 0
    for i in 0..<a.count {
        d = max(d, abs(a[i] - b[i]))
        s = max(s, abs(b[i]))
    }
    return (d, s)
}
