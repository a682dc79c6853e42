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
    /// The study's `triage.priority` ("urgent", "soon", "routine"); nil when absent.
    public var priority: String?
    public var findings: [ReportedFinding]

    public init(path: String, seriesInstanceUID: String, succeeded: Bool = true, triageScore: Double?,
                priority: String? = nil, findings: [ReportedFinding]) {
        self.path = path
        self.seriesInstanceUID = seriesInstanceUID
        self.succeeded = succeeded
        self.triageScore = triageScore
        self.priority = priority
        self.findings = findings
    }
}

/// One detector finding: where (LPS mm), how confident, and what it measured.
public struct ReportedFinding: Sendable, Equatable {
    public var centerMM: SIMD3<Double>
    public var score: Double
    public var diameterMM: Double?
    /// Diameter of the sphere of the segmented volume (`equivalent_diameter_mm`), when the
    /// report gives it: the same definition as a phantom truth's `diameter_mm`.
    public var equivalentDiameterMM: Double?
    public var type: String?
    /// The finding's Lung-RADS category ("1" ... "4B"), when the report gives it.
    public var lungRADS: String?

    public init(centerMM: SIMD3<Double>, score: Double, diameterMM: Double? = nil,
                equivalentDiameterMM: Double? = nil, type: String? = nil, lungRADS: String? = nil) {
        self.centerMM = centerMM
        self.score = score
        self.diameterMM = diameterMM
        self.equivalentDiameterMM = equivalentDiameterMM
        self.type = type
        self.lungRADS = lungRADS
    }

    /// The diameter compared with the truth's `diameter_mm`: the equivalent (equal-volume)
    /// diameter when reported, else `diameter_mm`.
    public var comparedDiameterMM: Double? { equivalentDiameterMM ?? diameterMM }
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
        // Relative names computed once (resolving symlinks costs system calls).
        let named = files.map { (url: $0, name: relative($0)) }.sorted { $0.name < $1.name }

        var reports: [StudyReport] = []
        var warnings: [String] = []
        var pathBySeries: [String: String] = [:]
        for (file, name) in named {
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
    ///
    /// `JSONDecoder`, not `JSONSerialization`: on Linux the latter rounds some 17-digit
    /// decimals to a neighbouring double (1-2 ulp off), which flips findings that lie exactly
    /// on a nodule's boundary; `JSONDecoder` reads every number correctly rounded.
    public static func parse(_ data: Data, path: String) throws -> StudyReport {
        let decoder = JSONDecoder()
        let header: ReportHeader
        do {
            header = try decoder.decode(ReportHeader.self, from: data)
        } catch let error as DecodingError {
            throw ReportParseError(reason: reason(for: error))
        }
        guard let schema = header.schema else { throw ReportParseError(reason: "missing \"schema\"") }
        guard schema == StudyReport.schemaName else {
            throw ReportParseError(reason: "schema is \"\(schema)\", expected \"\(StudyReport.schemaName)\"")
        }
        guard let seriesUID = header.study?.seriesInstanceUID, !seriesUID.isEmpty else {
            throw ReportParseError(reason: "missing study.series_instance_uid")
        }
        guard let status = header.status else { throw ReportParseError(reason: "missing \"status\"") }
        switch status {
        case "ok": break
        case "failed":
            // Whatever else a failed report holds is not read: it counts as no findings.
            return StudyReport(path: path, seriesInstanceUID: seriesUID, succeeded: false, triageScore: nil, findings: [])
        default:
            throw ReportParseError(reason: "status is \"\(status)\", expected \"ok\" or \"failed\"")
        }
        let body: ReportBody
        do {
            body = try decoder.decode(ReportBody.self, from: data)
        } catch let error as DecodingError {
            throw ReportParseError(reason: reason(for: error))
        }
        guard let list = body.findings else { throw ReportParseError(reason: "missing \"findings\" list") }
        var findings: [ReportedFinding] = []
        findings.reserveCapacity(list.count)
        for (index, item) in list.enumerated() {
            guard item.centerMM.count == 3, item.centerMM.allSatisfy(\.isFinite) else {
                throw ReportParseError(reason: "findings[\(index)].center_mm is not three numbers")
            }
            findings.append(ReportedFinding(centerMM: SIMD3(item.centerMM[0], item.centerMM[1], item.centerMM[2]),
                                            score: item.score, diameterMM: item.diameterMM,
                                            equivalentDiameterMM: item.equivalentDiameterMM, type: item.type,
                                            lungRADS: item.lungRADS))
        }
        return StudyReport(path: path, seriesInstanceUID: seriesUID, succeeded: true,
                           triageScore: body.triage?.score, priority: body.triage?.priority, findings: findings)
    }

    /// The fields needed to decide how to read the rest.
    private struct ReportHeader: Decodable {
        struct Study: Decodable {
            var seriesInstanceUID: String?
            enum CodingKeys: String, CodingKey { case seriesInstanceUID = "series_instance_uid" }
        }
        var schema: String?
        var status: String?
        var study: Study?
    }

    private struct ReportBody: Decodable {
        struct Triage: Decodable {
            var score: Double?
            var priority: String?
        }
        struct Finding: Decodable {
            var centerMM: [Double]
            var score: Double
            var diameterMM: Double?
            var equivalentDiameterMM: Double?
            var type: String?
            var lungRADS: String?
            enum CodingKeys: String, CodingKey {
                case centerMM = "center_mm"
                case score
                case diameterMM = "diameter_mm"
                case equivalentDiameterMM = "equivalent_diameter_mm"
                case type
                case lungRADS = "lung_rads"
            }
        }
        var triage: Triage?
        var findings: [Finding]?
    }

    private static func reason(for error: DecodingError) -> String {
        if case .dataCorrupted(let context) = error, context.codingPath.isEmpty { return "not valid JSON" }
        return EvaluationError.describe(error)
    }
}
