// swift-tools-version: 6.1
//
// Benchmarks for the chest-CT triage pipeline, kept out of the main package so the app and
// its tests never build the benchmark framework.
//
//   scripts/bench.sh                      (from the repository root: setup, build, every suite)
//   cd Benchmarks && swift package --allow-writing-to-package-directory benchmark
//
// Suites live in Benchmarks/Benchmarks/<Suite>/ (the ordo-one plugin discovers executable
// targets whose folder sits in a folder named "Benchmarks"). Side-by-side comparisons with the
// Python references are the compare_*.py scripts next to this file.
import PackageDescription

/// One ordo-one suite: an executable in Benchmarks/<name>/ with the benchmark plugin.
func suite(_ name: String, extra: [Target.Dependency] = []) -> Target {
    .executableTarget(
        name: name,
        dependencies: [
            "BenchmarkHarness",
            .product(name: "Benchmark", package: "benchmark"),
            .product(name: "TriageKit", package: "ChestCTTriage"),
        ] + extra,
        path: "Benchmarks/\(name)",
        swiftSettings: [.swiftLanguageMode(.v5)],
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    )
}

let package = Package(
    name: "ChestCTTriageBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "ChestCTTriage", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
        // Logger for the full-study suite's BatchRunner (same package the main package uses).
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // Shared by the suites: the generated phantom study they read, throughput metrics.
        .target(
            name: "BenchmarkHarness",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TriageKit", package: "ChestCTTriage"),
            ],
            path: "Support/BenchmarkHarness",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        suite("KernelBenchmarks"),
        suite("DecodeBenchmarks"),
        suite("DetectionBenchmarks"),
        suite("StudyBenchmarks", extra: [.product(name: "Logging", package: "swift-log")]),
        // Plain executable used by compare_kernels.py: times our kernels on a volume file and
        // prints JSON (not a benchmark suite, so it lives outside Benchmarks/Benchmarks).
        .executableTarget(
            name: "kernels-compare",
            dependencies: [.product(name: "TriageKit", package: "ChestCTTriage")],
            path: "Tools/KernelsCompare",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ]
)
