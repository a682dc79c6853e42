import Foundation
import Testing
import DICOM
import Volumes
@testable import SeriesInput

func close(_ a: SIMD3<Double>, _ b: SIMD3<Double>, _ tolerance: Double = 1e-6) -> Bool {
    let d = a - b
    return (d * d).sum().squareRoot() <= tolerance
}

struct SeriesAssemblyTests {
    /// Axial slices written with shuffled names in reverse z order: sorted by position.
    @Test func sortsByPositionNotNameOrInstance() throws {
        let folder = try SyntheticSeries.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let s = SyntheticSeries(folder: folder)
        let zs: [Double] = [-10, -8.75, -7.5, -6.25, -5]
        // Names and instance numbers both run against z.
        let names = ["c.dcm", "a.dcm", "e.dcm", "b.dcm", "d.dcm"]
        for (k, z) in zs.enumerated() {
            try s.writeSlice(name: names[k], position: SIMD3(-20, -30, z), instance: 10 - k, stored: 1000 + 10 * k)
        }
        let result = SeriesDiscovery.discover(paths: [folder])
        #expect(result.skipped.isEmpty)
        let d = try #require(result.series.first)
        #expect(result.series.count == 1)
        #expect(d.sliceCount == 5 && d.rows == 8 && d.columns == 6)
        #expect(d.orientation == "axial")
        #expect(d.grouping == "SeriesInstanceUID")
        #expect(d.id.count == 32 && d.id.allSatisfy { $0.isHexDigit })
        #expect(d.sourcePaths.map { URL(fileURLWithPath: $0).lastPathComponent } == names)

        let series = try d.load()
        let v = series.volume
        #expect(v.slices == 5)
        // Stored 1000 + 10k at z index k, intercept -1024.
        for k in 0..<5 { #expect(v[2, 3, k] == Float(1000 + 10 * k) - 1024) }
        #expect(abs(v.spacing.sliceMM - 1.25) < 1e-9)
        #expect(abs(v.spacing.columnMM - 0.8) < 1e-12 && abs(v.spacing.rowMM - 0.7) < 1e-12)
        #expect(close(v.affine.origin, SIMD3(-20, -30, -10)))
        #expect(close(v.affine.columnStep, SIMD3(0.8, 0, 0)))
        #expect(close(v.affine.rowStep, SIMD3(0, 0.7, 0)))
        #expect(close(v.affine.sliceStep, SIMD3(0, 0, 1.25)))
        #expect(series.warnings.isEmpty)
        #expect(series.statistics.voxelCount == 5 * 48)
        #expect(abs(series.statistics.meanHU - (1020 - 1024)) < 1e-9)
        #expect(series.statistics.minHU == -24 && series.statistics.maxHU == 16)
    }

    @Test func duplicateDroppedAndGapReported() throws {
        let folder = try SyntheticSeries.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let s = SyntheticSeries(folder: folder, encoding: .implicitVRLittleEndian)
        // 0, 2, 4, (6 missing), 8, 10, and 4 again under another SOP instance.
        for (k, z) in [0.0, 2, 4, 8, 10].enumerated() {
            try s.writeSlice(name: "s\(k).dcm", position: SIMD3(0, 0, z), instance: k, stored: 100 * k)
        }
        try s.writeSlice(name: "dup.dcm", position: SIMD3(0, 0, 4), instance: 99, stored: 7, sopSuffix: "99")
        let d = try #require(SeriesDiscovery.discover(paths: [folder]).series.first)
        #expect(d.sliceCount == 5)
        #expect(d.warnings.contains { $0.contains("1 duplicate slice position") })
        #expect(d.warnings.contains { $0.contains("gap of 4.000 mm between slices 2 and 3") })
        let series = try d.load()
        #expect(series.volume.spacing.sliceMM == 2)
        #expect(series.volume.slices == 5)
    }

    @Test func nonUniformSpacingWarns() throws {
        let folder = try SyntheticSeries.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let s = SyntheticSeries(folder: folder)
        for (k, z) in [0.0, 1, 2.2, 3.2].enumerated() {
            try s.writeSlice(name: "\(k).dcm", position: SIMD3(0, 0, z), instance: k, stored: 0)
        }
        let d = try #require(SeriesDiscovery.discover(paths: [folder]).series.first)
        #expect(d.warnings.contains { $0.hasPrefix("non-uniform slice spacing: 1.000 to 1.200 mm") })
    }

    @Test func coronalSeries() throws {
        let folder = try SyntheticSeries.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Rows run left-right (+x), columns run feet-ward (-z); the normal is +y (posterior).
        var s = SyntheticSeries(folder: folder)
        s.orientation = [1, 0, 0, 0, 0, -1]
        for (k, y) in [30.0, 10, 20].enumerated() {
            try s.writeSlice(name: "\(k).dcm", position: SIMD3(-50, y, 100), instance: k, stored: Int(y))
        }
        let series = try #require(SeriesDiscovery.discover(paths: [folder]).series.first).load()
        #expect(series.orientation == "coronal")
        let a = series.volume.affine
        #expect(close(a.origin, SIMD3(-50, 10, 100)))
        #expect(close(a.columnStep, SIMD3(0.8, 0, 0)))
        #expect(close(a.rowStep, SIMD3(0, 0, -0.7)))
        #expect(close(a.sliceStep, SIMD3(0, 10, 0)))
        #expect(series.volume[0, 1, 2] == 30 - 1024)
    }

    @Test func sagittalSeries() throws {
        let folder = try SyntheticSeries.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Rows run posterior (+y), columns feet-ward (-z): the normal is -x.
        var s = SyntheticSeries(folder: folder)
        s.orientation = [0, 1, 0, 0, 0, -1]
        for (k, x) in [-5.0, 5, 0].enumerated() {
            try s.writeSlice(name: "\(k).dcm", position: SIMD3(x, -100, 50), instance: k, stored: Int(x) + 10)
        }
        let series = try #require(SeriesDiscovery.discover(paths: [folder]).series.first).load()
        #expect(series.orientation == "sagittal")
        let a = series.volume.affine
        // Sorted along the normal (-x): the slice with the largest x comes first.
        #expect(close(a.origin, SIMD3(5, -100, 50)))
        #expect(close(a.sliceStep, SIMD3(-5, 0, 0)))
        #expect(close(a.columnStep, SIMD3(0, 0.8, 0)))
        #expect(close(a.rowStep, SIMD3(0, 0, -0.7)))
        #expect(series.volume[0, 0, 0] == 15 - 1024 && series.volume[0, 0, 2] == 5 - 1024)
    }

    @Test func obliqueSeries() throws {
        let folder = try SyntheticSeries.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var s = SyntheticSeries(folder: folder)
        let c = 0.5.squareRoot()
        let row = SIMD3(c, c, 0), column = SIMD3(0.0, 0, -1)
        s.orientation = [row.x, row.y, row.z, column.x, column.y, column.z]
        let normal = SIMD3(row.y * column.z - row.z * column.y, row.z * column.x - row.x * column.z,
                           row.x * column.y - row.y * column.x)
        let p0 = SIMD3(12.5, -3.0, 40.0)
        for k in [3, 0, 2, 1] {
            try s.writeSlice(name: "o\(k).dcm", position: p0 + Double(k) * 1.5 * normal, instance: k, stored: k)
        }
        let series = try #require(SeriesDiscovery.discover(paths: [folder]).series.first).load()
        #expect(series.orientation == "oblique")
        let v = series.volume
        #expect(abs(v.spacing.sliceMM - 1.5) < 1e-4)
        // Every voxel maps to where the geometry puts it (DS values carry 6 significant digits).
        for (col, r, k) in [(0, 0, 0), (5, 7, 3), (2, 4, 1)] {
            let expected = p0 + Double(k) * 1.5 * normal + Double(col) * 0.8 * row + Double(r) * 0.7 * column
            #expect(close(v.patientPosition(column: Double(col), row: Double(r), slice: Double(k)), expected, 1e-3))
            #expect(v[col, r, k] == Float(k) - 1024)
        }
        #expect(!series.warnings.contains { $0.contains("sheared") })
    }

    @Test func paddingExcludedFromStatistics() throws {
        let folder = try SyntheticSeries.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var s = SyntheticSeries(folder: folder)
        s.signed = true
        s.paddingValue = -2000
        s.rescaleIntercept = -1024
        for k in 0..<3 { try s.writeSlice(name: "\(k).dcm", position: SIMD3(0, 0, Double(k)), instance: k, stored: 1024 + 40) }
        let series = try #require(SeriesDiscovery.discover(paths: [folder]).series.first).load()
        #expect(series.statistics.paddingVoxelCount == 3)
        #expect(series.statistics.voxelCount == 3 * 47)
        #expect(series.statistics.minHU == 40 && series.statistics.maxHU == 40 && series.statistics.meanHU == 40)
        #expect(series.volume[0, 0, 1] == -1024)
    }

    @Test func separateSeriesAndSkippedFiles() throws {
        let folder = try SyntheticSeries.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let sub = folder.appendingPathComponent("nested/deeper")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        let a = SyntheticSeries(folder: folder, seriesUID: "1.2.3.4.1")
        let b = SyntheticSeries(folder: sub, seriesUID: "1.2.3.4.2")
        for k in 0..<2 {
            try a.writeSlice(name: "a\(k).dcm", position: SIMD3(0, 0, Double(k)), instance: k, stored: 0)
            try b.writeSlice(name: "b\(k).dcm", position: SIMD3(0, 0, Double(k)), instance: k, stored: 0)
        }
        try Data("hello, not an image".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        try Data(count: 40).write(to: sub.appendingPathComponent("zeros.bin"))
        let result = SeriesDiscovery.discover(paths: [folder])
        #expect(result.series.count == 2)
        #expect(Set(result.series.compactMap(\.identity.seriesInstanceUID)) == ["1.2.3.4.1", "1.2.3.4.2"])
        #expect(result.skipped.count == 2)
        #expect(result.skipped.allSatisfy { $0.reason.contains("not a DICOM file") })
        // Ids are stable and never contain the UID.
        let again = SeriesDiscovery.discover(paths: [folder])
        #expect(again.series.map(\.id) == result.series.map(\.id))
        #expect(result.series.allSatisfy { !$0.id.contains("1.2.3") })
    }

    @Test func missingPathIsReported() {
        let result = SeriesDiscovery.discover(paths: [URL(fileURLWithPath: "/nonexistent/scan-\(UUID())")])
        #expect(result.series.isEmpty)
        #expect(result.skipped.first?.reason == "no such file or folder")
    }

    /// The orientation part of the grouping key: 3 decimals, no sign for zero, no trap on
    /// absurd (hostile) finite cosines.
    @Test func orientationKeyIsThousandths() {
        #expect(DICOMSeriesPlan.thousandths(0.70710678) == "707")
        #expect(DICOMSeriesPlan.thousandths(-0.0004) == DICOMSeriesPlan.thousandths(0.0004))
        #expect(DICOMSeriesPlan.thousandths(-1) == "-1000")
        #expect(DICOMSeriesPlan.thousandths(1e300) == String(1e303))
    }

    /// The folder walk: recursive, hidden files and folders left out, links to files and
    /// folders followed, a link cycle walked once, a broken link reported.
    @Test func folderWalkSkipsHiddenFollowsLinksEndsCycles() throws {
        let root = try SyntheticSeries.temporaryFolder()
        let outside = try SyntheticSeries.temporaryFolder()
        defer {
            try? FileManager.default.removeItem(at: root)
            try? FileManager.default.removeItem(at: outside)
        }
        let fm = FileManager.default
        for sub in ["sub/deeper", ".hidden"] {
            try fm.createDirectory(at: root.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let inRoot = SyntheticSeries(folder: root)
        try inRoot.writeSlice(name: "a.dcm", position: SIMD3(0, 0, 0), instance: 1, stored: 1000)
        try inRoot.writeSlice(name: "sub/deeper/b.dcm", position: SIMD3(0, 0, 1), instance: 2, stored: 1000)
        try inRoot.writeSlice(name: ".hidden/c.dcm", position: SIMD3(0, 0, 2), instance: 3, stored: 1000)
        try inRoot.writeSlice(name: ".d.dcm", position: SIMD3(0, 0, 3), instance: 4, stored: 1000)
        let elsewhere = SyntheticSeries(folder: outside)
        try elsewhere.writeSlice(name: "e.dcm", position: SIMD3(0, 0, 4), instance: 5, stored: 1000)
        try fm.createDirectory(at: outside.appendingPathComponent("dir"), withIntermediateDirectories: true)
        try elsewhere.writeSlice(name: "dir/f.dcm", position: SIMD3(0, 0, 5), instance: 6, stored: 1000)
        try fm.createSymbolicLink(at: root.appendingPathComponent("link.dcm"),
                                  withDestinationURL: outside.appendingPathComponent("e.dcm"))
        try fm.createSymbolicLink(at: root.appendingPathComponent("linkdir"),
                                  withDestinationURL: outside.appendingPathComponent("dir"))
        // A cycle (back to the root) and a link to nothing.
        try fm.createSymbolicLink(at: root.appendingPathComponent("sub/loop"), withDestinationURL: root)
        try fm.createSymbolicLink(at: root.appendingPathComponent("gone.dcm"),
                                  withDestinationURL: outside.appendingPathComponent("missing.dcm"))
        let result = SeriesDiscovery.discover(paths: [root])
        #expect(result.skipped.map { URL(fileURLWithPath: $0.path).lastPathComponent } == ["gone.dcm"])
        #expect(result.skipped.first?.reason.contains("broken link") == true)
        let d = try #require(result.series.first)
        #expect(result.series.count == 1)
        #expect(d.sourcePaths.count == 4, "each file once, the cycle not walked again")
        #expect(Set(d.sourcePaths.map { URL(fileURLWithPath: $0).lastPathComponent })
                == ["a.dcm", "b.dcm", "link.dcm", "f.dcm"])
    }
}
