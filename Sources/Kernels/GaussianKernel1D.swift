import Foundation

/// Sampled 1-D Gaussian (derivative) weights, computed exactly as scipy.ndimage's
/// `_gaussian_kernel1d`: radius `Int(truncate * sigma + 0.5)`, the Gaussian normalised to
/// sum 1 over the truncated window, times the derivative polynomial.
///
/// Stored as *correlation* weights for offsets `0...radius`: `out[i] = sum_j w(j) * in[i + j]`
/// with `w(-j) = w(j)` for even orders and `w(-j) = -w(j)` for order 1 (scipy convolves with
/// the kernel, i.e. correlates with the flipped kernel; flipping only changes the sign of
/// odd orders). The derivative is with respect to the voxel index.
public struct GaussianKernel1D: Sendable, Equatable {
    /// Standard deviation in voxels along this axis.
    public let sigmaVoxels: Double
    /// Derivative order 0, 1 or 2.
    public let order: Int
    /// Taps on each side of the centre.
    public let radius: Int
    /// Correlation weights for offsets 0...radius (see the type's doc for the sign rule).
    public let halfWeights: [Float]

    /// scipy.ndimage's default truncation (4 standard deviations).
    public static let defaultTruncate = 4.0

    public init(sigmaVoxels: Double, order: Int, truncate: Double = GaussianKernel1D.defaultTruncate) {
        precondition(sigmaVoxels > 0 && sigmaVoxels.isFinite, "Gaussian sigma must be positive, got \(sigmaVoxels)")
        precondition((0...2).contains(order), "Gaussian derivative order must be 0, 1 or 2, got \(order)")
        self.sigmaVoxels = sigmaVoxels
        self.order = order
        let radius = Int(truncate * sigmaVoxels + 0.5)
        self.radius = radius
        let s2 = sigmaVoxels * sigmaVoxels
        var phi = [Double](repeating: 0, count: 2 * radius + 1)
        var sum = 0.0
        for i in 0...(2 * radius) {
            let x = Double(i - radius)
            phi[i] = exp(-0.5 / s2 * x * x)
            sum += phi[i]
        }
        // Convolution kernel k(x) (scipy), then correlation weight w(j) = k(-j).
        var half = [Float](repeating: 0, count: radius + 1)
        for j in 0...radius {
            let x = -Double(j)
            let g = phi[radius + j] / sum
            let k: Double
            switch order {
            case 0: k = g
            case 1: k = -x / s2 * g
            default: k = (x * x / (s2 * s2) - 1 / s2) * g
            }
            half[j] = Float(k)
        }
        self.halfWeights = half
    }

    /// The full correlation weights for offsets `-radius...radius`.
    public var weights: [Float] {
        let sign: Float = order == 1 ? -1 : 1
        return (0...(2 * radius)).map { i in
            let j = i - radius
            return j >= 0 ? halfWeights[j] : sign * halfWeights[-j]
        }
    }
}

/// scipy.ndimage mode 'reflect' (half-sample symmetric: `d c b a | a b c d | d c b a`),
/// extended periodically (period 2n) when the offset exceeds the length.
@inline(__always)
func reflectIndex(_ i: Int, _ n: Int) -> Int {
    if i >= 0 && i < n { return i }
    let period = 2 * n
    var m = i % period
    if m < 0 { m += period }
    return m < n ? m : period - 1 - m
}
