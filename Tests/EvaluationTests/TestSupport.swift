@testable import Evaluation
import Foundation

/// Small builders for hand-made cases.
func nodule(_ id: String, _ x: Double, _ y: Double, _ z: Double, diameter: Double,
            type: String = "solid", location: String = "isolated") -> TruthNodule {
    TruthNodule(id: id, centerMM: [x, y, z], diameterMM: diameter, type: type, location: location)
}

func finding(_ x: Double, _ y: Double, _ z: Double, score: Double, diameter: Double? = nil,
             type: String? = nil) -> ReportedFinding {
    ReportedFinding(centerMM: SIMD3(x, y, z), score: score, diameterMM: diameter, type: type)
}

func truthCase(_ id: String, _ nodules: [TruthNodule]) -> TruthCase {
    TruthCase(caseID: id, seriesInstanceUID: "1.2.3.\(id)", nodules: nodules)
}

func report(for truthCase: TruthCase, _ findings: [ReportedFinding], triageScore: Double? = nil,
            priority: String? = nil, failed: Bool = false) -> StudyReport {
    StudyReport(path: "\(truthCase.caseID)/findings.json", seriesInstanceUID: truthCase.seriesInstanceUID,
                succeeded: !failed, triageScore: triageScore ?? findings.map(\.score).max() ?? 0,
                priority: priority, findings: failed ? [] : findings)
}

/// A fresh empty folder under the system temporary directory.
func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("evaluation-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func write(_ text: String, to url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
}
