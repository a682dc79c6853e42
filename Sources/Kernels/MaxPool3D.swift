import Foundation

/// Max pooling of a feature volume over non-overlapping `size`^3 cells (kernel = stride =
/// `size`, no padding), per channel, as PyTorch's `MaxPool3d(size)`: the output extent is
/// `floor(n / size)` along each axis, so trailing voxels that do not fill a cell are dropped.
public enum MaxPool3D {
    public static func apply(_ input: FeatureVolume, size: Int) -> FeatureVolume {
        precondition(size >= 1, "pool size must be positive")
        let oz = input.slices / size, oy = input.rows / size, ox = input.columns / size
        var output = FeatureVolume(channels: input.channels, slices: oz, rows: oy, columns: ox)
        guard oz > 0, oy > 0, ox > 0 else { return output }
        let rows = input.rows, columns = input.columns, plane = rows * columns
        input.data.withUnsafeBufferPointer { src in
            output.data.withUnsafeMutableBufferPointer { dst in
                var o = 0
                for c in 0..<input.channels {
                    let channelBase = c * input.voxelsPerChannel
                    for z in 0..<oz { for y in 0..<oy { for x in 0..<ox {
                        var best = -Float.infinity
                        for dz in 0..<size {
                            let sliceBase = channelBase + (z * size + dz) * plane
                            for dy in 0..<size {
                                let rowBase = sliceBase + (y * size + dy) * columns + x * size
                                for dx in 0..<size { best = Swift.max(best, src[rowBase + dx]) }
                            }
                        }
                        dst[o] = best
                        o += 1
                    } } }
                }
            }
        }
        return output
    }

    /// The largest value of each channel over the whole volume (global max pooling).
    public static func globalMax(_ input: FeatureVolume) -> [Float] {
        let n = input.voxelsPerChannel
        return (0..<input.channels).map { c in
            input.data[(c * n)..<((c + 1) * n)].max() ?? 0
        }
    }
}
