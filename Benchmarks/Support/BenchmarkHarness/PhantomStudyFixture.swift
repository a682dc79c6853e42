// Inputs for the decode, detection and full-study suites: one generated chest-CT phantom study
// (DICOM series plus PNG and JPEG copies of the same slices), made once per machine and reused
// by every benchmark process (ordo-one runs each benchmark in its own process).
import Foundation
import Phantoms

/// One phantom study on disk: the DICOM series folder and its PNG / JPEG copies.
public struct PhantomStudy: Sendable {
    /// Folder that holds `truth.json` and the series folders.
    public let root: URL
    /// DICOM series (`case-000/`).
    public let dicomFolder: URL
    /// 16-bit PNG slices + `series.json` (`case-000-png/`), nil when a given folder has none.
    public let pngFolder: URL?
    /// 8-bit JPEG slices (lung window) + `series.json` (`case-000-jpeg/`), nil when absent.
    public let jpegFolder: URL?
}

/// Where the benchmark study comes from, and how it is made.
///
/// - `TRIAGE_BENCH_PHANTOM=DIR`: use an existing `triage phantom DIR --png --jpeg` output
///   (its `case-000*` folders); nothing is written there.
/// - Otherwise the study is generated with the project's own `PhantomGenerator` (evaluation
///   seed 9000, one case, `--clean-fraction 0`: the same study `Benchmarks/compare_all.py`
///   times) into `TRIAGE_BENCH_CACHE` (default `$TMPDIR/triage-bench`), under a name that
///   holds the options, written to a temporary folder first and renamed when complete, so a
///   killed run never leaves a half study behind that a later run would trust.
/// - `TRIAGE_BENCH_SIZE` / `TRIAGE_BENCH_SLICES` (default 512 / 300) pick a smaller study for a
///   smoke run, with `TRIAGE_BENCH_PIXEL_SPACING_MM` / `TRIAGE_BENCH_SLICE_SPACING_MM` (default:
///   the generator's choice); quote figures only at the default size.
public enum PhantomStudyFixture {
    public static let seed: UInt64 = 9000

    public static var size: Int { environmentInt("TRIAGE_BENCH_SIZE") ?? 512 }
    public static var slices: Int { environmentInt("TRIAGE_BENCH_SLICES") ?? 300 }
    public static var pixelSpacingMM: Double? { environmentDouble("TRIAGE_BENCH_PIXEL_SPACING_MM") }
    public static var sliceSpacingMM: Double? { environmentDouble("TRIAGE_BENCH_SLICE_SPACING_MM") }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cached: PhantomStudy?

    /// The study, generating it on first use (about a minute of CPU at 512x512x300).
    public static func study() throws -> PhantomStudy {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        let study = try locateOrGenerate()
        cached = study
        return study
    }

    private static func locateOrGenerate() throws -> PhantomStudy {
        let fm = FileManager.default
        if let given = ProcessInfo.processInfo.environment["TRIAGE_BENCH_PHANTOM"], !given.isEmpty {
            let root = URL(fileURLWithPath: given)
            let dicom = root.appendingPathComponent("case-000")
            guard fm.fileExists(atPath: dicom.path) else {
                throw FixtureError("TRIAGE_BENCH_PHANTOM=\(given): no case-000/ series folder in it "
                                   + "(make one with `triage phantom DIR --cases 1 --png --jpeg`)")
            }
            return describe(root: root)
        }
        let cacheRoot = URL(fileURLWithPath: ProcessInfo.processInfo.environment["TRIAGE_BENCH_CACHE"]
                            ?? (NSTemporaryDirectory() + "triage-bench"))
        var name = "phantom-seed\(seed)-\(size)x\(size)x\(slices)"
        if let p = pixelSpacingMM { name += "-px\(p)" }
        if let s = sliceSpacingMM { name += "-sl\(s)" }
        name += "-v1"
        let root = cacheRoot.appendingPathComponent(name)
        if fm.fileExists(atPath: root.appendingPathComponent("truth.json").path) {
            return describe(root: root)
        }
        try fm.createDirectory(at: cacheRoot, withIntermediateDirectories: true)
        let partial = cacheRoot.appendingPathComponent(".\(name).partial-\(getpid())")
        try? fm.removeItem(at: partial)
        var options = PhantomOptions()
        options.size = size
        options.slices = slices
        options.pixelSpacingMM = pixelSpacingMM
        options.sliceSpacingMM = sliceSpacingMM
        options.cleanFraction = 0
        options.pngCopies = true
        options.jpegCopies = true
        let started = Date()
        FileHandle.standardError.write(Data("benchmark setup: generating phantom study \(name) in \(cacheRoot.path) ...\n".utf8))
        try PhantomGenerator(options: options, seed: seed).write(cases: 1, to: partial)
        if fm.fileExists(atPath: root.path) { try fm.removeItem(at: root) }
        try fm.moveItem(at: partial, to: root)
        FileHandle.standardError.write(Data(String(format: "benchmark setup: phantom study ready (%.0f s)\n",
                                                   Date().timeIntervalSince(started)).utf8))
        return describe(root: root)
    }

    private static func describe(root: URL) -> PhantomStudy {
        let fm = FileManager.default
        func folder(_ name: String) -> URL? {
            let url = root.appendingPathComponent(name)
            return fm.fileExists(atPath: url.path) ? url : nil
        }
        return PhantomStudy(root: root, dicomFolder: root.appendingPathComponent("case-000"),
                            pngFolder: folder("case-000-png"), jpegFolder: folder("case-000-jpeg"))
    }

    static func environmentInt(_ name: String) -> Int? {
        ProcessInfo.processInfo.environment[name].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
    }

    static func environmentDouble(_ name: String) -> Double? {
        ProcessInfo.processInfo.environment[name].flatMap { Double($0) }.flatMap { $0 > 0 ? $0 : nil }
    }
}

/// A benchmark input that cannot be found or made; the message names the path and the reason.
public struct FixtureError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Files of a slice folder in natural order, without the `series.json` sidecar.
public func sliceFiles(in folder: URL, extension ext: String) throws -> [URL] {
    try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
        .filter { $0.pathExtension.lowercased() == ext }
        .sorted { $0.lastPathComponent.localizedStandardCompare($1.lastPathComponent) == .orderedAscending }
}

/// Total size in bytes of `files` (the bytes a decode benchmark reads).
public func totalBytes(of files: [URL]) -> Int {
    files.reduce(0) { sum, url in
        sum + ((try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0)
    }
}

/// Everything under `folder`, recursively (DICOM series folders hold only slice files).
public func regularFiles(under folder: URL) -> [URL] {
    guard let e = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
    return e.compactMap { $0 as? URL }.filter {
        (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true
    }
}
