import Foundation
import Testing
import Volumes
@testable import Detection

@Suite("Image noise")
struct ImageNoiseTests {
    /// 96 x 96 x 8 voxels of parenchyma at -800 HU with white Gaussian noise of `sigmaHU`;
    /// every `dotEvery`-th pixel (if any) is a vessel seen end-on at 0 HU.
    func volume(sigmaHU: Double, dotEvery: Int = 0, baseHU: Float = -800) -> Volume {
        var rng = SplitMix(seed: 7)
        var voxels = [Float](repeating: baseHU, count: 96 * 96 * 8)
        for i in voxels.indices {
            voxels[i] += Float(sigmaHU * rng.gaussian())
            if dotEvery > 0 && i % dotEvery == 0 { voxels[i] = 0 }
        }
        return Volume(columns: 96, rows: 96, slices: 8, voxels: voxels,
                      spacing: VoxelSpacing(columnMM: 0.7, rowMM: 0.7, sliceMM: 1.25))
    }

    @Test("white noise: the estimate is its standard deviation", arguments: [10.0, 20.0, 40.0])
    func whiteNoise(sigmaHU: Double) throws {
        let estimate = try #require(ImageNoise.estimateHU(volume(sigmaHU: sigmaHU)))
        #expect(abs(estimate - sigmaHU) < 0.05 * sigmaHU, "estimate \(estimate) for \(sigmaHU)")
    }

    @Test("vessels seen end-on (1 pixel in 20) do not raise it")
    func vesselsIgnored() throws {
        let estimate = try #require(ImageNoise.estimateHU(volume(sigmaHU: 20, dotEvery: 20)))
        #expect(abs(estimate - 20) < 0.1 * 20, "estimate \(estimate)")
    }

    @Test("no parenchyma (soft tissue only): no estimate")
    func noParenchyma() {
        #expect(ImageNoise.estimateHU(volume(sigmaHU: 20, baseHU: 40)) == nil)
    }

    @Test("the warning names the noise above the validated level and is absent below it")
    func warning() throws {
        let noisy = try #require(NoduleDetector.noiseWarning(noiseHU: ImageNoise.estimateHU(volume(sigmaHU: 35))))
        #expect(noisy.contains("about 35 HU"), "\(noisy)")
        #expect(NoduleDetector.noiseWarning(noiseHU: ImageNoise.estimateHU(volume(sigmaHU: 12))) == nil)
    }

    @Test("the assessment carries the noise it measured, and the warning only above the level")
    func assessmentCarriesNoise() throws {
        var chest = SyntheticChest()
        chest.noiseHU = 20
        let volume = chest.makeVolume()
        var configuration = DetectorConfiguration()
        configuration.blobScalesMM = [1.3, 1.9, 2.8, 4.1]
        configuration.maximumCandidates = 40
        let assessment = try NoduleDetector(configuration: configuration).assess(volume: volume)
        let noise = try #require(assessment.imageNoiseHU)
        #expect(noise == ImageNoise.estimateHU(volume))
        #expect(abs(noise - 20) < 2, "noise \(noise)")
        #expect(!assessment.warnings.contains { $0.hasPrefix("image noise") })
    }
}
