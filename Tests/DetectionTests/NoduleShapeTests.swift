import Testing
@testable import Detection
import Volumes

/// `NoduleMeasurement.elongation` against the second moments of the continuous shapes the
/// voxels sample.
@Suite("Nodule shape: elongation")
struct NoduleShapeTests {
    /// Voxel centres (mm) of a shape on a grid of `spacing`, and their mean.
    static func sample(spacing: SIMD3<Double>, halfExtentMM: Double,
                       inside: (SIMD3<Double>) -> Bool) -> ([SIMD3<Double>], SIMD3<Double>) {
        var pts: [SIMD3<Double>] = []
        let h = SIMD3(Int(halfExtentMM / spacing.x) + 1, Int(halfExtentMM / spacing.y) + 1, Int(halfExtentMM / spacing.z) + 1)
        for z in -h.z...h.z { for y in -h.y...h.y { for x in -h.x...h.x {
            let p = SIMD3(Double(x), Double(y), Double(z)) * spacing
            if inside(p) { pts.append(p) }
        } } }
        let mean = pts.reduce(SIMD3<Double>(0, 0, 0), +) / Double(pts.count)
        return (pts, mean)
    }

    @Test("a 4 mm ball is round on 0.5 mm voxels (1) and on 2.5 mm slices (above 0.85)")
    func ball() {
        for spacing in [SIMD3(0.5, 0.5, 0.5), SIMD3(0.8, 0.8, 2.5)] {
            let (pts, mean) = Self.sample(spacing: spacing, halfExtentMM: 4) { p in (p * p).sum() <= 16 }
            let e = NoduleMeasurement.elongation(pts, mean: mean, twoD: false)
            #expect(e > 0.85 && e <= 1.0, "elongation \(e) at spacing \(spacing)")
        }
    }

    @Test("a tube 2 mm across and 12 mm long: sqrt((r^2/4) / (L^2/12)) = 0.144")
    func tube() {
        let spacing = SIMD3(0.5, 0.5, 0.5), r = 1.0, length = 12.0
        let (pts, mean) = Self.sample(spacing: spacing, halfExtentMM: length / 2) { p in
            p.x * p.x + p.y * p.y <= r * r && abs(p.z) <= length / 2
        }
        let e = NoduleMeasurement.elongation(pts, mean: mean, twoD: false)
        let expected = ((r * r / 4) / (length * length / 12)).squareRoot()
        #expect(abs(e - expected) < 0.03, "elongation \(e), expected \(expected)")
    }

    @Test("2D: an ellipse with semi-axes 4 and 2 mm gives their ratio, 0.5")
    func ellipse2D() {
        let spacing = SIMD3(0.25, 0.25, 1.0)
        let (pts, mean) = Self.sample(spacing: spacing, halfExtentMM: 4) { p in
            p.z == 0 && (p.x / 4) * (p.x / 4) + (p.y / 2) * (p.y / 2) <= 1
        }
        let e = NoduleMeasurement.elongation(pts, mean: mean, twoD: true)
        #expect(abs(e - 0.5) < 0.02, "elongation \(e)")
    }
}

/// The warning for slices thicker than the detector was validated on.
@Suite("Thick-slice warning")
struct ThickSliceWarningTests {
    static func volume(sliceMM: Double, slices: Int = 4) -> Volume {
        Volume(columns: 2, rows: 2, slices: slices, filledWith: -1000,
               spacing: VoxelSpacing(columnMM: 0.7, rowMM: 0.7, sliceMM: sliceMM))
    }

    @Test func slicesThickerThanTwoAndAHalfMillimetresAreFlagged() throws {
        let warning = try #require(NoduleDetector.thickSliceWarning(Self.volume(sliceMM: 5)))
        #expect(warning.hasPrefix("slices 5.0 mm apart"))
        #expect(warning.contains("at most 2.5 mm"))
        #expect(NoduleDetector.thickSliceWarning(Self.volume(sliceMM: 3)) != nil)
    }

    @Test func validatedSpacingsAndSingleSlicesAreNot() {
        for mm in [0.625, 1.25, 2.5] { #expect(NoduleDetector.thickSliceWarning(Self.volume(sliceMM: mm)) == nil) }
        #expect(NoduleDetector.thickSliceWarning(Self.volume(sliceMM: 5, slices: 1)) == nil)
    }
}

/// `NoduleMeasurement.bodyCentroidMM`: the reported centre of a nodule whose segmentation kept
/// part of a vessel, against the centroids of the continuous shapes (numerical integration).
@Suite("Nodule centre: the body without vessel stubs")
struct NoduleBodyCentreTests {
    @Test("a 6 mm ball with a vessel 3.6 mm across leaving it for 9 mm: 0.77 mm off, not 2.12")
    func ballWithThickVessel() {
        // Ball radius 3 mm at the origin; vessel radius 1.8 mm along +x from the centre to
        // x = 9 mm. Inside the body sphere (1.5 x 3 + 1 = 5.5 mm) the centroid is at
        // x = 0.773 mm; over the whole region at x = 2.119 mm.
        let spacing = SIMD3(0.25, 0.25, 0.25)
        let (points, mean) = NoduleShapeTests.sample(spacing: spacing, halfExtentMM: 9) { p in
            (p * p).sum() <= 9 || (p.x >= 0 && p.x <= 9 && p.y * p.y + p.z * p.z <= 1.8 * 1.8)
        }
        #expect(abs(mean.x - 2.119) < 0.1, "whole-region centroid x \(mean.x) mm")
        // The thickest point is the ball's centre: crop voxel (36, 36, 36) of a crop starting at -9 mm.
        let shifted = points.map { $0 + SIMD3(9, 9, 9) }
        let body = NoduleMeasurement.bodyCentroidMM(shifted, core: SIMD3(36, 36, 36), spacing: spacing,
                                                    inscribedMM: 3) - SIMD3(9, 9, 9)
        #expect(abs(body.x - 0.773) < 0.1, "body centroid x \(body.x) mm")
        #expect(abs(body.y) < 0.05 && abs(body.z) < 0.05, "body centroid \(body)")
    }

    @Test("an isolated ellipsoid's body centre is its centre")
    func isolatedEllipsoid() {
        let spacing = SIMD3(0.5, 0.5, 1.0)
        let (points, mean) = NoduleShapeTests.sample(spacing: spacing, halfExtentMM: 6) { p in
            (p.x / 6) * (p.x / 6) + (p.y / 3) * (p.y / 3) + (p.z / 3) * (p.z / 3) <= 1
        }
        let shifted = points.map { $0 + SIMD3(6, 6, 6) }
        let body = NoduleMeasurement.bodyCentroidMM(shifted, core: SIMD3(12, 12, 6), spacing: spacing,
                                                    inscribedMM: 3) - SIMD3(6, 6, 6)
        #expect(((body - mean) * (body - mean)).sum().squareRoot() < 0.05, "body \(body), centroid \(mean)")
    }
}
