import Foundation
import Profiling
import Logging
import DICOM
import Volumes

/// An input file that is not part of any series, and why.
public struct SkippedInput: Sendable, Codable, Equatable {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}

/// What `SeriesDiscovery.discover` found.
public struct DiscoveryResult: Sendable {
    /// Series in a stable order (by id).
    public var series: [SeriesDescriptor]
    public var skipped: [SkippedInput]
}

/// A series found by discovery: cheap to hold (headers only, no pixels). `load()` decodes it.
public struct SeriesDescriptor: Sendable {
    /// Stable, content-derived, filesystem-safe hex string (32 digits).
    public var id: String
    public var kind: SeriesSourceKind
    public var identity: SeriesIdentity
    /// Input files in sorted slice order.
    public var sourcePaths: [String]
    public var sliceCount: Int
    public var rows: Int
    public var columns: Int
    public var modality: String?
    /// "axial", "coronal", "sagittal", "oblique" (or "unknown" for image slices before loading).
    public var orientation: String
    public var seriesDescription: String?
    /// How the files were grouped (e.g. "SeriesInstanceUID").
    public var grouping: String
    /// Problems already known from the headers (gaps, duplicates, ...); `load()` repeats them.
    public var warnings: [String]

    let source: Source

    enum Source: Sendable {
        case dicom(DICOMSeriesPlan)
        case imageFolder(folder: URL, files: [URL])
    }

    /// Decodes the series into a HU volume. Errors name the file and the reason.
    /// A profiler span `decode.series` (`triage profile`) counts 2 bytes read and 4 written
    /// per voxel: 16-bit stored pixels into the Float32 HU volume.
    public func load() throws -> ImageSeries {
        let voxels = rows * columns * sliceCount
        return try Profiler.span("decode.series", voxels: voxels, bytesMoved: 6 * voxels) {
            switch source {
            case .dicom(let plan):
                return try plan.load(descriptor: self)
            case .imageFolder(let folder, let files):
                return try ImageSliceSeriesReader.read(folder: folder, files: files)
            }
        }
    }
}

/// Finds image series under files and folders.
public enum SeriesDiscovery {
    static let logger = Logger(label: "triage.input.discovery")

    /// Scans `paths` (files, or folders recursively; hidden files are ignored), reads DICOM
    /// headers only, groups DICOM files by Series Instance UID (then by image size and
    /// orientation), and groups PNG/JPEG files per folder. Files that are neither are
    /// listed in `skipped` with the reason.
    public static func discover(paths: [URL]) -> DiscoveryResult {
        var skipped: [SkippedInput] = []
        var files: [URL] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
                skipped.append(SkippedInput(path: path.path, reason: "no such file or folder"))
                continue
            }
            if isDirectory.boolValue {
                files += listFiles(under: path, skipped: &skipped)
            } else {
                files.append(path)
            }
        }
        // Deduplicate and fix the order so results do not depend on the file system.
        // (`URL.path` is not free on Linux: computed once per file.)
        var seen = Set<String>()
        files = files.map { url -> (url: URL, path: String) in
            let standard = url.standardizedFileURL
            return (standard, standard.path)
        }
        .filter { seen.insert($0.path).inserted }
        .sorted { $0.path < $1.path }
        .map(\.url)

        // Headers in parallel: each file is independent.
        var outcomes = [HeaderOutcome?](repeating: nil, count: files.count)
        outcomes.withUnsafeMutableBufferPointer { out in
            DispatchQueue.concurrentPerform(iterations: files.count) { i in
                out[i] = readHeader(files[i])
            }
        }

        var dicomHeaders: [DICOMSliceHeader] = []
        var imageFiles: [URL: [URL]] = [:]
        for (i, outcome) in outcomes.enumerated() {
            switch outcome {
            case .dicom(let h)?: dicomHeaders.append(h)
            case .image?: imageFiles[files[i].deletingLastPathComponent(), default: []].append(files[i])
            case .sidecar?: break
            case .skipped(let reason)?: skipped.append(SkippedInput(path: files[i].path, reason: reason))
            case nil: skipped.append(SkippedInput(path: files[i].path, reason: "not read"))
            }
        }

        var series = DICOMSeriesPlan.assemble(dicomHeaders, skipped: &skipped)
        for (folder, images) in imageFiles {
            series.append(imageDescriptor(folder: folder, files: images))
        }
        series.sort { $0.id < $1.id }
        for s in skipped { logger.info("skipped input", metadata: ["path": "\(s.path)", "reason": "\(s.reason)"]) }
        return DiscoveryResult(series: series, skipped: skipped.sorted { $0.path < $1.path })
    }

    /// Regular files under `folder`, recursively, without hidden files and folders.
    /// A POSIX walk (`readdir` file types, `stat` only when the type is unknown or a
    /// symbolic link): Foundation's enumerator with resource values cost more than reading
    /// the headers. Links are followed, to files and to folders (archives are often
    /// assembled from links); a folder already walked (same device and inode) is not walked
    /// again, so a link cycle ends.
    private static func listFiles(under folder: URL, skipped: inout [SkippedInput]) -> [URL] {
        var out: [URL] = []
        var pending = [folder.path]
        var walked = Set<FolderIdentity>()
        while let directory = pending.popLast() {
            var folderInfo = stat()
            if stat(directory, &folderInfo) == 0 {
                guard walked.insert(FolderIdentity(device: UInt64(folderInfo.st_dev), inode: UInt64(folderInfo.st_ino)))
                    .inserted else { continue }
            }
            guard let stream = opendir(directory) else {
                skipped.append(SkippedInput(path: directory, reason: "folder cannot be listed"))
                continue
            }
            defer { closedir(stream) }
            let prefix = directory.hasSuffix("/") ? directory : directory + "/"
            while let entry = readdir(stream) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name.hasPrefix(".") { continue }  // ".", ".." and hidden entries
                let path = prefix + name
                var type = Int32(entry.pointee.d_type)
                if type == Int32(DT_UNKNOWN) || type == Int32(DT_LNK) {
                    var info = stat()
                    let followed = type == Int32(DT_LNK)
                    guard (followed ? stat(path, &info) : lstat(path, &info)) == 0 else {
                        if followed { skipped.append(SkippedInput(path: path, reason: "link to nothing (broken link)")) }
                        continue
                    }
                    let mode = info.st_mode & S_IFMT
                    if mode == S_IFREG { type = Int32(DT_REG) }
                    else if mode == S_IFDIR { type = Int32(DT_DIR) }
                    else { continue }
                }
                if type == Int32(DT_DIR) {
                    pending.append(path)
                } else if type == Int32(DT_REG) {
                    out.append(URL(fileURLWithPath: path, isDirectory: false))
                }
            }
        }
        return out
    }

    /// A folder's identity on disk, so a link back to a folder already walked is not walked again.
    private struct FolderIdentity: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    enum HeaderOutcome {
        case dicom(DICOMSliceHeader)
        case image
        case sidecar
        case skipped(String)
    }

    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

    private static func readHeader(_ url: URL) -> HeaderOutcome {
        let ext = url.pathExtension.lowercased()
        if url.lastPathComponent == "series.json" { return .sidecar }
        do {
            let file = try DICOMFile.read(contentsOf: url, headersOnly: true)
            guard file.hasPixelData else {
                return .skipped("DICOM without Pixel Data (\(file.dataSet.string(.sopClassUID) ?? "no SOP Class"))")
            }
            return .dicom(try DICOMSliceHeader(file: file, url: url))
        } catch let error as DICOMError {
            if imageExtensions.contains(ext), case .notDICOM = error.reason { return .image }
            return .skipped(error.message)
        } catch {
            return .skipped("\(error)")
        }
    }

    private static func imageDescriptor(folder: URL, files: [URL]) -> SeriesDescriptor {
        let sorted = ImageSliceSeriesReader.sortedSlices(files)
        // The sidecar is small; a bad one is reported when the series is loaded.
        let sidecar = try? ImageSeriesSidecar.load(folder: folder)
        let identity = (sidecar ?? nil)?.identity ?? SeriesIdentity()
        let sizes = sorted.map { (try? FileManager.default.attributesOfItem(atPath: $0.path)[.size] as? Int) ?? 0 }
        let id = ContentHash.hex(["image-folder"] + zip(sorted, sizes).map { "\($0.0.lastPathComponent):\($0.1)" })
        let kind: SeriesSourceKind = sorted.allSatisfy { $0.pathExtension.lowercased() == "png" } ? .png : .jpeg
        var rows = 0, columns = 0
        if let first = sorted.first, let size = ImageFolderBridge.imageSize(first) {
            columns = size.width
            rows = size.height
        }
        return SeriesDescriptor(id: id, kind: kind, identity: identity, sourcePaths: sorted.map(\.path),
                                sliceCount: sorted.count, rows: rows, columns: columns, modality: identity.modality,
                                orientation: "unknown", seriesDescription: identity.seriesDescription,
                                grouping: "folder",
                                warnings: [], source: .imageFolder(folder: folder, files: sorted))
    }
}
