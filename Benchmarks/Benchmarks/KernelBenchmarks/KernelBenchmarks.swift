// Kernel suites (ordo-one/benchmark). Run from Benchmarks/:
//   swift package --allow-writing-to-package-directory benchmark --target KernelBenchmarks
// Volumes are 300 x 512 x 512 Float32 (a typical chest CT), built once per process.
import Benchmark
import Foundation
import Kernels
import Volumes
import COpenBLAS

/// Deterministic CT-like test volume (uniform noise in [-1000, 400] HU).
let ctVolume: Volume = {
    let (nx, ny, nz) = (512, 512, 300)
    var voxels = [Float](repeating: 0, count: nx * ny * nz)
    var s: UInt64 = 1234
    for i in 0..<voxels.count {
        s = s &* 6364136223846793005 &+ 1442695040888963407
        voxels[i] = Float(s >> 40) / Float(1 << 24) * 1400 - 1000
    }
    return Volume(columns: nx, rows: ny, slices: nz, voxels: voxels,
                  spacing: VoxelSpacing(columnMM: 0.7, rowMM: 0.7, sliceMM: 1.0))
}()

func randomFloats(_ n: Int, seed: UInt64) -> [Float] {
    var s = seed
    return (0..<n).map { _ in
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return Float(s >> 40) / Float(1 << 24) - 0.5
    }
}

let gflops = BenchmarkMetric.custom("GFLOP/s", polarity: .prefersLarger, useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .peakMemoryResident],
        warmupIterations: 1,
        maxDuration: .seconds(30),
        maxIterations: 5
    )
    let context = KernelContext()

    Benchmark("Gaussian sigma=2 voxels 300x512x512") { benchmark in
        let volume = ctVolume
        benchmark.startMeasurement()
        blackHole(GaussianFilter.apply(volume, sigmaVoxels: SIMD3(2, 2, 2), context: context))
    }

    Benchmark("Hessian + eigenvalues sigma=2mm 300x512x512") { benchmark in
        let volume = ctVolume
        benchmark.startMeasurement()
        blackHole(HessianFilter.eigenvalues(of: volume, sigmaMM: 2, context: context))
    }

    Benchmark("Hessian eigenvalues streamed, 3 scales 300x512x512") { benchmark in
        let volume = ctVolume
        benchmark.startMeasurement()
        HessianFilter.multiScaleEigenvalues(of: volume, sigmasMM: [1, 2, 4], context: context) { _, slice in
            blackHole(slice.lambda1[0])
        }
    }

    Benchmark("LoG sigma=2mm 300x512x512") { benchmark in
        let volume = ctVolume
        benchmark.startMeasurement()
        blackHole(LaplacianOfGaussian.apply(volume, sigmaMM: 2, context: context))
    }

    // Filter bank / CNN layer shapes; GFLOP/s recorded per iteration.
    let layers: [(String, Int, Int, Int, Int, Int, (Int, Int, Int))] = [
        ("bank 1->32 k5 p2 @ 48x96x96", 1, 32, 5, 1, 2, (48, 96, 96)),
        ("conv 1->16 k3 p1 @ 64^3", 1, 16, 3, 1, 1, (64, 64, 64)),
        ("conv 16->32 k3 p1 @ 32^3", 16, 32, 3, 1, 1, (32, 32, 32)),
        ("conv 32->64 k3 s2 p1 @ 32^3", 32, 64, 3, 2, 1, (32, 32, 32)),
        ("conv 64->64 k3 p1 @ 16^3", 64, 64, 3, 1, 1, (16, 16, 16)),
    ]
    for (name, cin, cout, k, stride, pad, size) in layers {
        Benchmark("Conv3D im2col+sgemm \(name)", configuration: .init(metrics: [.wallClock, gflops], maxIterations: 10)) { benchmark in
            let input = FeatureVolume(channels: cin, slices: size.0, rows: size.1, columns: size.2,
                                      data: randomFloats(cin * size.0 * size.1 * size.2, seed: 1))
            let layer = Conv3DLayer(inChannels: cin, outChannels: cout, kernelSize: k, stride: stride, padding: pad,
                                    weights: randomFloats(cout * cin * k * k * k, seed: 2), bias: randomFloats(cout, seed: 3),
                                    relu: true)
            let flops = 2.0 * Double(cout * layer.patchLength) * Double(layer.outputExtent(size.0) * layer.outputExtent(size.1) * layer.outputExtent(size.2))
            benchmark.startMeasurement()
            let t0 = DispatchTime.now().uptimeNanoseconds
            blackHole(Convolution3D.apply(layer, to: input, context: context))
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
            benchmark.stopMeasurement()
            benchmark.measurement(gflops, Int(flops / seconds / 1e9))
        }
    }

    Benchmark("Raw cblas_sgemm 2048^3", configuration: .init(metrics: [.wallClock, gflops], maxIterations: 10)) { benchmark in
        let n = 2048
        let a = randomFloats(n * n, seed: 4), b = randomFloats(n * n, seed: 5)
        var c = [Float](repeating: 0, count: n * n)
        benchmark.startMeasurement()
        let t0 = DispatchTime.now().uptimeNanoseconds
        context.withBLASThreads(context.workers) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n),
                        1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
        benchmark.stopMeasurement()
        blackHole(c[0])
        benchmark.measurement(gflops, Int(2 * pow(Double(n), 3) / seconds / 1e9))
    }
}
