/// Boxes, views and crops of a `Volume` (e.g. the lung bounding box), so kernels can run on
/// the region of interest without copying the whole scan.

/// A half-open box of voxel indices: `columns x rows x slices` ranges.
public struct VoxelBox: Sendable, Equatable, Codable {
    public var columns: Range<Int>
    public var rows: Range<Int>
    public var slices: Range<Int>

    public init(columns: Range<Int>, rows: Range<Int>, slices: Range<Int>) {
        self.columns = columns
        self.rows = rows
        self.slices = slices
    }

    /// The whole extent of `volume`.
    public init(covering volume: Volume) {
        self.init(columns: 0..<volume.columns, rows: 0..<volume.rows, slices: 0..<volume.slices)
    }

    public var isEmpty: Bool { columns.isEmpty || rows.isEmpty || slices.isEmpty }
    public var voxelCount: Int { columns.count * rows.count * slices.count }

    /// The box grown by `margin` voxels on every side, clipped to `volume`.
    public func expanded(by margin: Int, clampedTo volume: Volume) -> VoxelBox {
        func grow(_ r: Range<Int>, _ n: Int) -> Range<Int> {
            let lo = Swift.max(0, r.lowerBound - margin)
            let hi = Swift.min(n, r.upperBound + margin)
            return lo..<Swift.max(lo, hi)
        }
        return VoxelBox(columns: grow(columns, volume.columns), rows: grow(rows, volume.rows),
                        slices: grow(slices, volume.slices))
    }

    /// The intersection with the extent of `volume` (empty ranges when disjoint).
    public func clamped(to volume: Volume) -> VoxelBox {
        func clip(_ r: Range<Int>, _ n: Int) -> Range<Int> {
            let lo = Swift.min(Swift.max(0, r.lowerBound), n)
            let hi = Swift.min(Swift.max(lo, r.upperBound), n)
            return lo..<hi
        }
        return VoxelBox(columns: clip(columns, volume.columns), rows: clip(rows, volume.rows),
                        slices: clip(slices, volume.slices))
    }

    /// The smallest box holding every nonzero element of `mask` (laid out like the voxels of a
    /// `columns x rows x slices` volume), or nil when the mask is empty.
    public static func boundingBox(ofMask mask: [UInt8], columns: Int, rows: Int, slices: Int) -> VoxelBox? {
        precondition(mask.count == columns * rows * slices, "mask size does not match the volume")
        var loC = Int.max, hiC = -1, loR = Int.max, hiR = -1, loS = Int.max, hiS = -1
        mask.withUnsafeBufferPointer { m in
            for s in 0..<slices {
                for r in 0..<rows {
                    let base = (s * rows + r) * columns
                    var first = -1, last = -1
                    for c in 0..<columns where m[base + c] != 0 {
                        if first < 0 { first = c }
                        last = c
                    }
                    if first >= 0 {
                        loC = Swift.min(loC, first); hiC = Swift.max(hiC, last)
                        loR = Swift.min(loR, r); hiR = Swift.max(hiR, r)
                        loS = Swift.min(loS, s); hiS = Swift.max(hiS, s)
                    }
                }
            }
        }
        guard hiC >= 0 else { return nil }
        return VoxelBox(columns: loC..<(hiC + 1), rows: loR..<(hiR + 1), slices: loS..<(hiS + 1))
    }
}

/// A read-only window onto a box of a `Volume`. Holds the parent volume (its voxel array is
/// shared copy-on-write, so making a view copies nothing) plus the box.
public struct VolumeView: Sendable {
    /// The volume this view looks into.
    public let parent: Volume
    /// The window, in the parent's voxel indices.
    public let box: VoxelBox

    public init(parent: Volume, box: VoxelBox) {
        precondition(box.columns.lowerBound >= 0 && box.columns.upperBound <= parent.columns &&
                     box.rows.lowerBound >= 0 && box.rows.upperBound <= parent.rows &&
                     box.slices.lowerBound >= 0 && box.slices.upperBound <= parent.slices,
                     "view box outside the volume")
        self.parent = parent
        self.box = box
    }

    public var columns: Int { box.columns.count }
    public var rows: Int { box.rows.count }
    public var slices: Int { box.slices.count }
    public var voxelCount: Int { box.voxelCount }
    public var spacing: VoxelSpacing { parent.spacing }

    /// Element stride between neighbouring rows / slices in the parent's storage.
    public var rowStride: Int { parent.columns }
    public var sliceStride: Int { parent.columns * parent.rows }
    /// Index into `parent.voxels` of the view's voxel (0, 0, 0).
    public var baseOffset: Int {
        parent.index(column: box.columns.lowerBound, row: box.rows.lowerBound, slice: box.slices.lowerBound)
    }

    /// Voxel at view-relative indices.
    @inlinable
    public subscript(column: Int, row: Int, slice: Int) -> Float {
        parent.voxels[(slice + box.slices.lowerBound) * parent.columns * parent.rows
                      + (row + box.rows.lowerBound) * parent.columns + column + box.columns.lowerBound]
    }

    /// The affine of the view: voxel (0,0,0) of the view maps to the LPS position of the box corner.
    public var affine: PatientAffine {
        var a = parent.affine
        a.origin = parent.affine.patientPosition(column: Double(box.columns.lowerBound),
                                                 row: Double(box.rows.lowerBound),
                                                 slice: Double(box.slices.lowerBound))
        return a
    }

    /// A contiguous copy of the window, with the affine moved so patient positions are unchanged.
    public func copied() -> Volume {
        let c = columns, r = rows, s = slices
        var out = [Float](repeating: 0, count: c * r * s)
        if c > 0 {
            let pc = parent.columns, pr = parent.rows, base = baseOffset
            parent.voxels.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for k in 0..<s {
                        for j in 0..<r {
                            let from = base + k * pc * pr + j * pc
                            let to = (k * r + j) * c
                            dst.baseAddress!.advanced(by: to)
                                .update(from: src.baseAddress!.advanced(by: from), count: c)
                        }
                    }
                }
            }
        }
        return Volume(columns: c, rows: r, slices: s, voxels: out, spacing: parent.spacing, affine: affine)
    }
}

extension Volume {
    /// A no-copy window onto `box` (must lie inside the volume).
    public func view(_ box: VoxelBox) -> VolumeView { VolumeView(parent: self, box: box) }

    /// A contiguous copy of `box` (clamped to the volume) with a matching affine.
    public func cropped(to box: VoxelBox) -> Volume { view(box.clamped(to: self)).copied() }
}
