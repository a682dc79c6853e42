import ArgumentParser
import Foundation
import SeriesInput
import Volumes

/// `triage inspect PATH... [--json]`: finds every image series under the paths, decodes it,
/// and prints how it was grouped, its identifiers, geometry, warnings and HU statistics.
/// The JSON form (schema "triage.inspect.v1") is documented in docs/input.md.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List the image series under the given files and folders, with geometry and HU statistics.",
        discussion: "Exit code 0 when every series decoded, 1 when one or more failed, 2 when no series was found.")

    @Argument(help: "DICOM files, PNG/JPEG slices, or folders (scanned recursively).")
    var paths: [String]

    @Flag(name: .long, help: "Print one JSON document (schema triage.inspect.v1) instead of text.")
    var json = false

    /// See `run()`: never released, the process exits right after.
    nonisolated(unsafe) private static var keptUntilExit: ImageSeries?

    func run() throws {
        let discovery = SeriesDiscovery.discover(paths: paths.map { URL(fileURLWithPath: $0) })
        var reports: [InspectReport.Series] = []
        // The last decoded series is kept until the process ends: freeing a 300 MB volume
        // just before exiting cost ~5 % of the whole command, and the kernel releases it at
        // exit anyway. Earlier series are freed as the next one loads, so memory stays at
        // one volume however many series there are.
        var lastLoaded: ImageSeries?
        for descriptor in discovery.series {
            do {
                lastLoaded = nil
                let series = try descriptor.load()
                reports.append(.init(descriptor: descriptor, series: series))
                lastLoaded = series
            } catch {
                reports.append(.init(descriptor: descriptor, error: "\(error)"))
            }
        }
        let report = InspectReport(series: reports,
                                   skipped: discovery.skipped.map { .init(path: $0.path, reason: $0.reason) })
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(report)
            FileHandle.standardOutput.write(data)
            FileHandle.standardOutput.write(Data("\n".utf8))
        } else {
            print(report.text())
        }
        Self.keptUntilExit = lastLoaded
        if reports.contains(where: { $0.status != "ok" }) { throw ExitCode(1) }
        if reports.isEmpty { throw ExitCode(2) }
    }
}

/// The `triage inspect --json` document.
struct InspectReport: Encodable {
    var schema = "triage.inspect.v1"
    var series: [Series]
    var skipped: [Skipped]

    struct Skipped: Encodable {
        var path: String
        var reason: String
    }

    struct Identifiers: Encodable {
        var patient_id: String?
        var patient_name: String?
        var study_instance_uid: String?
        var series_instance_uid: String?
        var accession_number: String?
        var study_date: String?
        var series_number: Int?
        var series_description: String?
    }

    struct Size: Encodable {
        var columns: Int
        var rows: Int
        var slices: Int
    }

    struct Spacing: Encodable {
        var column: Double
        var row: Double
        var slice: Double
    }

    struct Statistics: Encodable {
        var min: Double
        var max: Double
        var mean: Double
        var voxels: Int
        var padding_voxels: Int
    }

    struct Series: Encodable {
        var id: String
        var status: String
        var error: String?
        var kind: String
        var grouping: String
        var modality: String?
        var identifiers: Identifiers
        var size: Size
        var spacing_mm: Spacing?
        var orientation: String
        var affine: [[Double]]?
        var warnings: [String]
        var hu_statistics: Statistics?
        var source_paths: [String]

        init(descriptor d: SeriesDescriptor, series: ImageSeries? = nil, error: String? = nil) {
            let identity = series?.identity ?? d.identity
            id = d.id
            status = series == nil ? "failed" : "ok"
            self.error = error
            kind = d.kind.rawValue
            grouping = series?.grouping ?? d.grouping
            modality = identity.modality
            identifiers = Identifiers(
                patient_id: identity.patientID, patient_name: identity.patientName,
                study_instance_uid: identity.studyInstanceUID, series_instance_uid: identity.seriesInstanceUID,
                accession_number: identity.accessionNumber, study_date: identity.studyDate,
                series_number: identity.seriesNumber, series_description: identity.seriesDescription)
            if let v = series?.volume {
                size = Size(columns: v.columns, rows: v.rows, slices: v.slices)
                spacing_mm = Spacing(column: v.spacing.columnMM, row: v.spacing.rowMM, slice: v.spacing.sliceMM)
                affine = v.affine.matrix
            } else {
                size = Size(columns: d.columns, rows: d.rows, slices: d.sliceCount)
            }
            orientation = series?.orientation ?? d.orientation
            warnings = series?.warnings ?? d.warnings
            if let s = series?.statistics {
                hu_statistics = Statistics(min: s.minHU, max: s.maxHU, mean: s.meanHU, voxels: s.voxelCount,
                                           padding_voxels: s.paddingVoxelCount)
            }
            source_paths = series?.sourcePaths ?? d.sourcePaths
        }
    }

    func text() -> String {
        var lines: [String] = []
        lines.append("\(series.count) series, \(skipped.count) skipped file(s)")
        for s in series {
            lines.append("")
            lines.append("series \(s.id)  [\(s.status)]")
            if let e = s.error { lines.append("  error:        \(e)") }
            lines.append("  kind:         \(s.kind), grouped by \(s.grouping), \(s.source_paths.count) file(s)")
            lines.append("  modality:     \(s.modality ?? "-")")
            let i = s.identifiers
            lines.append("  patient:      \(i.patient_id ?? "-")  (\(i.patient_name ?? "-"))")
            lines.append("  study:        \(i.study_instance_uid ?? "-")  date \(i.study_date ?? "-")  "
                         + "accession \(i.accession_number ?? "-")")
            lines.append("  series:       \(i.series_instance_uid ?? "-")  #\(i.series_number.map(String.init) ?? "-")  "
                         + "\"\(i.series_description ?? "")\"")
            lines.append("  size:         \(s.size.columns) x \(s.size.rows) x \(s.size.slices) (columns x rows x slices)")
            if let sp = s.spacing_mm {
                lines.append(String(format: "  spacing mm:   %.4f x %.4f in-plane (column x row), %.4f between slices",
                                    sp.column, sp.row, sp.slice))
            }
            lines.append("  orientation:  \(s.orientation)")
            if let a = s.affine {
                lines.append("  affine (voxel -> LPS mm):")
                for row in a {
                    lines.append("    [" + row.map { String(format: "%11.5f", $0) }.joined(separator: " ") + " ]")
                }
            }
            if let h = s.hu_statistics {
                lines.append(String(format: "  HU:           min %.1f  max %.1f  mean %.3f  over %d voxels (%d padding)",
                                    h.min, h.max, h.mean, h.voxels, h.padding_voxels))
            }
            for w in s.warnings { lines.append("  warning:      \(w)") }
        }
        if !skipped.isEmpty {
            lines.append("")
            lines.append("skipped:")
            for k in skipped { lines.append("  \(k.path): \(k.reason)") }
        }
        return lines.joined(separator: "\n")
    }
}
