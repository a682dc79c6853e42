import Foundation
import DICOM
import Volumes

/// What series assembly needs from one DICOM file's header.
struct DICOMSliceHeader: Sendable {
    var url: URL
    var identity: SeriesIdentity
    var sopInstanceUID: String?
    var rows: Int
    var columns: Int
    var frames: Int
    var instanceNumber: Int?
    var imagePosition: SIMD3<Double>?
    var imageOrientation: [Double]?
    /// Pixel Spacing in DICOM order: (between rows, between columns), mm.
    var pixelSpacing: (row: Double, column: Double)?
    var sliceThickness: Double?
    var spacingBetweenSlices: Double?
    /// Per-frame positions of an enhanced multi-frame file.
    var framePositions: [SIMD3<Double>]?
    var transferSyntaxUID: String

    init(file: DICOMFile, url: URL) throws {
        let ds = file.dataSet
        let pixels = try file.pixelDescription()
        self.url = url
        identity = SeriesIdentity(
            patientID: ds.string(.patientID), patientName: ds.string(.patientName),
            studyInstanceUID: ds.string(.studyInstanceUID), seriesInstanceUID: ds.string(.seriesInstanceUID),
            accessionNumber: ds.string(.accessionNumber), studyDate: ds.string(.studyDate),
            modality: ds.string(.modality), seriesDescription: ds.string(.seriesDescription),
            seriesNumber: ds.int(.seriesNumber))
        sopInstanceUID = ds.string(.sopInstanceUID) ?? file.meta.string(.mediaStorageSOPInstanceUID)
        rows = pixels.rows
        columns = pixels.columns
        frames = pixels.numberOfFrames
        instanceNumber = ds.int(.instanceNumber)
        transferSyntaxUID = file.transferSyntax.uid

        // Enhanced multi-frame: geometry lives in the functional group sequences.
        let shared = ds.sequence(.sharedFunctionalGroupsSequence)?.first
        let perFrame = ds.sequence(.perFrameFunctionalGroupsSequence)
        func fromGroups(_ tag: DICOMTag, _ sequence: DICOMTag) -> [Double] {
            let top = ds.numbers(tag)
            if !top.isEmpty { return top }
            if let v = shared?.sequence(sequence)?.first?.numbers(tag), !v.isEmpty { return v }
            return perFrame?.first?.sequence(sequence)?.first?.numbers(tag) ?? []
        }
        let ipp = fromGroups(.imagePositionPatient, .planePositionSequence)
        imagePosition = ipp.count >= 3 ? SIMD3(ipp[0], ipp[1], ipp[2]) : nil
        let iop = fromGroups(.imageOrientationPatient, .planeOrientationSequence)
        imageOrientation = iop.count >= 6 ? Array(iop.prefix(6)) : nil
        let ps = fromGroups(.pixelSpacing, .pixelMeasuresSequence)
        pixelSpacing = ps.count >= 2 && ps[0] > 0 && ps[1] > 0 ? (ps[0], ps[1]) : nil
        let thickness = fromGroups(.sliceThickness, .pixelMeasuresSequence).first
        sliceThickness = thickness.flatMap { $0 > 0 ? $0 : nil }
        let between = fromGroups(.spacingBetweenSlices, .pixelMeasuresSequence).first
        spacingBetweenSlices = between.flatMap { $0 != 0 ? abs($0) : nil }
        if let perFrame, perFrame.count == frames, frames > 1 {
            let positions = perFrame.compactMap { item -> SIMD3<Double>? in
                let v = item.sequence(.planePositionSequence)?.first?.numbers(.imagePositionPatient) ?? []
                return v.count >= 3 ? SIMD3(v[0], v[1], v[2]) : nil
            }
            framePositions = positions.count == frames ? positions : nil
        }
    }
}

/// One slice of an assembled series: a file and the frame within it.
struct PlannedSlice: Sendable {
    var url: URL
    var frame: Int
}

/// A sorted, checked DICOM series ready to decode.
struct DICOMSeriesPlan: Sendable {
    var slices: [PlannedSlice]
    var rows: Int
    var columns: Int
    var spacing: VoxelSpacing
    var affine: PatientAffine
    var orientation: String
    var warnings: [String]
    var identity: SeriesIdentity
    var grouping: String

    /// Groups headers into series and plans each (sort, spacing, affine).
    static func assemble(_ headers: [DICOMSliceHeader], skipped: inout [SkippedInput]) -> [SeriesDescriptor] {
        var byUID: [String: [DICOMSliceHeader]] = [:]
        var order: [String] = []
        for h in headers {
            let key = h.identity.seriesInstanceUID.map { "uid:" + $0 } ?? "folder:" + h.url.deletingLastPathComponent().path
            if byUID[key] == nil { order.append(key) }
            byUID[key, default: []].append(h)
        }
        var result: [SeriesDescriptor] = []
        for key in order {
            let group = byUID[key]!
            let hasUID = key.hasPrefix("uid:")
            // Multi-frame files are series of their own.
            for h in group where h.frames > 1 {
                result.append(plan([h], grouping: "multi-frame file", noUID: !hasUID).descriptor())
            }
            // Split single frames by size and orientation (localizers often share the UID).
            var subgroups: [String: [DICOMSliceHeader]] = [:]
            var subOrder: [String] = []
            for h in group where h.frames == 1 {
                // Cosines to 3 decimals (thousandths as integers: `String(format:)` per value
                // was a measurable share of discovering a 300-slice series).
                let o = h.imageOrientation.map { $0.map(Self.thousandths).joined(separator: ",") } ?? "-"
                let k = "\(h.columns)x\(h.rows)|\(o)"
                if subgroups[k] == nil { subOrder.append(k) }
                subgroups[k, default: []].append(h)
            }
            let split = subgroups.count > 1
            for k in subOrder {
                var grouping = hasUID ? "SeriesInstanceUID" : "folder (no Series Instance UID)"
                if split { grouping += " + image size and orientation" }
                result.append(plan(subgroups[k]!, grouping: grouping, noUID: !hasUID).descriptor())
            }
        }
        return result
    }

    /// A direction cosine to 3 decimals as text (hostile headers can hold any finite value).
    static func thousandths(_ x: Double) -> String {
        let v = (x * 1000).rounded()
        return abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }

    /// Sorts slices along the normal, drops duplicates, measures spacing and builds the affine.
    static func plan(_ input: [DICOMSliceHeader], grouping: String, noUID: Bool) -> DICOMSeriesPlan {
        var warnings: [String] = []
        if noUID { warnings.append("no Series Instance UID: files grouped by folder") }
        var headers = input
        // The same SOP instance twice (copied file): keep one.
        var seenSOP = Set<String>()
        let before = headers.count
        headers = headers.filter { h in h.sopInstanceUID.map { seenSOP.insert($0).inserted } ?? true }
        if headers.count < before {
            warnings.append("\(before - headers.count) file(s) with a repeated SOP Instance UID dropped")
        }
        let first = headers[0]
        let rows = first.rows, columns = first.columns
        var spacingRow = 1.0, spacingColumn = 1.0
        if let ps = first.pixelSpacing {
            spacingRow = ps.row
            spacingColumn = ps.column
        } else {
            warnings.append("no Pixel Spacing: 1 mm assumed in-plane")
        }
        let iop = first.imageOrientation ?? [1, 0, 0, 0, 1, 0]
        var normal = SeriesGeometry.sliceNormal(imageOrientation: iop)
        if normal == nil {
            warnings.append("no usable Image Orientation (Patient): axial orientation assumed")
            normal = SIMD3(0, 0, 1)
        }
        let n = normal!
        let rowCosines = SIMD3(iop[0], iop[1], iop[2]), columnCosines = SIMD3(iop[3], iop[4], iop[5])

        // Slices: (file, frame, position along the normal, position).
        struct Entry { var url: URL; var frame: Int; var position: SIMD3<Double>?; var instance: Int? }
        var entries: [Entry] = []
        if headers.count == 1 && first.frames > 1 {
            for f in 0..<first.frames {
                entries.append(Entry(url: first.url, frame: f, position: first.framePositions?[f], instance: f))
            }
        } else {
            entries = headers.map { Entry(url: $0.url, frame: 0, position: $0.imagePosition, instance: $0.instanceNumber) }
        }

        let positioned = entries.allSatisfy { $0.position != nil }
        var distances: [Double]
        if positioned {
            entries.sort {
                let a = SeriesGeometry.dot($0.position!, n), b = SeriesGeometry.dot($1.position!, n)
                return a != b ? a < b : $0.url.path < $1.url.path
            }
            distances = entries.map { SeriesGeometry.dot($0.position!, n) }
            // Duplicates: the same plane twice (within 1 micrometre... 0.01 mm).
            var kept: [Entry] = [], keptD: [Double] = []
            var duplicates = 0
            for (e, d) in zip(entries, distances) {
                if let last = keptD.last, abs(d - last) < 0.01 { duplicates += 1; continue }
                kept.append(e)
                keptD.append(d)
            }
            if duplicates > 0 { warnings.append("\(duplicates) duplicate slice position(s) dropped") }
            entries = kept
            distances = keptD
        } else {
            if first.frames > 1 {
                warnings.append("no per-frame positions: frames kept in stored order")
            } else if entries.count > 1 {
                warnings.append("no Image Position (Patient): slices ordered by Instance Number")
            } else if first.imagePosition == nil {
                warnings.append("no Image Position (Patient): origin at 0")
            }
            entries.sort { ($0.instance ?? 0, $0.url.path, $0.frame) < ($1.instance ?? 0, $1.url.path, $1.frame) }
            distances = []
        }

        // Slice spacing from positions; the step vector keeps any gantry tilt.
        let origin = entries[0].position ?? first.imagePosition ?? SIMD3(0, 0, 0)
        var sliceMM: Double
        var sliceStep: SIMD3<Double>
        if positioned && entries.count > 1 {
            let deltas = zip(distances.dropFirst(), distances).map { $0 - $1 }
            let median = deltas.sorted()[deltas.count / 2]
            sliceMM = median
            let span = entries.last!.position! - entries[0].position!
            let along = distances.last! - distances[0]
            sliceStep = span / along * median
            let tolerance = max(0.01 * median, 0.001)
            if let lo = deltas.min(), let hi = deltas.max(), hi - lo > tolerance {
                warnings.append(String(format: "non-uniform slice spacing: %.3f to %.3f mm (median %.3f mm used)",
                                       lo, hi, median))
            }
            for (i, d) in deltas.enumerated() where d > 1.5 * median {
                let missing = Int((d / median).rounded()) - 1
                warnings.append(String(format: "gap of %.3f mm between slices %d and %d (about %d missing)",
                                       d, i, i + 1, missing))
            }
            let tilt = SeriesGeometry.norm(sliceStep - n * median)
            if tilt > 0.001 * median {
                warnings.append(String(format: "slices are sheared (gantry tilt %.2f degrees); the affine keeps it",
                                       atan2(tilt, median) * 180 / .pi))
            }
        } else {
            if let s = first.spacingBetweenSlices ?? first.sliceThickness {
                sliceMM = s
                if !positioned || entries.count == 1 {
                    warnings.append(String(format: "slice spacing taken from %@ (%.3f mm)",
                                           first.spacingBetweenSlices != nil ? "Spacing Between Slices"
                                                                              : "Slice Thickness", s))
                }
            } else {
                sliceMM = 1
                warnings.append("slice spacing unknown: 1 mm assumed")
            }
            sliceStep = n * sliceMM
        }
        let affine = PatientAffine(origin: origin, columnStep: rowCosines * spacingColumn,
                                   rowStep: columnCosines * spacingRow, sliceStep: sliceStep)
        return DICOMSeriesPlan(
            slices: entries.map { PlannedSlice(url: $0.url, frame: $0.frame) }, rows: rows, columns: columns,
            spacing: VoxelSpacing(columnMM: spacingColumn, rowMM: spacingRow, sliceMM: sliceMM), affine: affine,
            orientation: SeriesGeometry.orientationLabel(normal: n), warnings: warnings, identity: first.identity,
            grouping: grouping)
    }

    func descriptor() -> SeriesDescriptor {
        // Content-derived id: the series UID and each slice's SOP instance or file name and frame,
        // hashed, so no raw DICOM value reaches a path.
        var parts = ["dicom", identity.seriesInstanceUID ?? "", grouping, "\(columns)x\(rows)"]
        parts += slices.map { "\($0.url.lastPathComponent)#\($0.frame)" }
        let id = ContentHash.hex(parts)
        var paths: [String] = []
        for s in slices where paths.last != s.url.path { paths.append(s.url.path) }
        return SeriesDescriptor(id: id, kind: .dicom, identity: identity, sourcePaths: paths, sliceCount: slices.count,
                                rows: rows, columns: columns, modality: identity.modality, orientation: orientation,
                                seriesDescription: identity.seriesDescription, grouping: grouping, warnings: warnings,
                                source: .dicom(self))
    }

    /// Decodes every slice in parallel straight into the final volume.
    func load(descriptor: SeriesDescriptor) throws -> ImageSeries {
        let sliceVoxels = rows * columns
        let count = slices.count
        var results = [Result<(HUAccumulator, Bool), DICOMError>?](repeating: nil, count: count)
        // Files are read once each (a multi-frame file decodes all its frames in one task).
        var fileTasks: [(url: URL, items: [(slice: Int, frame: Int)])] = []
        var taskIndex: [String: Int] = [:]
        for (i, s) in slices.enumerated() {
            let path = s.url.path
            if let t = taskIndex[path] { fileTasks[t].items.append((i, s.frame)) } else {
                taskIndex[path] = fileTasks.count
                fileTasks.append((s.url, [(i, s.frame)]))
            }
        }
        let rows = self.rows, columns = self.columns
        // One reader (and read buffer) per worker; workers take the next file from a shared
        // counter, so a slow file (page faults, a compressed slice) does not idle the others.
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, fileTasks.count))
        let nextTask = TaskCounter()
        // Every voxel is written by its slice's decode (or the load throws), so the volume
        // is not zero-filled first: that pass alone touched 315 MB for 300x512x512.
        let voxels = [Float](unsafeUninitializedCapacity: sliceVoxels * count) { volume, initialized in
            // Huge pages for the volume while the kernel provides them quickly (VolumePages).
            let pages = VolumePages(start: UnsafeMutableRawPointer(volume.baseAddress),
                                    bytes: volume.count * MemoryLayout<Float>.stride)
            results.withUnsafeMutableBufferPointer { out in
                DispatchQueue.concurrentPerform(iterations: workers) { _ in
                    let reader = DICOMSliceReader()
                    while let t = nextTask.take(below: fileTasks.count) {
                        let task = fileTasks[t]
                        func slab(_ slice: Int) -> UnsafeMutableBufferPointer<Float> {
                            let slab = UnsafeMutableBufferPointer(
                                rebasing: volume[(slice * sliceVoxels)..<((slice + 1) * sliceVoxels)])
                            pages.prepare(start: UnsafeMutableRawPointer(slab.baseAddress!),
                                          bytes: sliceVoxels * MemoryLayout<Float>.stride)
                            return slab
                        }
                        do {
                            if task.items.count == 1, task.items[0].frame == 0 {
                                // A single-frame file (every slice of a CT series): streamed.
                                let slice = try reader.readHU(contentsOf: task.url, rows: rows, columns: columns,
                                                              into: slab(task.items[0].slice))
                                out[task.items[0].slice] = .success((slice.statistics, slice.transform.isAssumed))
                                continue
                            }
                            let file = try DICOMFile.read(contentsOf: task.url)
                            let pixels = try file.pixelDescription()
                            guard pixels.rows == rows, pixels.columns == columns else {
                                throw DICOMError(.malformed(
                                    "image is \(pixels.columns)x\(pixels.rows), the series is \(columns)x\(rows)"),
                                    path: task.url.path)
                            }
                            let transform = try file.modalityTransform()
                            for item in task.items {
                                let stats = try file.decodeFrameHU(item.frame, transform: transform, into: slab(item.slice))
                                out[item.slice] = .success((stats, transform.isAssumed))
                            }
                        } catch let error as DICOMError {
                            for item in task.items { out[item.slice] = .failure(error.at(task.url.path)) }
                        } catch {
                            for item in task.items {
                                out[item.slice] = .failure(DICOMError(.io("\(error)"), path: task.url.path))
                            }
                        }
                    }
                }
            }
            initialized = sliceVoxels * count
        }
        var total = HUAccumulator()
        var assumedRescale = 0
        for r in results {
            switch r {
            case .success(let (stats, assumed))?:
                total.merge(stats)
                if assumed { assumedRescale += 1 }
            case .failure(let error)?: throw error
            case nil: throw DICOMError(.io("slice was not decoded"))
            }
        }
        var warnings = self.warnings
        if assumedRescale > 0 {
            warnings.append("\(assumedRescale) slice(s) without Rescale Slope/Intercept: 1 and 0 assumed")
        }
        let statistics = HUStatistics(
            minHU: total.count > 0 ? total.minHU : 0, maxHU: total.count > 0 ? total.maxHU : 0,
            meanHU: total.meanHU ?? 0, voxelCount: total.count, paddingVoxelCount: total.paddingCount)
        let volume = Volume(columns: columns, rows: rows, slices: count, voxels: voxels, spacing: spacing,
                            affine: affine)
        return ImageSeries(kind: .dicom, identity: identity, sourcePaths: descriptor.sourcePaths, grouping: grouping,
                           volume: volume, orientation: orientation, warnings: warnings, statistics: statistics)
    }
}


/// Hands out task indices 0, 1, 2, ... to concurrent workers.
final class TaskCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0

    /// The next index below `limit`, or nil when all are taken.
    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < limit else { return nil }
        next += 1
        return next - 1
    }
}
