/// Maps voxel indices (column, row, slice) to DICOM patient coordinates (LPS, mm).
///
/// `position = origin + column * columnStep + row * rowStep + slice * sliceStep`,
/// where each step already includes the spacing in mm. For DICOM:
/// `columnStep = ImageOrientationPatient[0..<3] * PixelSpacing[1]` (moving along a row),
/// `rowStep = ImageOrientationPatient[3..<6] * PixelSpacing[0]` (moving down a column),
/// and `sliceStep` is measured from the Image Position (Patient) of sorted slices.
public struct PatientAffine: Sendable, Equatable, Codable {
    /// LPS position (mm) of the centre of voxel (0, 0, 0).
    public var origin: SIMD3<Double>
    /// LPS displacement (mm) for +1 column (the x index).
    public var columnStep: SIMD3<Double>
    /// LPS displacement (mm) for +1 row (the y index).
    public var rowStep: SIMD3<Double>
    /// LPS displacement (mm) for +1 slice (the z index, in sorted order).
    public var sliceStep: SIMD3<Double>

    public init(origin: SIMD3<Double>, columnStep: SIMD3<Double>, rowStep: SIMD3<Double>, sliceStep: SIMD3<Double>) {
        self.origin = origin
        self.columnStep = columnStep
        self.rowStep = rowStep
        self.sliceStep = sliceStep
    }

    /// Axis-aligned affine with the given spacing, origin at zero (used for PNG/JPEG
    /// series and synthetic data without patient geometry).
    public static func axisAligned(spacing: VoxelSpacing, origin: SIMD3<Double> = .zero) -> PatientAffine {
        PatientAffine(origin: origin,
                      columnStep: SIMD3(spacing.columnMM, 0, 0),
                      rowStep: SIMD3(0, spacing.rowMM, 0),
                      sliceStep: SIMD3(0, 0, spacing.sliceMM))
    }

    /// LPS position (mm) of a (possibly fractional) voxel index.
    @inlinable
    public func patientPosition(column: Double, row: Double, slice: Double) -> SIMD3<Double> {
        origin + column * columnStep + row * rowStep + slice * sliceStep
    }

    /// Voxel index (column, row, slice), fractional, of an LPS position (mm).
    /// Returns nil when the affine is singular.
    public func voxelIndex(ofPatientPosition p: SIMD3<Double>) -> SIMD3<Double>? {
        // Solve [c r s] * idx = p - origin with Cramer's rule.
        let a = columnStep, b = rowStep, c = sliceStep
        let det = Self.dot(a, Self.cross(b, c))
        guard abs(det) > 1e-12 else { return nil }
        let d = p - origin
        let x = Self.dot(d, Self.cross(b, c)) / det
        let y = Self.dot(a, Self.cross(d, c)) / det
        let z = Self.dot(a, Self.cross(b, d)) / det
        return SIMD3(x, y, z)
    }

    /// The 4x4 homogeneous matrix, row-major: columns are columnStep, rowStep, sliceStep, origin.
    public var matrix: [[Double]] {
        (0..<3).map { i in [columnStep[i], rowStep[i], sliceStep[i], origin[i]] } + [[0, 0, 0, 1]]
    }

    @inlinable static func dot(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> Double { (a * b).sum() }
    @inlinable static func cross(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
    }
}

/// Distance in mm between voxel centres along each index axis.
public struct VoxelSpacing: Sendable, Equatable, Codable {
    /// Between neighbouring columns (x), mm.
    public var columnMM: Double
    /// Between neighbouring rows (y), mm.
    public var rowMM: Double
    /// Between neighbouring slices (z), mm.
    public var sliceMM: Double

    public init(columnMM: Double, rowMM: Double, sliceMM: Double) {
        self.columnMM = columnMM
        self.rowMM = rowMM
        self.sliceMM = sliceMM
    }

    public static let isotropic1mm = VoxelSpacing(columnMM: 1, rowMM: 1, sliceMM: 1)

    /// Volume of one voxel in mm^3.
    public var voxelVolumeMM3: Double { columnMM * rowMM * sliceMM }
}
