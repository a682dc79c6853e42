/// A 3D scalar image: contiguous Float32 voxels in (slice, row, column) order,
/// i.e. `index = (slice * rows + row) * columns + column`, with its spacing in mm
/// and the voxel-to-patient (LPS) affine carried along.
///
/// For CT the values are Hounsfield units; kernels produce volumes of filter
/// responses with the same geometry.
public struct Volume: Sendable {
    /// Number of columns (x, fastest-varying index).
    public let columns: Int
    /// Number of rows (y).
    public let rows: Int
    /// Number of slices (z, slowest-varying index).
    public let slices: Int
    /// The voxels, `columns * rows * slices` of them.
    public var voxels: [Float]
    /// Voxel spacing in mm.
    public var spacing: VoxelSpacing
    /// Voxel index -> LPS patient position (mm).
    public var affine: PatientAffine

    public init(columns: Int, rows: Int, slices: Int, voxels: [Float],
                spacing: VoxelSpacing, affine: PatientAffine? = nil) {
        precondition(columns >= 0 && rows >= 0 && slices >= 0, "negative volume size")
        precondition(voxels.count == columns * rows * slices,
                     "voxel count \(voxels.count) does not match \(columns)x\(rows)x\(slices)")
        self.columns = columns
        self.rows = rows
        self.slices = slices
        self.voxels = voxels
        self.spacing = spacing
        self.affine = affine ?? .axisAligned(spacing: spacing)
    }

    /// A volume of the given size filled with `value`.
    public init(columns: Int, rows: Int, slices: Int, filledWith value: Float,
                spacing: VoxelSpacing, affine: PatientAffine? = nil) {
        self.init(columns: columns, rows: rows, slices: slices,
                  voxels: [Float](repeating: value, count: columns * rows * slices),
                  spacing: spacing, affine: affine)
    }

    /// A volume with the same size and geometry whose voxels are `voxels`.
    public func withVoxels(_ voxels: [Float]) -> Volume {
        Volume(columns: columns, rows: rows, slices: slices, voxels: voxels, spacing: spacing, affine: affine)
    }

    @inlinable public var voxelCount: Int { columns * rows * slices }
    @inlinable public var sliceStride: Int { columns * rows }

    @inlinable
    public func index(column: Int, row: Int, slice: Int) -> Int {
        (slice * rows + row) * columns + column
    }

    @inlinable
    public subscript(column: Int, row: Int, slice: Int) -> Float {
        get { voxels[index(column: column, row: row, slice: slice)] }
        set { voxels[index(column: column, row: row, slice: slice)] = newValue }
    }

    @inlinable
    public func contains(column: Int, row: Int, slice: Int) -> Bool {
        column >= 0 && column < columns && row >= 0 && row < rows && slice >= 0 && slice < slices
    }

    /// LPS position (mm) of a voxel centre.
    @inlinable
    public func patientPosition(column: Double, row: Double, slice: Double) -> SIMD3<Double> {
        affine.patientPosition(column: column, row: row, slice: slice)
    }
}
