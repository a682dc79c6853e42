import Testing
import Volumes

@Suite struct VolumeViewTests {
    @Test func boundingBoxCropAndViewShareGeometry() {
        let spacing = VoxelSpacing(columnMM: 0.7, rowMM: 0.7, sliceMM: 2)
        var vol = Volume(columns: 10, rows: 8, slices: 6, filledWith: 0, spacing: spacing)
        for i in 0..<vol.voxelCount { vol.voxels[i] = Float(i) }
        var mask = [UInt8](repeating: 0, count: vol.voxelCount)
        mask[vol.index(column: 2, row: 3, slice: 1)] = 1
        mask[vol.index(column: 6, row: 5, slice: 4)] = 1
        let box = VoxelBox.boundingBox(ofMask: mask, columns: 10, rows: 8, slices: 6)
        #expect(box == VoxelBox(columns: 2..<7, rows: 3..<6, slices: 1..<5))
        #expect(VoxelBox.boundingBox(ofMask: [UInt8](repeating: 0, count: 480), columns: 10, rows: 8, slices: 6) == nil)
        let b = box!
        let view = vol.view(b)
        let crop = vol.cropped(to: b)
        #expect(crop.columns == 5 && crop.rows == 3 && crop.slices == 4)
        for k in 0..<4 { for j in 0..<3 { for i in 0..<5 {
            #expect(crop[i, j, k] == vol[i + 2, j + 3, k + 1])
            #expect(view[i, j, k] == vol[i + 2, j + 3, k + 1])
        } } }
        #expect(crop.patientPosition(column: 1, row: 1, slice: 1) == vol.patientPosition(column: 3, row: 4, slice: 2))
        // Expansion is clipped to the volume.
        #expect(b.expanded(by: 3, clampedTo: vol) == VoxelBox(columns: 0..<10, rows: 0..<8, slices: 0..<6))
    }
}

import Profiling
@testable import Kernels

@Suite struct KernelSpanTests {
    @Test func gaussianRecordsItsPassesWithCounters() {
        let collector = SpanCollector()
        Profiler.install(collector)
        defer { Profiler.uninstall(collector) }
        let vol = Volume(columns: 17, rows: 13, slices: 11, filledWith: 1, spacing: .isotropic1mm)
        _ = GaussianFilter.apply(vol, sigmaVoxels: SIMD3(1, 1, 1), context: KernelContext(workers: 2))
        // Other tests may record spans concurrently; look for ours by size.
        let ours = collector.spans.filter { $0.name.hasPrefix("gaussian.") && $0.voxels == 17 * 13 * 11 }
        #expect(Set(ours.map(\.name)) == ["gaussian.separable"])
        #expect(ours.allSatisfy { $0.bytesMoved >= 2 * 4 * 17 * 13 * 11 && $0.flops > 0 })
    }
}
