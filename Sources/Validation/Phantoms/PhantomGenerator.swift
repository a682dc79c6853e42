import Foundation
import Kernels
import Volumes

/// Makes N phantom cases from a seed and writes them with `truth.json`.
///
/// Seeds: 1000-1999 are DEVELOPMENT seeds (tuning, training); 9000-9099 are EVALUATION
/// seeds, never used for tuning (see docs/phantoms.md).
public struct PhantomGenerator {
    /// The generator's name in truth.json for the default anatomy (revision 3).
    public static let generatorName = "triage-phantom 3"
    /// The generator's name for `options` (`triage-phantom 4` with anatomy revision 4).
    public static func generatorName(for options: PhantomOptions) -> String {
        options.anatomyRevision == 4 ? "triage-phantom 4" : generatorName
    }
    public var options: PhantomOptions
    public var seed: UInt64
    public var context: KernelContext

    public init(options: PhantomOptions, seed: UInt64, context: KernelContext = .default) {
        self.options = options
        self.seed = seed
        self.context = context
    }

    /// Case `index` of this seed (its plan, before rendering).
    public func plan(case index: Int) -> PhantomCase { PhantomCase(seed: seed, index: index, options: options) }

    /// Case `index` rendered to HU (generation order, most inferior slice first).
    public func render(case index: Int) -> (phantom: PhantomCase, volume: Volume) {
        let p = plan(case: index)
        return (p, PhantomRenderer(p).render(context: context))
    }

    /// Writes `count` cases under `directory` (case-000/, ...; with `pngCopies` also
    /// case-000-png/, with `jpegCopies` case-000-jpeg/) and `truth.json`; returns the truth. `progress` is told each case id.
    @discardableResult
    public func write(cases count: Int, to directory: URL, progress: ((String) -> Void)? = nil) throws -> PhantomTruth {
        try options.validate()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var truth = PhantomTruth(seed: seed, generator: Self.generatorName(for: options), options: options, cases: [])
        for i in 0..<count {
            let (p, volume) = render(case: i)
            try PhantomSeriesWriter.writeDICOM(volume, phantom: p, folder: directory.appendingPathComponent(p.caseID))
            truth.cases.append(PhantomTruth.entry(for: p, folder: p.caseID, format: "dicom"))
            if options.pngCopies {
                let uid = p.identity.seriesInstanceUID + ".2"
                let folder = p.caseID + "-png"
                try PhantomSeriesWriter.writeImageSeries(volume, phantom: p, seriesInstanceUID: uid,
                                                         folder: directory.appendingPathComponent(folder))
                truth.cases.append(PhantomTruth.entry(for: p, folder: folder, format: "png", seriesInstanceUID: uid))
            }
            if options.jpegCopies {
                let uid = p.identity.seriesInstanceUID + ".3"
                let folder = p.caseID + "-jpeg"
                try PhantomSeriesWriter.writeImageSeries(volume, phantom: p, seriesInstanceUID: uid,
                                                         folder: directory.appendingPathComponent(folder), jpeg: true)
                truth.cases.append(PhantomTruth.entry(for: p, folder: folder, format: "jpeg", seriesInstanceUID: uid))
            }
            progress?(p.caseID)
        }
        try Self.writeTruth(truth, to: directory.appendingPathComponent("truth.json"))
        return truth
    }

    public static func writeTruth(_ truth: PhantomTruth, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".truth.json.tmp")
        try encoder.encode(truth).write(to: tmp)
        if FileManager.default.fileExists(atPath: url.path) {
            _ = try FileManager.default.replaceItemAt(url, withItemAt: tmp)
        } else {
            try FileManager.default.moveItem(at: tmp, to: url)
        }
    }
}
