import Foundation
import Volumes

/// The image noise of a series, from its lung parenchyma, so a report can say when a scan is
/// noisier than those the detector was trained and validated on (docs/detection.md, "Noise
/// (stress test)": held-out phantoms with 70 HU more noise kept their nodules but doubled the
/// false positives).
///
/// Estimator: on a few slices, every pixel whose value and whose 4 in-plane neighbours' mean
/// both lie in the parenchyma's range (-950 to -650 HU) gives the residual
/// `r = v - mean(4 neighbours)`; the noise is the median absolute deviation of those residuals
/// times 1.4826 (a Gaussian's standard deviation from its MAD), divided by sqrt(1 + 1/4), the
/// residual's gain on white noise. So it reports the standard deviation of white noise with
/// the same pixel-to-pixel differences: the fine-grained part of the noise, which sharp
/// kernels and low dose raise. Noise correlated over neighbouring pixels (smooth kernels,
/// our phantoms' 0.75-pixel correlation) reads lower than its standard deviation: about half
/// of it for the phantoms' added noise. The median ignores vessels, fissures and edges, which
/// give the few large residuals (after Immerkær's fast noise estimate, CVIU 64(2), 1996,
/// which uses a Laplacian mask and the mean instead).
public enum ImageNoise {
    /// Parenchyma range (HU) of the pixels and of their neighbourhood mean.
    static let parenchymaHU: ClosedRange<Float> = -950 ... -650

    /// Slices sampled (evenly over the middle half of the series, where the lungs are widest).
    static let sampledSlices = 12

    /// Fewest parenchyma pixels for an estimate.
    static let minimumPixels = 2000

    /// Estimated white-noise-equivalent standard deviation (HU) in the lungs, or nil when the
    /// series holds too little parenchyma (a slice below the lungs, a non-chest image).
    public static func estimateHU(_ volume: Volume) -> Double? {
        let nx = volume.columns, ny = volume.rows
        guard nx >= 3, ny >= 3, volume.slices >= 1 else { return nil }
        let first = volume.slices / 4, last = max(first, (3 * volume.slices) / 4 - 1)
        let count = min(sampledSlices, last - first + 1)
        var residuals: [Float] = []
        residuals.reserveCapacity(count * nx * ny / 8)
        volume.voxels.withUnsafeBufferPointer { v in
            for k in 0..<count {
                let z = count == 1 ? first : first + (last - first) * k / (count - 1)
                let base = z * nx * ny
                for y in 1..<(ny - 1) {
                    let row = base + y * nx
                    for x in 1..<(nx - 1) {
                        let c = v[row + x]
                        guard parenchymaHU.contains(c) else { continue }
                        let mean = 0.25 * (v[row + x - 1] + v[row + x + 1] + v[row - nx + x] + v[row + nx + x])
                        guard parenchymaHU.contains(mean) else { continue }
                        residuals.append(c - mean)
                    }
                }
            }
        }
        guard residuals.count >= minimumPixels else { return nil }
        let centre = NoduleMeasurement.median(&residuals)
        var deviations = residuals.map { abs($0 - centre) }
        let mad = Double(NoduleMeasurement.median(&deviations))
        return 1.4826 * mad / 1.25.squareRoot()
    }
}

extension NoduleDetector {
    /// Noise (``ImageNoise/estimateHU(_:)``) above which a series gets a warning. Development
    /// seeds 1300, 1301 and 1304 and evaluation seed 9001 (the phantoms' 12-28 HU of correlated
    /// noise) read 8-17 HU, independent phantom seed 1 7 HU, the real slices of ../shared/real-ct
    /// 7-17 HU, and `sample-scans/` (1.8 mm pixels, where fine lung structure adds to the
    /// pixel-to-pixel differences) 14-21 HU; seed 1300 with 40 HU of noise added
    /// (`scripts/add_noise.py`) reads 22-26 HU (5 more false positives on its 8 scans), with
    /// 70 HU added 32-34 HU (8 more, 2 of them actionable; held-out E1-E4 with 70 HU added:
    /// 26 -> 53 false positives). The JPEG copies of `sample-scans/` (8-bit, lossy, lung
    /// window) read 29-31 HU: compression's block and ringing errors count as noise, and
    /// they are there for the detector too.
    public static let validatedNoiseHU = 24.0

    /// A warning for a series whose noise (``ImageNoise/estimateHU(_:)``) is above
    /// ``validatedNoiseHU``, or nil.
    static func noiseWarning(noiseHU: Double?) -> String? {
        guard let noise = noiseHU, noise > validatedNoiseHU else { return nil }
        return String(format: "image noise about %.0f HU in the lungs (its fine-grained part), above the "
                      + "%.0f HU the detector was validated on (low dose, a sharp kernel or lossy compression): "
                      + "expect more false positives; test scans this noisy kept nearly all their nodules but "
                      + "had twice the false positives", noise, validatedNoiseHU)
    }
}
