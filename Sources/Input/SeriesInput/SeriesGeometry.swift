import Volumes

/// Slice-plane geometry shared by DICOM series assembly and reporting.
public enum SeriesGeometry {
    /// The unit normal of a slice plane from Image Orientation (Patient): the cross product
    /// of the row direction cosines (IOP[0..<3]) and the column direction cosines (IOP[3..<6]).
    /// Nil when the cosines are missing or degenerate.
    public static func sliceNormal(imageOrientation iop: [Double]) -> SIMD3<Double>? {
        guard iop.count >= 6 else { return nil }
        let row = SIMD3(iop[0], iop[1], iop[2]), column = SIMD3(iop[3], iop[4], iop[5])
        let n = cross(row, column)
        let length = (n * n).sum().squareRoot()
        guard length > 0.5 else { return nil }
        return n / length
    }

    /// "axial", "coronal" or "sagittal" when the slice normal is within about 25 degrees
    /// (|cos| >= 0.9) of the LPS z, y or x axis; otherwise "oblique".
    public static func orientationLabel(normal: SIMD3<Double>) -> String {
        let a = SIMD3(abs(normal.x), abs(normal.y), abs(normal.z))
        let m = max(a.x, max(a.y, a.z))
        guard m >= 0.9 else { return "oblique" }
        if m == a.z { return "axial" }
        if m == a.y { return "coronal" }
        return "sagittal"
    }

    @inlinable static func cross(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
    }

    @inlinable static func dot(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> Double { (a * b).sum() }
    @inlinable static func norm(_ a: SIMD3<Double>) -> Double { dot(a, a).squareRoot() }
}

/// A stable, filesystem-safe identifier derived from content (never raw DICOM values):
/// 128-bit FNV-1a over the given strings, as 32 lowercase hex digits.
enum ContentHash {
    static func hex(_ parts: [String]) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x84222325cbf29ce4 ^ 0x9E37_79B9_7F4A_7C15
        for part in parts {
            for byte in part.utf8 {
                a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
                b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 &+ 0x9E37_79B9
            }
            // Separator so ["ab","c"] and ["a","bc"] differ.
            a = (a ^ 0x1F) &* 0x0000_0100_0000_01B3
            b = (b ^ 0x1F) &* 0x0000_0100_0000_01B3 &+ 0x9E37_79B9
        }
        return hex64(a) + hex64(b)
    }

    private static func hex64(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
