// swift-tools-version: 6.1
//
// Benchmarks for the chest-CT triage pipeline, kept out of the main package so the app and
// its tests never build the benchmark framework.
//
//   cd Benchmarks && swift package --allow-writing-to-package-directory benchmark
//
// Suites live in Benchmarks/Benchmarks/<Suite>/ (the ordo-one plugin discovers executable
// targets whose folder sits in a folder named "Benchmarks"). Side-by-side comparisons with the
// Python references are the compare_*.py scripts next to this file.
import PackageDescription

let package = Package(
    name: "ChestCTTriageBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "ChestCTTriage", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "KernelBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TriageKit", package: "ChestCTTriage"),
            ],
            path: "Benchmarks/KernelBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v5)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
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
