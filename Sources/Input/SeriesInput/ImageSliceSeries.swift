import DICOM
import Dispatch
import Foundation
import ImageCodecs
import Volumes

/// Why a PNG/JPEG slice folder could not be read. `path` names the file at fault (a slice
/// or `series.json`).
public struct ImageSliceSeriesError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// Reads a folder of PNG or JPEG slices into a HU series.
///
/// - Slices are ordered by the natural order of their file names (`naturalOrder`), so
///   `slice-2.png` comes before `slice-10.png`; a single image is a series of one slice.
/// - 8- and 16-bit grayscale are read as stored; colour is reduced to BT.601 luminance and
///   the series gets a warning. All slices must have the same size, bit depth and format.
/// - `series.json` in the folder (see `ImageSeriesSidecar`, docs/image-series.md) gives
///   spacing, rescale to HU, padding, geometry and identifiers. Without it: 1 mm spacing,
///   stored values taken as HU, and a warning saying so.
public enum ImageSliceSeriesReader {
    /// Reads `files` (PNG/JPEG slices; `series.json` among them is ignored) with the sidecar
    /// from `folder`. Decoding runs on `workers` threads (default: one per core).
    public static func read(folder: URL, files: [URL], workers: Int? = nil) throws -> ImageSeries {
        let sidecar = try ImageSeriesSidecar.load(folder: folder)
        let slices = sortedSlices(files)
        guard !slices.isEmpty else {
            throw ImageSliceSeriesError(path: folder.path, reason: "no PNG or JPEG slices in the folder")
        }

        // The first slice fixes size, depth and format; the others are checked against it.
        let first = try decode(slices[0])
        let columns = first.image.width, rows = first.image.height
        guard columns > 0, rows > 0 else {
            throw ImageSliceSeriesError(path: slices[0].path, reason: "image has no pixels")
        }
        let sliceStride = columns * rows
        let (voxelCount, overflow) = sliceStride.multipliedReportingOverflow(by: slices.count)
        guard !overflow, voxelCount <= Int(Int32.max) * 4 else {
            throw ImageSliceSeriesError(path: folder.path,
                                        reason: "\(columns)x\(rows)x\(slices.count) voxels is too large a volume")
        }

        let slope = sidecar?.rescaleSlope ?? 1
        let intercept = sidecar?.rescaleIntercept ?? 0
        let padding = sidecar?.pixelPaddingValue
        let conversion = HUConversion(slope: slope, intercept: intercept, paddingStored: padding,
                                      signed: sidecar?.signedSamples ?? false)

        var voxels = [Float](repeating: 0, count: voxelCount)
        var outcomes = [SliceOutcome?](repeating: nil, count: slices.count)
        let workerCount = max(1, min(workers ?? ProcessInfo.processInfo.activeProcessorCount, slices.count))
        voxels.withUnsafeMutableBufferPointer { voxelBuffer in
            outcomes.withUnsafeMutableBufferPointer { outcomeBuffer in
                let voxelBase = voxelBuffer.baseAddress!
                // Each worker takes every workerCount-th slice; slices write disjoint slabs.
                DispatchQueue.concurrentPerform(iterations: workerCount) { worker in
                    for index in stride(from: worker, to: slices.count, by: workerCount) {
                        outcomeBuffer[index] = decodeSlice(
                            index: index, url: slices[index], first: index == 0 ? first : nil,
                            reference: first, referenceURL: slices[0], conversion: conversion,
                            into: UnsafeMutableBufferPointer(start: voxelBase + index * sliceStride, count: sliceStride))
                    }
                }
            }
        }

        var total = HUAccumulator()
        var colourSlices = 0, alphaSlices = 0
        for outcome in outcomes {
            switch outcome {
            case .success(let statistics, let wasColor, let hadAlpha)?:
                total.merge(statistics)
                if wasColor { colourSlices += 1 }
                if hadAlpha { alphaSlices += 1 }
            case .failure(let error)?:
                throw error
            case nil:
                throw ImageSliceSeriesError(path: folder.path, reason: "a slice was not decoded")
            }
        }

        var warnings: [String] = []
        let geometry = SliceGeometry(sidecar: sidecar)
        let spacing = geometry.spacing
        if let sidecar {
            if sidecar.columnSpacingMM == nil {
                warnings.append("\(ImageSeriesSidecar.fileName) gives no pixel_spacing_mm: 1 mm pixels assumed")
            }
            if sidecar.sliceSpacingMM == nil && sidecar.sliceStepMM == nil && slices.count > 1 {
                warnings.append("\(ImageSeriesSidecar.fileName) gives no slice_spacing_mm: 1 mm between slices assumed")
            }
            if sidecar.rescaleSlope == nil && sidecar.rescaleIntercept == nil {
                warnings.append("\(ImageSeriesSidecar.fileName) gives no rescale_slope/rescale_intercept: "
                                + "stored values taken as HU (slope 1, intercept 0)")
            }
        } else {
            warnings.append("no \(ImageSeriesSidecar.fileName) sidecar: 1 mm pixel and slice spacing assumed, "
                            + "stored values taken as HU (slope 1, intercept 0), axial orientation assumed")
        }
        if colourSlices > 0 {
            warnings.append("\(colourSlices) of \(slices.count) slice(s) were colour images: "
                            + "converted to luminance (ITU-R BT.601 weights 0.299 R + 0.587 G + 0.114 B)")
        }
        if alphaSlices > 0 {
            warnings.append("\(alphaSlices) of \(slices.count) slice(s) had an alpha channel: ignored")
        }

        let volume = Volume(columns: columns, rows: rows, slices: slices.count, voxels: voxels, spacing: spacing,
                            affine: geometry.affine)
        let statistics = HUStatistics(minHU: total.count > 0 ? total.minHU : 0,
                                      maxHU: total.count > 0 ? total.maxHU : 0,
                                      meanHU: total.meanHU ?? 0, voxelCount: total.count,
                                      paddingVoxelCount: total.paddingCount)
        return ImageSeries(kind: first.format == .png ? .png : .jpeg, identity: sidecar?.identity ?? SeriesIdentity(),
                           sourcePaths: slices.map(\.path), grouping: "folder", volume: volume,
                           orientation: SeriesGeometry.orientationLabel(normal: geometry.normal), warnings: warnings,
                           statistics: statistics)
    }

    /// The slice files in series order: `series.json` dropped, natural order of the file
    /// names, ties (e.g. the same name in two folders) broken by the full path.
    public static func sortedSlices(_ files: [URL]) -> [URL] {
        files.filter { $0.lastPathComponent != ImageSeriesSidecar.fileName }.sorted { a, b in
            let x = a.lastPathComponent, y = b.lastPathComponent
            if x != y { return naturalOrder(x, y) }
            return a.path < b.path
        }
    }

    /// Natural ("human") order of file names: runs of ASCII digits compare by numeric value
    /// (`slice2` < `slice10`, any length, leading zeros ignored), other characters compare
    /// case-insensitively one by one. Names equal under those rules (`1.png`, `01.png`,
    /// `A.png`, `a.png`) fall back to plain string order, so the order is total and stable.
    public static func naturalOrder(_ a: String, _ b: String) -> Bool {
        let primary = naturalCompare(Array(a.lowercased().unicodeScalars), Array(b.lowercased().unicodeScalars))
        if primary != 0 { return primary < 0 }
        return a < b
    }

    /// URL convenience: natural order of the last path components.
    public static func naturalOrder(_ a: URL, _ b: URL) -> Bool {
        naturalOrder(a.lastPathComponent, b.lastPathComponent)
    }

    // MARK: - Internals

    private static func isDigit(_ s: Unicode.Scalar) -> Bool { s.value >= 48 && s.value <= 57 }

    /// -1, 0 or 1, like strnatcasecmp.
    private static func naturalCompare(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        var i = 0, j = 0
        while i < a.count && j < b.count {
            if isDigit(a[i]) && isDigit(b[j]) {
                // Compare digit runs as numbers: skip leading zeros, then the longer run is
                // larger; equal lengths compare digit by digit.
                var iEnd = i, jEnd = j
                while iEnd < a.count && isDigit(a[iEnd]) { iEnd += 1 }
                while jEnd < b.count && isDigit(b[jEnd]) { jEnd += 1 }
                var iStart = i, jStart = j
                while iStart < iEnd - 1 && a[iStart] == "0" { iStart += 1 }
                while jStart < jEnd - 1 && b[jStart] == "0" { jStart += 1 }
                let iLength = iEnd - iStart, jLength = jEnd - jStart
                if iLength != jLength { return iLength < jLength ? -1 : 1 }
                for k in 0..<iLength where a[iStart + k] != b[jStart + k] {
                    return a[iStart + k].value < b[jStart + k].value ? -1 : 1
                }
                i = iEnd
                j = jEnd
            } else {
                if a[i] != b[j] { return a[i].value < b[j].value ? -1 : 1 }
                i += 1
                j += 1
            }
        }
        if i < a.count { return 1 }
        if j < b.count { return -1 }
        return 0
    }

    /// Spacing and voxel -> LPS affine from the sidecar (or the axial 1 mm default).
    struct SliceGeometry {
        var spacing: VoxelSpacing
        var affine: PatientAffine
        /// Unit normal of the slice planes (row direction x column direction).
        var normal: SIMD3<Double>

        init(sidecar: ImageSeriesSidecar?) {
            let cosines = sidecar?.imageOrientationPatient ?? [1, 0, 0, 0, 1, 0]
            let rowDirection = SIMD3(cosines[0], cosines[1], cosines[2])     // increasing column
            let columnDirection = SIMD3(cosines[3], cosines[4], cosines[5])  // increasing row
            normal = SeriesGeometry.sliceNormal(imageOrientation: cosines) ?? SIMD3(0, 0, 1)
            let step: SIMD3<Double>
            let sliceMM: Double
            if let given = sidecar?.sliceStepMM {
                step = given
                sliceMM = abs((given * normal).sum())
            } else {
                sliceMM = sidecar?.sliceSpacingMM ?? 1
                step = normal * sliceMM
            }
            spacing = VoxelSpacing(columnMM: sidecar?.columnSpacingMM ?? 1, rowMM: sidecar?.rowSpacingMM ?? 1,
                                   sliceMM: sliceMM)
            affine = PatientAffine(origin: sidecar?.imagePositionPatient ?? .zero,
                                   columnStep: rowDirection * spacing.columnMM,
                                   rowStep: columnDirection * spacing.rowMM,
                                   sliceStep: step)
        }
    }

    private struct DecodedSlice {
        var format: ImageFileFormat
        var image: GrayImage
    }

    private static func decode(_ url: URL) throws -> DecodedSlice {
        do {
            let (format, image) = try ImageDecoder.decode(contentsOf: url)
            return DecodedSlice(format: format, image: image)
        } catch let error as ImageCodecError {
            var withoutPath = error
            withoutPath.path = nil
            throw ImageSliceSeriesError(path: url.path, reason: withoutPath.description)
        }
    }

    /// Stored value -> HU, with padding.
    private struct HUConversion {
        var slope: Double
        var intercept: Double
        var paddingStored: Int?
        /// Reinterpret samples as two's complement at the image's bit depth.
        var signed: Bool
    }

    private enum SliceOutcome {
        case success(HUAccumulator, wasColor: Bool, hadAlpha: Bool)
        case failure(ImageSliceSeriesError)
    }

    private static func decodeSlice(index: Int, url: URL, first: DecodedSlice?, reference: DecodedSlice,
                                    referenceURL: URL,
                                    conversion: HUConversion, into out: UnsafeMutableBufferPointer<Float>) -> SliceOutcome {
        let slice: DecodedSlice
        do {
            slice = try first ?? decode(url)
        } catch let error as ImageSliceSeriesError {
            return .failure(error)
        } catch {
            return .failure(ImageSliceSeriesError(path: url.path, reason: "\(error)"))
        }
        let image = slice.image, expected = reference.image
        let firstName = "the first slice \(referenceURL.lastPathComponent)"
        guard image.width == expected.width, image.height == expected.height else {
            return .failure(ImageSliceSeriesError(
                path: url.path, reason: "slice is \(image.width)x\(image.height) but the series is "
                    + "\(expected.width)x\(expected.height) (\(firstName); all slices must have the same size)"))
        }
        guard image.bitDepth == expected.bitDepth else {
            return .failure(ImageSliceSeriesError(
                path: url.path, reason: "slice is \(image.bitDepth)-bit but \(firstName) is \(expected.bitDepth)-bit"))
        }
        guard slice.format == reference.format else {
            return .failure(ImageSliceSeriesError(
                path: url.path, reason: "slice is \(slice.format.rawValue.uppercased()) but \(firstName) is "
                    + "\(reference.format.rawValue.uppercased()) (one format per folder)"))
        }

        // Exact integer statistics of stored values, mapped through the linear rescale once.
        var minStored = Int64.max, maxStored = Int64.min, sumStored: Int64 = 0
        var count = 0, paddingCount = 0
        let slope = Float(conversion.slope), intercept = Float(conversion.intercept)
        // No padding: a value no sample can hold.
        let padding = conversion.paddingStored.map { Int64($0) } ?? Int64.min
        // Two's complement: subtract 2^bits from values at or above 2^(bits-1).
        let signBit: Int64 = conversion.signed ? (image.bitDepth == 16 ? 0x8000 : 0x80) : Int64.max
        let wrap: Int64 = image.bitDepth == 16 ? 0x10000 : 0x100
        image.samples.withUnsafeBufferPointer { samples in
            for i in 0..<samples.count {
                var stored = Int64(samples[i])
                if stored >= signBit { stored -= wrap }
                if stored == padding {
                    out[i] = -1024
                    paddingCount += 1
                } else {
                    out[i] = Float(stored) * slope + intercept
                    minStored = min(minStored, stored)
                    maxStored = max(maxStored, stored)
                    sumStored += stored
                    count += 1
                }
            }
        }
        var statistics = HUAccumulator()
        statistics.count = count
        statistics.paddingCount = paddingCount
        if count > 0 {
            let a = Double(minStored) * conversion.slope + conversion.intercept
            let b = Double(maxStored) * conversion.slope + conversion.intercept
            statistics.minHU = min(a, b)
            statistics.maxHU = max(a, b)
            statistics.sumHU = Double(sumStored) * conversion.slope + conversion.intercept * Double(count)
        }
        return .success(statistics, wasColor: image.wasColor, hadAlpha: image.hadAlpha)
    }
}
