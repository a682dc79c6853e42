import Foundation
import Volumes

/// A cube of HU around a candidate, sampled on a grid aligned with the patient axes (LPS) at a
/// fixed step in mm, whatever the series' spacing and orientation: the patch network's input.
///
/// Layout `[z][y][x]` (slowest to fastest), `size` samples per axis; sample `(i, j, k)` lies at
/// `center + (i - (size-1)/2, j - (size-1)/2, k - (size-1)/2) * stepMM` (x = LPS left,
/// y = posterior, z = superior), so the centre falls between the middle samples of an even
/// size. Values are trilinear between voxel centres; a sample outside the volume's voxel
/// centres reads `outsideHU` (air), as `scipy.ndimage.map_coordinates(order=1,
/// mode='constant')`, the reference the training script samples with.
enum CandidatePatch {
    static let outsideHU: Float = -1000

    static func sample(volume: Volume, centerMM: SIMD3<Double>, size: Int, stepMM: Double) -> [Float] {
        var patch = [Float](repeating: outsideHU, count: size * size * size)
        // Voxel index is affine in the patient position: the index at the first sample and its
        // change per step along each patient axis.
        guard let origin = volume.affine.voxelIndex(ofPatientPosition: centerMM),
              let ax = volume.affine.voxelIndex(ofPatientPosition: centerMM + SIMD3(stepMM, 0, 0)),
              let ay = volume.affine.voxelIndex(ofPatientPosition: centerMM + SIMD3(0, stepMM, 0)),
              let az = volume.affine.voxelIndex(ofPatientPosition: centerMM + SIMD3(0, 0, stepMM))
        else { return patch }
        let dx = ax - origin, dy = ay - origin, dz = az - origin
        let half = Double(size - 1) / 2
        let first = origin - half * (dx + dy + dz)
        let nx = volume.columns, ny = volume.rows, nz = volume.slices, plane = nx * ny
        let maxX = Double(nx - 1), maxY = Double(ny - 1), maxZ = Double(nz - 1)
        let eps = 1e-9
        volume.voxels.withUnsafeBufferPointer { v in
            patch.withUnsafeMutableBufferPointer { out in
                var o = 0
                for k in 0..<size {
                    for j in 0..<size {
                        var p = first + Double(k) * dz + Double(j) * dy
                        for _ in 0..<size {
                            defer { p += dx; o += 1 }
                            guard p.x >= -eps, p.y >= -eps, p.z >= -eps,
                                  p.x <= maxX + eps, p.y <= maxY + eps, p.z <= maxZ + eps else { continue }
                            let x0 = min(max(Int(p.x.rounded(.down)), 0), max(nx - 2, 0))
                            let y0 = min(max(Int(p.y.rounded(.down)), 0), max(ny - 2, 0))
                            let z0 = min(max(Int(p.z.rounded(.down)), 0), max(nz - 2, 0))
                            let fx = Float(p.x - Double(x0)), fy = Float(p.y - Double(y0)), fz = Float(p.z - Double(z0))
                            let x1 = min(x0 + 1, nx - 1), y1 = min(y0 + 1, ny - 1), z1 = min(z0 + 1, nz - 1)
                            func at(_ x: Int, _ y: Int, _ z: Int) -> Float { v[z * plane + y * nx + x] }
                            let c00 = at(x0, y0, z0) + fx * (at(x1, y0, z0) - at(x0, y0, z0))
                            let c10 = at(x0, y1, z0) + fx * (at(x1, y1, z0) - at(x0, y1, z0))
                            let c01 = at(x0, y0, z1) + fx * (at(x1, y0, z1) - at(x0, y0, z1))
                            let c11 = at(x0, y1, z1) + fx * (at(x1, y1, z1) - at(x0, y1, z1))
                            let c0 = c00 + fy * (c10 - c00), c1 = c01 + fy * (c11 - c01)
                            out[o] = c0 + fz * (c1 - c0)
                        }
                    }
                }
            }
        }
        return patch
    }
}
