import Foundation

/// What evaluation reads from one `findings.json` (schema `triage.findings.v1`).
public struct StudyReport: Sendable, Equatable {
    public static let schemaName = "triage.findings.v1"

    /// Where the report was found (relative to the reports folder when collected from one).
    public var path: String
    public var seriesInstanceUID: String
    /// False for `status: "failed"`: the study counts as having no findings.
    public var succeeded: Bool
    /// The study's `triage.score` in [0, 1]; nil when absent (or the study failed).
    public var triageScore: Double?
    public var findings: [ReportedFinding]

    public init(path: String, seriesInstanceUID: String, succeeded: Bool = true, triageScore: Double?,
                findings: [ReportedFinding]) {
        self.path = path
        self.seriesInstanceUID = seriesInstanceUID
        self.succeeded = succeeded
        self.triageScore = triageScore
        self.findings = findings
    }
}

/// One detector finding: where (LPS mm), how confident, and what it measured.
public struct ReportedFinding: Sendable, Equatable {
    public var centerMM: SIMD3<Double>
    public var score: Double
    public var diameterMM: Double?
    public var type: String?

    public init(centerMM: SIMD3<Double>, score: Double, diameterMM: Double? = nil, type: String? = nil) {
        self.centerMM = centerMM
        self.score = score
        self.diameterMM = diameterMM
        self.type = type
    }
}

/// Finds and parses every `findings.json` under a folder.
public enum StudyReportCollector {
    /// The reports found and the files that could not be used (with reasons).
    public struct Collection: Sendable {
        public var reports: [StudyReport]
        public var warnings: [String]
    }

    /// Walks `directory` recursively (sorted, so the result does not depend on directory order)
    /// and parses each file named `findings.json`. A file that cannot be parsed is skipped with
    /// a warning naming it; two reports for the same series are an error.
    public static func collect(directory: URL) throws -> Collection {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory),
              isDirectory.boolValue else {
            throw EvaluationError.notADirectory(path: directory.path)
        }
        let root = directory.standardizedFileURL.resolvingSymlinksInPath()
        var files: [URL] = []
        if let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) {
            for case let url as URL in enumerator where url.lastPathComponent == "findings.json" {
                files.append(url)
            }
        }
        let rootPath = root.path.hasSuffix("/") ? root.path : root.path + "/"
        func relative(_ url: URL) -> String {
            let full = url.resolvingSymlinksInPath().path
            return full.hasPrefix(rootPath) ? String(full.dropFirst(rootPath.count)) : full
        }
        files.sort { relative($0) < relative($1) }

        var reports: [StudyReport] = []
        var warnings: [String] = []
        var pathBySeries: [String: String] = [:]
        for file in files {
            let name = relative(file)
            do {
                let data = try Data(contentsOf: file)
                let report = try parse(data, path: name)
                if let earlier = pathBySeries[report.seriesInstanceUID] {
                    throw EvaluationError.duplicateReports(firstPath: earlier, secondPath: name)
                }
                pathBySeries[report.seriesInstanceUID] = name
                reports.append(report)
            } catch let error as ReportParseError {
                warnings.append("\(name): skipped: \(error.reason)")
            } catch let error as EvaluationError {
                throw error
            } catch {
                warnings.append("\(name): skipped: cannot read (\(error.localizedDescription))")
            }
        }
        return Collection(reports: reports, warnings: warnings)
    }

    struct ReportParseError: Error {
        var reason: String
    }

    /// Parses one findings document. Extra fields are ignored; the fields evaluation relies on
    /// must have the right types.
    public static func parse(_ data: Data, path: String) throws -> StudyReport {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ReportParseError(reason: "not valid JSON")
        }
        guard let root = object as? [String: Any] else {
            throw ReportParseError(reason: "top level is not a JSON object")
        }
        guard let schema = root["schema"] as? String else {
            throw ReportParseError(reason: "missing \"schema\"")
        }
        guard schema == StudyReport.schemaName else {
            throw ReportParseError(reason: "schema is \"\(schema)\", expected \"\(StudyReport.schemaName)\"")
        }
        guard let study = root["study"] as? [String: Any],
              let seriesUID = study["series_instance_uid"] as? String, !seriesUID.isEmpty else {
            throw ReportParseError(reason: "missing study.series_instance_uid")
        }
        guard let status = root["status"] as? String else {
            throw ReportParseError(reason: "missing \"status\"")
        }
        switch status {
        case "ok": break
        case "failed":
            return StudyReport(path: path, seriesInstanceUID: seriesUID, succeeded: false, triageScore: nil, findings: [])
        default:
            throw ReportParseError(reason: "status is \"\(status)\", expected \"ok\" or \"failed\"")
        }
        var triageScore: Double?
        if let triage = root["triage"] as? [String: Any], let value = triage["score"] {
            guard let score = number(value) else {
                throw ReportParseError(reason: "triage.score is not a number")
            }
            triageScore = score
        }
        guard let list = root["findings"] as? [Any] else {
            throw ReportParseError(reason: "missing \"findings\" list")
        }
        var findings: [ReportedFinding] = []
        findings.reserveCapacity(list.count)
        for (index, item) in list.enumerated() {
            guard let finding = item as? [String: Any] else {
                throw ReportParseError(reason: "findings[\(index)] is not an object")
            }
            guard let center = finding["center_mm"] as? [Any], center.count == 3,
                  let x = number(center[0]), let y = number(center[1]), let z = number(center[2]) else {
                throw ReportParseError(reason: "findings[\(index)].center_mm is not three numbers")
            }
            guard let scoreValue = finding["score"], let score = number(scoreValue) else {
                throw ReportParseError(reason: "findings[\(index)].score is not a number")
            }
            let diameter = finding["diameter_mm"].flatMap(number)
            let type = finding["type"] as? String
            findings.append(ReportedFinding(centerMM: SIMD3(x, y, z), score: score, diameterMM: diameter, type: type))
        }
        return StudyReport(path: path, seriesInstanceUID: seriesUID, succeeded: true,
                           triageScore: triageScore, findings: findings)
    }

    /// A finite JSON number (booleans are not numbers here).
    private static func number(_ value: Any) -> Double? {
        guard let number = value as? NSNumber else { return nil }
        // JSONSerialization hands booleans over as NSNumber too (objCType "c"); reject them.
        if String(cString: number.objCType) == "c" { return nil }
        let double = number.doubleValue
        return double.isFinite ? double : nil
    }
}
