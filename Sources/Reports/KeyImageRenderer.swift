import Volumes

/// Display window in HU. The lung window (centre -600, width 1500) shows parenchyma,
/// vessels and nodules; everything at or below -1350 HU is black, at or above 150 white.
public struct HUWindow: Sendable, Equatable {
    public var centerHU: Double
    public var widthHU: Double
    public init(centerHU: Double, widthHU: Double) {
        self.centerHU = centerHU
        self.widthHU = widthHU
    }

    public static let lung = HUWindow(centerHU: -600, widthHU: 1500)

    /// The 8-bit gray level of `hu` (linear ramp, clamped).
    @inline(__always)
    public func grayLevel(_ hu: Float) -> UInt8 {
        let low = centerHU - widthHU / 2
        let t = (Double(hu) - low) / widthHU
        if !(t > 0) { return 0 }
        if t >= 1 { return 255 }
        return UInt8((t * 255).rounded())
    }
}

/// One planar image cut from a volume, with where a volume point lands on it.
public struct PlaneImage: Sendable {
    public var raster: RGBRaster
    /// Size of one (square) display pixel in mm.
    public var pixelMM: Double
    /// Display pixel (x, y) of the plane's reference point (the finding centre).
    public var referenceX: Double
    public var referenceY: Double
    /// "axial", "coronal", "sagittal" (from the plane's normal) or "oblique".
    public var planeName: String
}

/// Cuts key images out of a HU volume: the native slice through a point, the two
/// orthogonal reformats through it (resampled to square pixels using the spacing, so
/// anatomy is not squashed when slices are thicker than pixels), and a zoomed crop.
///
/// Display conventions: the native slice is shown as stored (DICOM row 0 at the top,
/// column 0 at the left). Reformats are oriented from the affine like a viewer would:
/// superior at the top, the patient's right on the image left, anterior on the left
/// of sagittal images.
public struct KeyImageRenderer: Sendable {
    public var window: HUWindow
    /// Largest side of a full-plane image, pixels; larger planes get bigger pixels.
    public var maximumSide: Int

    public init(window: HUWindow = .lung, maximumSide: Int = 768) {
        self.window = window
        self.maximumSide = maximumSide
    }

    /// The volume index axes: 0 = column, 1 = row, 2 = slice.
    enum Axis: Int { case column = 0, row = 1, slice = 2 }

    /// How display pixels map to volume indices for one plane.
    struct PlaneGeometry {
        var fixedAxis: Axis
        var fixedIndex: Int
        var horizontalAxis: Axis
        var verticalAxis: Axis
        var flipHorizontal: Bool
        var flipVertical: Bool
        var pixelMM: Double
        /// mm from the volume's leading edge (in display direction) to the image's left/top edge.
        var originU: Double
        var originV: Double
        var width: Int
        var height: Int
    }

    // MARK: - Public entry points

    /// The native slice through `center` (column, row, slice), whole field of view.
    public func nativeSlice(of volume: Volume, through center: SIMD3<Double>) -> PlaneImage {
        fullPlane(volume, fixed: .slice, center: center, orient: false)
    }

    /// The plane of constant row through `center` (coronal for an axial series).
    public func rowReformat(of volume: Volume, through center: SIMD3<Double>) -> PlaneImage {
        fullPlane(volume, fixed: .row, center: center, orient: true)
    }

    /// The plane of constant column through `center` (sagittal for an axial series).
    public func columnReformat(of volume: Volume, through center: SIMD3<Double>) -> PlaneImage {
        fullPlane(volume, fixed: .column, center: center, orient: true)
    }

    /// A square crop of the native slice, `fieldMM` wide, centred on `center`, `side` pixels.
    public func zoomedNativeSlice(of volume: Volume, through center: SIMD3<Double>, fieldMM: Double,
                                  side: Int) -> PlaneImage {
        var g = baseGeometry(volume, fixed: .slice, center: center, orient: false)
        g.pixelMM = fieldMM / Double(side)
        let (cu, cv) = displayMM(of: center, in: g, volume: volume)
        g.originU = cu - fieldMM / 2
        g.originV = cv - fieldMM / 2
        g.width = side
        g.height = side
        return render(volume, g, center: center)
    }

    // MARK: - Geometry

    private func fullPlane(_ volume: Volume, fixed: Axis, center: SIMD3<Double>, orient: Bool) -> PlaneImage {
        var g = baseGeometry(volume, fixed: fixed, center: center, orient: orient)
        let extentU = Double(count(volume, g.horizontalAxis)) * spacing(volume, g.horizontalAxis)
        let extentV = Double(count(volume, g.verticalAxis)) * spacing(volume, g.verticalAxis)
        // Square pixels at the finer of the two spacings, unless that exceeds maximumSide.
        var pixelMM = min(spacing(volume, g.horizontalAxis), spacing(volume, g.verticalAxis))
        pixelMM = max(pixelMM, max(extentU, extentV) / Double(maximumSide))
        g.pixelMM = pixelMM
        g.width = max(1, Int((extentU / pixelMM).rounded()))
        g.height = max(1, Int((extentV / pixelMM).rounded()))
        return render(volume, g, center: center)
    }

    private func baseGeometry(_ volume: Volume, fixed: Axis, center: SIMD3<Double>, orient: Bool) -> PlaneGeometry {
        let (h, v): (Axis, Axis) = switch fixed {
        case .slice: (.column, .row)
        case .row: (.column, .slice)
        case .column: (.row, .slice)
        }
        let c = center[fixed.rawValue]
        let fixedIndex = c.isFinite ? Int(min(max(c, 0), Double(count(volume, fixed) - 1)).rounded()) : 0
        var flipH = false, flipV = false
        if orient {
            let hStep = step(volume.affine, h), vStep = step(volume.affine, v)
            flipV = dot(vStep, Self.topDirection(of: vStep)) > 0
            flipH = dot(hStep, Self.rightDirection(of: hStep)) < 0
        }
        return PlaneGeometry(fixedAxis: fixed, fixedIndex: fixedIndex, horizontalAxis: h, verticalAxis: v,
                             flipHorizontal: flipH, flipVertical: flipV, pixelMM: 1, originU: 0, originV: 0,
                             width: 1, height: 1)
    }

    /// The patient direction a viewer puts at the top for an axis running along `step`:
    /// superior for a cranio-caudal axis, anterior for an antero-posterior one, right otherwise.
    static func topDirection(of step: SIMD3<Double>) -> SIMD3<Double> {
        switch dominantAxis(step) {
        case 2: SIMD3(0, 0, 1)
        case 1: SIMD3(0, -1, 0)
        default: SIMD3(-1, 0, 0)
        }
    }

    /// The patient direction a viewer puts at the right: patient left (radiological
    /// convention), posterior on sagittal images, inferior for a cranio-caudal axis.
    static func rightDirection(of step: SIMD3<Double>) -> SIMD3<Double> {
        switch dominantAxis(step) {
        case 0: SIMD3(1, 0, 0)
        case 1: SIMD3(0, 1, 0)
        default: SIMD3(0, 0, -1)
        }
    }

    static func dominantAxis(_ v: SIMD3<Double>) -> Int {
        let a = SIMD3(abs(v.x), abs(v.y), abs(v.z))
        return a.x >= a.y && a.x >= a.z ? 0 : (a.y >= a.z ? 1 : 2)
    }

    /// Letter of the patient direction (LPS): L/R, P/A, S/I.
    static func directionLetter(_ v: SIMD3<Double>) -> String {
        switch dominantAxis(v) {
        case 0: v.x > 0 ? "L" : "R"
        case 1: v.y > 0 ? "P" : "A"
        default: v.z > 0 ? "S" : "I"
        }
    }

    /// Name of a plane from its normal: the dominant LPS component, if clearly dominant.
    static func planeName(normal: SIMD3<Double>) -> String {
        let n = normal / max((normal * normal).sum().squareRoot(), 1e-12)
        let a = SIMD3(abs(n.x), abs(n.y), abs(n.z))
        if a.max() < 0.9 { return "oblique" }
        switch dominantAxis(n) {
        case 0: return "sagittal"
        case 1: return "coronal"
        default: return "axial"
        }
    }

    private func count(_ v: Volume, _ a: Axis) -> Int {
        switch a {
        case .column: v.columns
        case .row: v.rows
        case .slice: v.slices
        }
    }

    private func spacing(_ v: Volume, _ a: Axis) -> Double {
        let s: Double = switch a {
        case .column: v.spacing.columnMM
        case .row: v.spacing.rowMM
        case .slice: v.spacing.sliceMM
        }
        return s > 0 && s.isFinite ? s : 1
    }

    private func step(_ affine: PatientAffine, _ a: Axis) -> SIMD3<Double> {
        switch a {
        case .column: affine.columnStep
        case .row: affine.rowStep
        case .slice: affine.sliceStep
        }
    }

    private func dot(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> Double { (a * b).sum() }

    /// mm position of a volume point along the display axes, from the volume's leading
    /// edge (index -0.5, or n-0.5 when flipped).
    private func displayMM(of p: SIMD3<Double>, in g: PlaneGeometry, volume: Volume) -> (Double, Double) {
        let nh = Double(count(volume, g.horizontalAxis)), nv = Double(count(volume, g.verticalAxis))
        var ih = p[g.horizontalAxis.rawValue], iv = p[g.verticalAxis.rawValue]
        if g.flipHorizontal { ih = nh - 1 - ih }
        if g.flipVertical { iv = nv - 1 - iv }
        return ((ih + 0.5) * spacing(volume, g.horizontalAxis), (iv + 0.5) * spacing(volume, g.verticalAxis))
    }

    // MARK: - Sampling

    private func render(_ volume: Volume, _ g: PlaneGeometry, center: SIMD3<Double>) -> PlaneImage {
        let nh = count(volume, g.horizontalAxis), nv = count(volume, g.verticalAxis)
        let sh = spacing(volume, g.horizontalAxis), sv = spacing(volume, g.verticalAxis)
        // Strides of the three index axes in the voxel array.
        let strides = [1, volume.columns, volume.columns * volume.rows]
        let strideH = strides[g.horizontalAxis.rawValue], strideV = strides[g.verticalAxis.rawValue]
        let base = g.fixedIndex * strides[g.fixedAxis.rawValue]

        // Per display column / row: the two neighbouring indices and the weight of the second,
        // or -1 when the sample falls outside the volume (drawn black).
        func taps(count n: Int, origin: Double, pixelMM: Double, spacing s: Double, indices: Int, flip: Bool)
            -> [(Int, Int, Double)] {
            (0..<n).map { i in
                var a = (origin + (Double(i) + 0.5) * pixelMM) / s - 0.5
                // Outside the volume (or NaN from a degenerate geometry): drawn black.
                if !(a >= -0.5 && a <= Double(indices) - 0.5) { return (-1, -1, 0) }
                a = min(max(a, 0), Double(indices - 1))
                if flip { a = Double(indices - 1) - a }
                let i0 = Int(a.rounded(.down)), i1 = min(i0 + 1, indices - 1)
                return (i0, i1, a - Double(i0))
            }
        }
        let hTaps = taps(count: g.width, origin: g.originU, pixelMM: g.pixelMM, spacing: sh, indices: nh,
                         flip: g.flipHorizontal)
        let vTaps = taps(count: g.height, origin: g.originV, pixelMM: g.pixelMM, spacing: sv, indices: nv,
                         flip: g.flipVertical)
        var gray = [UInt8](repeating: 0, count: g.width * g.height)
        volume.voxels.withUnsafeBufferPointer { vox in
            for y in 0..<g.height {
                let (v0, v1, wv) = vTaps[y]
                if v0 < 0 { continue }
                let row0 = base + v0 * strideV, row1 = base + v1 * strideV
                for x in 0..<g.width {
                    let (h0, h1, wh) = hTaps[x]
                    if h0 < 0 { continue }
                    let a = Double(vox[row0 + h0 * strideH]) * (1 - wh) + Double(vox[row0 + h1 * strideH]) * wh
                    let b = Double(vox[row1 + h0 * strideH]) * (1 - wh) + Double(vox[row1 + h1 * strideH]) * wh
                    gray[y * g.width + x] = window.grayLevel(Float(a * (1 - wv) + b * wv))
                }
            }
        }
        var raster = RGBRaster(width: g.width, height: g.height, gray: gray)
        let (cu, cv) = displayMM(of: center, in: g, volume: volume)
        let refX = (cu - g.originU) / g.pixelMM - 0.5
        let refY = (cv - g.originV) / g.pixelMM - 0.5

        // Orientation letters at the left and top edges.
        let hStep = step(volume.affine, g.horizontalAxis), vStep = step(volume.affine, g.verticalAxis)
        let leftward = g.flipHorizontal ? hStep : -hStep
        let upward = g.flipVertical ? vStep : -vStep
        let scale = g.width >= 200 ? 2 : 1
        if g.width >= 48 && g.height >= 48 {
            raster.drawLabel(Self.directionLetter(leftward), x: 3 * scale, y: g.height / 2 - 3 * scale, scale: scale,
                             color: .orientation)
            raster.drawLabel(Self.directionLetter(upward), x: g.width / 2 - 3 * scale, y: 3 * scale, scale: scale,
                             color: .orientation)
        }
        let normal = step(volume.affine, g.fixedAxis)
        return PlaneImage(raster: raster, pixelMM: g.pixelMM, referenceX: refX, referenceY: refY,
                          planeName: Self.planeName(normal: normal))
    }
}
