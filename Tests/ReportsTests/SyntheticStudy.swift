import Foundation
import Detection
import Reports
import SeriesInput
import Volumes

/// Test studies built in code: a small HU volume with bright balls ("nodules") and the
/// `Finding`s a detector would report for them, so report geometry can be checked
/// against analytic positions.
enum SyntheticStudy {
    static let lungHU: Float = -850
    static let noduleHU: Float = 40

    /// An axial series of `columns x rows x slices` lung-like voxels with one ball of
    /// `diameterMM` at voxel `center` (column, row, slice). Slices run towards the head
    /// (sliceStep +z in LPS), like a feet-first sorted stack.
    static func ballSeries(columns: Int = 64, rows: Int = 64, slices: Int = 24,
                           spacing: VoxelSpacing = VoxelSpacing(columnMM: 0.8, rowMM: 0.8, sliceMM: 2.0),
                           center: SIMD3<Double> = SIMD3(30, 34, 12), diameterMM: Double = 10,
                           identity: SeriesIdentity = defaultIdentity) -> ImageSeries {
        let origin = SIMD3<Double>(-120.5, -90.25, -300)
        let affine = PatientAffine(origin: origin, columnStep: SIMD3(spacing.columnMM, 0, 0),
                                   rowStep: SIMD3(0, spacing.rowMM, 0), sliceStep: SIMD3(0, 0, spacing.sliceMM))
        var voxels = [Float](repeating: lungHU, count: columns * rows * slices)
        let r = diameterMM / 2
        for s in 0..<slices {
            for y in 0..<rows {
                for x in 0..<columns {
                    let dx = (Double(x) - center.x) * spacing.columnMM
                    let dy = (Double(y) - center.y) * spacing.rowMM
                    let dz = (Double(s) - center.z) * spacing.sliceMM
                    if dx * dx + dy * dy + dz * dz <= r * r {
                        voxels[(s * rows + y) * columns + x] = noduleHU
                    }
                }
            }
        }
        let volume = Volume(columns: columns, rows: rows, slices: slices, voxels: voxels, spacing: spacing,
                            affine: affine)
        return ImageSeries(kind: .dicom, identity: identity,
                           sourcePaths: (0..<slices).map { "/data/in/study-a/IM\($0 + 1).dcm" },
                           grouping: "SeriesInstanceUID", volume: volume, orientation: "axial",
                           warnings: ["slice gap of 4.0 mm between slices 7 and 8"],
                           statistics: HUStatistics(minHU: -850, maxHU: 40, meanHU: -800, voxelCount: voxels.count,
                                                    paddingVoxelCount: 0))
    }

    static let defaultIdentity = SeriesIdentity(
        patientID: "PID-0042", patientName: "Doe^Jane", studyInstanceUID: "1.2.826.0.1.3680043.8.498.1",
        seriesInstanceUID: "1.2.826.0.1.3680043.8.498.1.2", accessionNumber: "ACC123", studyDate: "20260314",
        modality: "CT", seriesDescription: "Chest 1.0 Lung", seriesNumber: 3)

    static func finding(rank: Int, series: ImageSeries, center: SIMD3<Double>, diameterMM: Double,
                        score: Double, type: NoduleType = .solid, lungRADS: LungRADSCategory = .category4A) -> Finding {
        let mm = series.volume.affine.patientPosition(column: center.x, row: center.y, slice: center.z)
        return Finding(id: "F\(rank)", rank: rank, score: score, centerMM: mm, centerVoxel: center,
                       diameterMM: diameterMM, longAxisMM: diameterMM * 1.1, shortAxisMM: diameterMM * 0.9,
                       equivalentDiameterMM: diameterMM, volumeMM3: Double.pi / 6 * pow(diameterMM, 3),
                       meanHU: 35, minHU: -200, maxHU: 80, type: type, lungRADS: lungRADS, lungSide: "right",
                       lungZone: "upper", sphericity: 0.93, vesselness: 0.05, distanceToPleuraMM: 12.5)
    }

    static func assessment(_ findings: [Finding], priority: TriagePriority = .urgent, score: Double = 0.91)
        -> StudyAssessment {
        StudyAssessment(findings: findings, priority: priority, score: score,
                        lungRADS: findings.map(\.lungRADS).max() ?? .category1,
                        timingMS: ["lung_mask": 12.5, "candidates": 40.25])
    }

    static let provenance = ReportProvenance(pipelineName: "chest-ct-nightly", pipelineVersion: "1.0",
                                             softwareVersion: "0.1.0-test")

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("reports-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
