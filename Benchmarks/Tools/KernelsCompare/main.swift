// kernels-compare: times the kernels on a raw Float32 volume and prints one JSON object.
// Used by Benchmarks/compare_kernels.py (which times scipy on the same file).
//
//   kernels-compare --volume vol.f32 --shape 300 512 512 [--repeat 3] [--op all|gaussian|hessian_eigen|log|gemm] [--workers N]
//                   [--tile-bytes B]   (im2col tile size of the filter bank, for tuning)
//                   [--conv-method automatic|gemm|direct]   (filter-bank path, for comparing them)
import Foundation
import Kernels
import Volumes
import Profiling
import COpenBLAS

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(("kernels-compare: " + message + "\n").data(using: .utf8)!)
    exit(2)
}

var volumePath: String?
var shape = [300, 512, 512]
var repeats = 3
var op = "all"
var workers = ProcessInfo.processInfo.activeProcessorCount
var tileBytes = Convolution3D.defaultTileBytes
var convMethod = Conv3DMethod.automatic
var args = Array(CommandLine.arguments.dropFirst())
while !args.isEmpty {
    let a = args.removeFirst()
    switch a {
    case "--volume": volumePath = args.isEmpty ? nil : args.removeFirst()
    case "--shape":
        guard args.count >= 3, let z = Int(args[0]), let y = Int(args[1]), let x = Int(args[2]) else { fail("--shape Z Y X") }
        shape = [z, y, x]; args.removeFirst(3)
    case "--repeat": repeats = Int(args.isEmpty ? "" : args.removeFirst()) ?? repeats
    case "--op": op = args.isEmpty ? op : args.removeFirst()
    case "--workers": workers = Int(args.isEmpty ? "" : args.removeFirst()) ?? workers
    case "--tile-bytes": tileBytes = Int(args.isEmpty ? "" : args.removeFirst()) ?? tileBytes
    case "--conv-method":
        switch args.isEmpty ? "" : args.removeFirst() {
        case "automatic": convMethod = .automatic
        case "gemm": convMethod = .im2colGEMM
        case "direct": convMethod = .direct
        default: fail("--conv-method automatic|gemm|direct")
        }
    default: fail("unknown argument \(a)")
    }
}

func loadVolume() -> Volume {
    let count = shape[0] * shape[1] * shape[2]
    var voxels = [Float](repeating: 0, count: count)
    if let path = volumePath {
        guard let data = FileManager.default.contents(atPath: path), data.count == count * 4 else {
            fail("\(path): expected \(count * 4) bytes of little-endian Float32")
        }
        _ = voxels.withUnsafeMutableBytes { data.copyBytes(to: $0) }
    } else {
        var s: UInt64 = 42
        for i in 0..<count { s = s &* 6364136223846793005 &+ 1442695040888963407; voxels[i] = Float(s >> 40) / Float(1 << 24) * 1000 - 500 }
    }
    return Volume(columns: shape[2], rows: shape[1], slices: shape[0], voxels: voxels, spacing: .isotropic1mm)
}

#if os(Linux)
let RUSAGE_SELF_FOR_PLATFORM = RUSAGE_SELF.rawValue
#else
let RUSAGE_SELF_FOR_PLATFORM = RUSAGE_SELF
#endif

func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF_FOR_PLATFORM, &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) * 1e-6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) * 1e-6
}

/// Median wall seconds, median CPU seconds over `repeats` runs.
func measure(_ body: () -> Void) -> [String: Double] {
    var walls: [Double] = [], cpus: [Double] = []
    for _ in 0..<max(1, repeats) {
        let c0 = cpuSeconds(), t0 = Profiler.nowNanoseconds()
        body()
        walls.append(Double(Profiler.nowNanoseconds() - t0) * 1e-9)
        cpus.append(cpuSeconds() - c0)
    }
    walls.sort(); cpus.sort()
    return ["median_s": walls[walls.count / 2], "min_s": walls[0], "median_cpu_s": cpus[cpus.count / 2]]
}

let context = KernelContext(workers: workers)
// OpenBLAS starts its threads at load and they busy-wait before sleeping: stop them so the
// first kernel timed does not share a core with them (as `triage` does at start).
KernelContext.stopIdleBLASThreads()
var result: [String: Any] = ["workers": workers, "shape_zyx": shape, "repeats": repeats]
var ops: [String: Any] = [:]

if op != "gemm" {
    let volume = loadVolume()
    if op == "all" || op == "gaussian" {
        ops["gaussian_sigma2"] = measure {
            let out = GaussianFilter.apply(volume, sigmaVoxels: SIMD3(2, 2, 2), context: context)
            precondition(out.voxelCount == volume.voxelCount)
        }
    }
    if op == "all" || op == "hessian_eigen" {
        // Six second derivatives at sigma 2 + sorted eigenvalues, three output volumes.
        ops["hessian_eigen_sigma2"] = measure {
            let e = HessianFilter.eigenvalues(of: volume, sigmaMM: 2, normalized: false, context: context)
            precondition(e.lambda1.voxelCount == volume.voxelCount)
        }
    }
    if op == "all" || op == "log" {
        ops["log_sigma2"] = measure {
            let out = LaplacianOfGaussian.apply(volume, sigmaVoxels: SIMD3(2, 2, 2), context: context)
            precondition(out.voxelCount == volume.voxelCount)
        }
    }
}

if op == "all" || op == "gemm" {
    struct Shape { let name: String; let cin, cout, k, stride, pad, z, y, x: Int }
    let shapes = [
        Shape(name: "bank 1->32 k5 p2 @ 48x96x96", cin: 1, cout: 32, k: 5, stride: 1, pad: 2, z: 48, y: 96, x: 96),
        Shape(name: "conv 1->16 k3 p1 @ 64^3", cin: 1, cout: 16, k: 3, stride: 1, pad: 1, z: 64, y: 64, x: 64),
        Shape(name: "conv 16->32 k3 p1 @ 32^3", cin: 16, cout: 32, k: 3, stride: 1, pad: 1, z: 32, y: 32, x: 32),
        Shape(name: "conv 32->64 k3 s2 p1 @ 32^3", cin: 32, cout: 64, k: 3, stride: 2, pad: 1, z: 32, y: 32, x: 32),
        Shape(name: "conv 64->64 k3 p1 @ 16^3", cin: 64, cout: 64, k: 3, stride: 1, pad: 1, z: 16, y: 16, x: 16),
    ]
    var layers: [[String: Any]] = []
    for s in shapes {
        var seed: UInt64 = 9
        func rnd(_ n: Int) -> [Float] {
            (0..<n).map { _ in seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Float(seed >> 40) / Float(1 << 24) - 0.5 }
        }
        let input = FeatureVolume(channels: s.cin, slices: s.z, rows: s.y, columns: s.x, data: rnd(s.cin * s.z * s.y * s.x))
        let layer = Conv3DLayer(inChannels: s.cin, outChannels: s.cout, kernelSize: s.k, stride: s.stride, padding: s.pad,
                                weights: rnd(s.cout * s.cin * s.k * s.k * s.k), bias: rnd(s.cout), relu: true)
        let n = layer.outputExtent(s.z) * layer.outputExtent(s.y) * layer.outputExtent(s.x)
        let m = s.cout, kk = layer.patchLength
        let flops = 2.0 * Double(m) * Double(n) * Double(kk)
        let conv = measure { _ = Convolution3D.apply(layer, to: input, context: context, tileBytes: tileBytes, method: convMethod) }
        // Raw sgemm of the same M x N x K (no im2col, no tiling).
        let a = rnd(m * kk), b = rnd(kk * n)
        var c = [Float](repeating: 0, count: m * n)
        let raw = measure {
            context.withBLASThreads(context.workers) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(kk), 1, a, Int32(kk), b, Int32(n), 0, &c, Int32(n))
            }
        }
        // OpenBLAS's idle threads busy-wait for ~0.1 s after the threaded sgemm; left running,
        // they take a core from the next layer's Dispatch workers (some layers measured at half
        // speed). The product's Convolution3D stops them the same way after its threaded GEMMs.
        KernelContext.stopIdleBLASThreads()
        let path = convMethod == .im2colGEMM || (convMethod == .automatic && !Convolution3D.prefersDirect(layer))
            ? "im2col+sgemm" : "direct"
        layers.append(["name": s.name, "M": m, "N": n, "K": kk, "flops": flops, "path": path,
                       "conv_median_s": conv["median_s"]!, "sgemm_median_s": raw["median_s"]!,
                       "conv_gflops": flops / conv["median_s"]! / 1e9, "sgemm_gflops": flops / raw["median_s"]! / 1e9])
    }
    // Machine reference: a square sgemm.
    let dim = 2048
    let a = [Float](repeating: 0.5, count: dim * dim), b = [Float](repeating: 0.25, count: dim * dim)
    var c = [Float](repeating: 0, count: dim * dim)
    let sq = measure {
        context.withBLASThreads(context.workers) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(dim), Int32(dim), Int32(dim), 1, a, Int32(dim), b, Int32(dim), 0, &c, Int32(dim))
        }
    }
    ops["gemm_layers"] = layers
    ops["sgemm_square_2048_gflops"] = 2.0 * pow(Double(dim), 3) / sq["median_s"]! / 1e9
}

result["ops"] = ops
let json = try! JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys])
print(String(data: json, encoding: .utf8)!)
