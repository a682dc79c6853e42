// swift-tools-version: 6.0
//
// Chest-CT triage batch pipeline. The target layout follows the data flow:
//
//   Input (DICOM, ImageCodecs -> SeriesInput)
//        -> Kernels (Dispatch-parallel filters, OpenBLAS GEMM)
//        -> Detection (lung mask, candidates, features, scoring, Lung-RADS)
//        -> Pipeline (staged workers, queue, journal)
//        -> Reports (findings.json, HTML, worklist)
//        -> CLI (`triage`)
//
// Validation (Phantoms, Evaluation) makes synthetic scans with ground truth and
// scores detections the LUNA16 way. Profiling sits underneath everything so
// kernels can record spans without depending on the runtime.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    // Swift 5 mode: the kernels hand raw buffers to DispatchQueue.concurrentPerform,
    // which strict Sendable checking rejects without adding anything here.
    .swiftLanguageMode(.v5),
]

// Kernels' inner loops are instruction-bound with SSE2 (x86-64 baseline): build that module for
// AVX2 (x86-64 Haswell / AMD Zen and later; every x86 server since 2013), 8 floats per
// instruction with unaligned memory operands (docs/kernels.md, "Instruction set"). No errno
// from C math: otherwise each square root is a per-lane call to libm's `sqrt` (not `vsqrtpd`).
// Only when the building machine has AVX2 and FMA (read from /proc/cpuinfo on Linux): the
// binary is built where it runs, and on an older or emulated CPU an AVX2 build would die
// with an illegal instruction, so there the module stays at the x86-64 baseline.
#if arch(x86_64) && os(Linux)
import Foundation
let hostCPUFlags = ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "")
    .split(separator: "\n").first { $0.hasPrefix("flags") }.map { Set($0.split(separator: " ")) } ?? []
let hostHasAVX2FMA = hostCPUFlags.contains("avx2") && hostCPUFlags.contains("fma")
let kernelsCPU: [SwiftSetting] = hostHasAVX2FMA
    ? [.unsafeFlags(["-target-cpu", "haswell", "-Xcc", "-fno-math-errno"])]
    : [.unsafeFlags(["-Xcc", "-fno-math-errno"])]
#else
let kernelsCPU: [SwiftSetting] = []
#endif

let package = Package(
    name: "ChestCTTriage",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "triage", targets: ["TriageCLI"]),
        .library(name: "TriageKit", targets: [
            "Volumes", "DICOM", "ImageCodecs", "SeriesInput", "Kernels", "Detection",
            "Phantoms", "Evaluation", "Pipeline", "Reports", "Profiling",
        ]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),   // LogHandler.log(event:)
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // System libraries (installed by scripts/setup.sh, never vendored).
        .systemLibrary(name: "CPNG", path: "Sources/System/CPNG"),
        .systemLibrary(name: "CJPEG", path: "Sources/System/CJPEG"),
        .systemLibrary(name: "COpenBLAS", path: "Sources/System/COpenBLAS"),

        // Shared data type: a voxel grid with its patient geometry.
        .target(name: "Volumes", path: "Sources/Volumes", swiftSettings: swiftSettings),
        // Spans, counters, machine calibration.
        .target(name: "Profiling", dependencies: ["COpenBLAS"], path: "Sources/Profiling",
                swiftSettings: swiftSettings),

        // Input.
        // C shim: the setjmp landing point libpng/libjpeg error handling needs (Swift cannot setjmp).
        .target(name: "CImageCodecShim", dependencies: ["CPNG", "CJPEG"], path: "Sources/System/CImageCodecShim",
                linkerSettings: [.linkedLibrary("png"), .linkedLibrary("jpeg")]),
        .target(name: "ImageCodecs", dependencies: ["CPNG", "CJPEG", "CImageCodecShim"],
                path: "Sources/Input/ImageCodecs", swiftSettings: swiftSettings),
        // The stored -> HU conversion (DICOMGrey16HUKernel) is the hot loop of reading a
        // series: built for AVX2 like Kernels when the building machine has it.
        .target(name: "DICOM", dependencies: ["ImageCodecs"],
                path: "Sources/Input/DICOM", swiftSettings: swiftSettings + kernelsCPU),
        .target(name: "SeriesInput", dependencies: ["DICOM", "ImageCodecs", "Volumes", "Profiling",
                                                    .product(name: "Logging", package: "swift-log")],
                path: "Sources/Input/SeriesInput", swiftSettings: swiftSettings),

        // Compute.
        .target(name: "Kernels", dependencies: ["Volumes", "Profiling", "COpenBLAS"],
                path: "Sources/Kernels", swiftSettings: swiftSettings + kernelsCPU),
        .target(name: "Detection", dependencies: ["Kernels", "Volumes", "SeriesInput", "Profiling"],
                path: "Sources/Detection", resources: [.copy("Model")], swiftSettings: swiftSettings),

        // Validation: synthetic scans with truth, and LUNA16-style scoring.
        .target(name: "Phantoms", dependencies: ["Volumes", "DICOM", "ImageCodecs", "Kernels"],
                path: "Sources/Validation/Phantoms", swiftSettings: swiftSettings),
        .target(name: "Evaluation", dependencies: ["ImageCodecs"],
                path: "Sources/Validation/Evaluation", swiftSettings: swiftSettings),

        // Runtime and output.
        .target(name: "Reports", dependencies: ["Detection", "SeriesInput", "ImageCodecs", "Volumes", "Profiling"],
                path: "Sources/Reports", swiftSettings: swiftSettings),
        .target(name: "Pipeline", dependencies: ["SeriesInput", "Detection", "Reports", "Kernels", "Profiling",
                                                 .product(name: "Yams", package: "Yams"),
                                                 .product(name: "Logging", package: "swift-log")],
                path: "Sources/Pipeline", swiftSettings: swiftSettings),

        .executableTarget(name: "TriageCLI", dependencies: [
            "Pipeline", "SeriesInput", "Detection", "Reports", "Phantoms", "Evaluation", "Profiling", "Kernels",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Sources/CLI", swiftSettings: swiftSettings),

        // Tests sit beside each module's concern.
        .testTarget(name: "DICOMTests", dependencies: ["DICOM"], path: "Tests/DICOMTests",
                    resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(name: "ImageCodecsTests", dependencies: ["ImageCodecs"], path: "Tests/ImageCodecsTests",
                    resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(name: "SeriesInputTests", dependencies: ["SeriesInput", "DICOM", "ImageCodecs", "Volumes"],
                    path: "Tests/SeriesInputTests", swiftSettings: swiftSettings),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "Volumes"], path: "Tests/KernelsTests",
                    resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(name: "DetectionTests", dependencies: ["Detection", "Kernels", "Volumes", "Phantoms", "SeriesInput"],
                    path: "Tests/DetectionTests", resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(name: "PhantomsTests", dependencies: ["Phantoms", "SeriesInput", "Volumes"],
                    path: "Tests/PhantomsTests", swiftSettings: swiftSettings),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation"], path: "Tests/EvaluationTests",
                    resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Detection", "SeriesInput", "Volumes"],
                    path: "Tests/ReportsTests", swiftSettings: swiftSettings),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Phantoms", "SeriesInput", "DICOM"],
                    path: "Tests/PipelineTests", swiftSettings: swiftSettings),
        .testTarget(name: "ProfilingTests", dependencies: ["Profiling"], path: "Tests/ProfilingTests",
                    swiftSettings: swiftSettings),
    ]
)
