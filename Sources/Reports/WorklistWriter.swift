import Foundation

/// One row of the batch worklist, derived from a study's `findings.json`.
public struct WorklistEntry: Codable, Sendable, Equatable {
    /// The study folder under `OUT/studies/`.
    public var folder: String
    /// "ok" or "failed".
    public var status: String
    public var failedStage: String?
    public var error: String?
    public var patientID: String?
    public var patientName: String?
    public var studyDate: String?
    public var accessionNumber: String?
    public var studyInstanceUID: String?
    public var seriesInstanceUID: String?
    public var seriesDescription: String?
    /// nil for a failed study.
    public var priority: String?
    public var score: Double?
    public var lungRADS: String?
    public var findingCount: Int
    /// Findings of Lung-RADS 3 or higher.
    public var actionableCount: Int
    /// The finding that sets the study's Lung-RADS category and priority
    /// (`FindingsDocument.leadingFinding`); nil when no finding is at or above the actionable
    /// score. It is what the radiologist opens the report for, and is often not the largest.
    public var leadingFinding: FindingSummary?
    /// The finding with the largest diameter, if any (whatever its score).
    public var largestFinding: FindingSummary?
    /// Relative to `OUT`.
    public var thumbnail: String?
    public var report: String

    /// One finding of the study, as the worklist shows it.
    public struct FindingSummary: Codable, Sendable, Equatable {
        public var id: String
        public var rank: Int
        public var diameterMM: Double
        public var type: String
        public var lungRADS: String
        /// Its score: the largest finding is often a low-score one, whose category does not count.
        public var score: Double
        enum CodingKeys: String, CodingKey {
            case id, rank, diameterMM = "diameter_mm", type, lungRADS = "lung_rads", score
        }

        init(_ f: FindingsDocument.FindingRecord) {
            self.init(id: f.id, rank: f.rank, diameterMM: f.diameterMM, type: f.type, lungRADS: f.lungRADS, score: f.score)
        }

        init(id: String, rank: Int, diameterMM: Double, type: String, lungRADS: String, score: Double) {
            self.id = id
            self.rank = rank
            self.diameterMM = diameterMM
            self.type = type
            self.lungRADS = lungRADS
            self.score = score
        }
    }

    enum CodingKeys: String, CodingKey {
        case folder, status, failedStage = "failed_stage", error, patientID = "patient_id"
        case patientName = "patient_name", studyDate = "study_date", accessionNumber = "accession_number"
        case studyInstanceUID = "study_instance_uid", seriesInstanceUID = "series_instance_uid"
        case seriesDescription = "series_description", priority, score, lungRADS = "lung_rads"
        case findingCount = "finding_count", actionableCount = "actionable_count"
        case leadingFinding = "leading_finding", largestFinding = "largest_finding", thumbnail, report
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(folder, forKey: .folder)
        try c.encode(status, forKey: .status)
        try c.encode(failedStage, forKey: .failedStage)
        try c.encode(error, forKey: .error)
        try c.encode(patientID, forKey: .patientID)
        try c.encode(patientName, forKey: .patientName)
        try c.encode(studyDate, forKey: .studyDate)
        try c.encode(accessionNumber, forKey: .accessionNumber)
        try c.encode(studyInstanceUID, forKey: .studyInstanceUID)
        try c.encode(seriesInstanceUID, forKey: .seriesInstanceUID)
        try c.encode(seriesDescription, forKey: .seriesDescription)
        try c.encode(priority, forKey: .priority)
        try c.encode(score, forKey: .score)
        try c.encode(lungRADS, forKey: .lungRADS)
        try c.encode(findingCount, forKey: .findingCount)
        try c.encode(actionableCount, forKey: .actionableCount)
        try c.encode(leadingFinding, forKey: .leadingFinding)
        try c.encode(largestFinding, forKey: .largestFinding)
        try c.encode(thumbnail, forKey: .thumbnail)
        try c.encode(report, forKey: .report)
    }

    /// The worklist row of the study in `OUT/studies/<folder>/` whose findings are `document`.
    public init(folder: String, document d: FindingsDocument) {
        self.folder = folder
        status = d.status
        failedStage = d.failedStage
        error = d.error
        patientID = d.study.patientID
        patientName = d.study.patientName
        studyDate = d.study.studyDate
        accessionNumber = d.study.accessionNumber
        studyInstanceUID = d.study.studyInstanceUID
        seriesInstanceUID = d.study.seriesInstanceUID
        seriesDescription = d.study.seriesDescription
        priority = d.triage?.priority
        score = d.triage?.score
        lungRADS = d.triage?.lungRADS
        findingCount = d.findings.count
        actionableCount = d.triage?.actionableCount ?? 0
        leadingFinding = FindingsDocument.leadingFinding(of: d.findings, actionableScore: d.triage?.actionableScore)
            .map(FindingSummary.init)
        largestFinding = d.findings.max { ($0.diameterMM, -$0.rank) < ($1.diameterMM, -$1.rank) }.map(FindingSummary.init)
        thumbnail = d.thumbnail.map { "studies/\(folder)/\($0)" }
        report = "studies/\(folder)/\(d.reportHTML)"
    }

    /// A study folder whose `findings.json` could not be read: listed as failed.
    public init(folder: String, unreadableReason: String) {
        self.folder = folder
        status = "failed"
        failedStage = "report"
        error = unreadableReason
        findingCount = 0
        actionableCount = 0
        report = "studies/\(folder)/\(StudyReportWriter.reportFileName)"
    }
}

/// Writes the batch worklist, `OUT/worklist.html`, `worklist.csv` and `worklist.json`:
/// failed studies first (own section, with the stage and reason), then assessed studies
/// ranked by priority (urgent, soon, routine), then triage score (highest first), then
/// folder name (so the order is total and reproducible).
public enum WorklistWriter {
    public static let schemaID = "triage.worklist.v1"

    /// Failed studies (by folder name) followed by assessed studies in reading order.
    public static func ranked(_ entries: [WorklistEntry]) -> [WorklistEntry] {
        let failed = entries.filter { $0.status != "ok" }.sorted { $0.folder < $1.folder }
        let assessed = entries.filter { $0.status == "ok" }.sorted { a, b in
            let pa = priorityOrder(a.priority), pb = priorityOrder(b.priority)
            if pa != pb { return pa < pb }
            let sa = a.score ?? -1, sb = b.score ?? -1
            if sa != sb { return sa > sb }
            return a.folder < b.folder
        }
        return failed + assessed
    }

    private static func priorityOrder(_ p: String?) -> Int {
        switch p {
        case "urgent": 0
        case "soon": 1
        case "routine": 2
        default: 3
        }
    }

    /// Rows for every study folder in `OUT/studies` that has a `findings.json` (complete
    /// reports only; `.tmp-*` folders are ignored). An unreadable `findings.json` becomes a
    /// failed row naming the problem.
    public static func collectEntries(outputDirectory: URL) -> [WorklistEntry] {
        let studies = outputDirectory.appendingPathComponent("studies", isDirectory: true)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: studies.path)) ?? []
        var entries: [WorklistEntry] = []
        for name in names.sorted() where ReportFiles.isSafeFolderName(name) {
            let url = studies.appendingPathComponent(name).appendingPathComponent(StudyReportWriter.findingsFileName)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            do {
                entries.append(WorklistEntry(folder: name, document: try FindingsDocument.read(from: url)))
            } catch {
                entries.append(WorklistEntry(folder: name, unreadableReason: String(describing: error)))
            }
        }
        return entries
    }

    /// Collects every complete study report under `OUT/studies` and writes the worklist.
    @discardableResult
    public static func writeFromReports(outputDirectory: URL, title: String = "Chest CT triage worklist") throws
        -> [WorklistEntry] {
        let entries = collectEntries(outputDirectory: outputDirectory)
        try write(entries: entries, to: outputDirectory, title: title)
        return ranked(entries)
    }

    /// Writes the three worklist files into `outputDirectory` (each via a temporary name).
    public static func write(entries: [WorklistEntry], to outputDirectory: URL,
                             title: String = "Chest CT triage worklist") throws {
        try ReportFiles.createDirectory(outputDirectory)
        let order = ranked(entries)
        let generatedAt = ReportFiles.timestamp()
        try ReportFiles.writeAtomically(csv(order), to: outputDirectory.appendingPathComponent("worklist.csv"))
        try ReportFiles.writeAtomically(try json(order, generatedAt: generatedAt),
                                        to: outputDirectory.appendingPathComponent("worklist.json"))
        try ReportFiles.writeAtomically(html(order, title: title, generatedAt: generatedAt),
                                        to: outputDirectory.appendingPathComponent("worklist.html"))
        ReportFiles.syncDirectory(outputDirectory)
    }

    // MARK: - JSON

    struct Document: Encodable {
        var schema: String
        var generatedAt: String
        var studyCount: Int
        var failedCount: Int
        var studies: [WorklistEntry]
        enum CodingKeys: String, CodingKey {
            case schema, generatedAt = "generated_at", studyCount = "study_count", failedCount = "failed_count", studies
        }
    }

    static func json(_ ranked: [WorklistEntry], generatedAt: String) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(Document(schema: schemaID, generatedAt: generatedAt, studyCount: ranked.count,
                                               failedCount: ranked.filter { $0.status != "ok" }.count,
                                               studies: ranked))
        data.append(0x0A)
        return data
    }

    // MARK: - CSV

    static let csvColumns = [
        "order", "status", "priority", "score", "lung_rads", "finding_count", "actionable_count",
        "largest_diameter_mm", "largest_type", "largest_lung_rads", "largest_score", "patient_id", "patient_name", "study_date",
        "accession_number", "study_instance_uid", "series_instance_uid", "series_description", "failed_stage",
        "error", "report", "folder", "leading_diameter_mm", "leading_type", "leading_lung_rads", "leading_score",
    ]

    /// RFC 4180 CSV (CRLF line ends; a field with a comma, quote, CR or LF is quoted and its
    /// quotes doubled). Text fields that a spreadsheet would run as a formula (leading
    /// `= + - @`, tab or CR) get a leading apostrophe (OWASP CSV-injection advice).
    static func csv(_ ranked: [WorklistEntry]) -> String {
        var out = csvColumns.joined(separator: ",") + "\r\n"
        for (i, e) in ranked.enumerated() {
            let fields: [String] = [
                String(i + 1), e.status, e.priority ?? "", e.score.map { String(format: "%.4f", $0) } ?? "",
                e.lungRADS ?? "", String(e.findingCount), String(e.actionableCount),
                e.largestFinding.map { String(format: "%.1f", $0.diameterMM) } ?? "",
                e.largestFinding?.type ?? "", e.largestFinding?.lungRADS ?? "",
                e.largestFinding.map { String(format: "%.4f", $0.score) } ?? "",
                text(e.patientID), text(e.patientName), text(e.studyDate), text(e.accessionNumber),
                text(e.studyInstanceUID), text(e.seriesInstanceUID), text(e.seriesDescription),
                e.failedStage ?? "", text(e.error), e.report, e.folder,
                e.leadingFinding.map { String(format: "%.1f", $0.diameterMM) } ?? "",
                e.leadingFinding?.type ?? "", e.leadingFinding?.lungRADS ?? "",
                e.leadingFinding.map { String(format: "%.4f", $0.score) } ?? "",
            ]
            out += fields.map(csvField).joined(separator: ",") + "\r\n"
        }
        return out
    }

    private static func text(_ s: String?) -> String {
        guard let s, let first = s.unicodeScalars.first else { return "" }
        return "=+-@\t\r".unicodeScalars.contains(first) ? "'" + s : s
    }

    static func csvField(_ s: String) -> String {
        if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    // MARK: - HTML

    static func html(_ ranked: [WorklistEntry], title: String, generatedAt: String) -> String {
        let failed = ranked.filter { $0.status != "ok" }
        let assessed = ranked.filter { $0.status == "ok" }
        var h = HTMLText.pageHead(title: title)
        h += """
        <h1>\(HTMLText.escape(title))</h1>
        <p class="disclaimer">\(HTMLText.escape(StudyReportHTML.disclaimer))</p>
        <p class="muted">\(ranked.count) stud\(ranked.count == 1 ? "y" : "ies"): \(assessed.filter { $0.priority == "urgent" }.count) urgent, \
        \(assessed.filter { $0.priority == "soon" }.count) soon, \(assessed.filter { $0.priority == "routine" }.count) routine, \
        \(failed.count) failed &middot; written \(HTMLText.escape(generatedAt))</p>

        """
        if !failed.isEmpty {
            h += "<h2>Failed: not assessed (\(failed.count))</h2>\n<table class=\"failed\">\n"
            h += "<thead><tr><th>Patient</th><th>Study date</th><th>Accession</th><th>Stage</th><th>Reason</th><th>Report</th></tr></thead>\n<tbody>\n"
            for e in failed {
                h += "<tr class=\"failed\"><td>\(patientCell(e))</td><td>\(HTMLText.studyDate(e.studyDate))</td>"
                h += "<td>\(HTMLText.escape(e.accessionNumber))</td><td>\(HTMLText.escape(e.failedStage))</td>"
                h += "<td class=\"error\">\(HTMLText.escape(e.error))</td>"
                h += "<td><a href=\"\(HTMLText.relativeURL(e.report))\">details</a></td></tr>\n"
            }
            h += "</tbody>\n</table>\n"
        }
        h += "<h2>Studies in reading order (\(assessed.count))</h2>\n"
        if assessed.isEmpty {
            h += "<p>No assessed studies.</p>\n"
        } else {
            h += "<table class=\"worklist\">\n<thead><tr><th>#</th><th>Priority</th><th>Score</th><th>Patient</th>"
            h += "<th>Study date</th><th>Accession</th><th>Findings (actionable)</th><th>Leading finding</th>"
            h += "<th>Largest finding</th>"
            h += "<th>Study Lung-RADS</th><th>Key image</th><th>Report</th></tr></thead>\n<tbody>\n"
            for (i, e) in assessed.enumerated() {
                let priority = e.priority ?? "routine"
                h += "<tr><td class=\"num\">\(i + 1)</td>"
                h += "<td><span class=\"badge \(HTMLText.escape(priority))\">\(HTMLText.escape(priority))</span></td>"
                h += "<td class=\"num\">\(e.score.map { HTMLText.number($0, decimals: 2) } ?? "&mdash;")</td>"
                h += "<td>\(patientCell(e))</td><td>\(HTMLText.studyDate(e.studyDate))</td>"
                h += "<td>\(HTMLText.escape(e.accessionNumber))</td>"
                h += "<td class=\"num\">\(e.findingCount) (\(e.actionableCount))</td>"
                // The Lung-RADS column is the study's category (from findings at or above the
                // actionable score), the same one that sets the priority; the leading finding is
                // the one that sets it. The largest finding shows its own category and score, as
                // it may be a low-score one (a routine study's "14 mm solid (4A)" read as
                // alarming without its 0.05); "the leading one" when it is the same finding.
                h += "<td>\(e.leadingFinding.map(summaryText) ?? "&mdash;")</td>"
                if let l = e.largestFinding, l != e.leadingFinding {
                    h += "<td>\(summaryText(l))</td>"
                } else {
                    h += e.largestFinding == nil ? "<td>&mdash;</td>" : "<td class=\"muted\">the leading one</td>"
                }
                h += "<td>\(HTMLText.escape(e.lungRADS))</td>"
                let report = HTMLText.relativeURL(e.report)
                if let thumb = e.thumbnail {
                    h += "<td><a href=\"\(report)\"><img class=\"thumb\" src=\"\(HTMLText.relativeURL(thumb))\" "
                    h += "width=\"72\" height=\"72\" alt=\"key image\"></a></td>"
                } else {
                    h += "<td>&mdash;</td>"
                }
                h += "<td><a href=\"\(report)\">open</a></td></tr>\n"
            }
            h += "</tbody>\n</table>\n"
        }
        h += "<footer><p>Ranked by priority (urgent, soon, routine), then triage score. "
        h += "Also as worklist.csv and worklist.json.</p></footer>\n</body>\n</html>\n"
        return h
    }

    /// "12.0 mm part-solid (4A, score 0.80)".
    private static func summaryText(_ f: WorklistEntry.FindingSummary) -> String {
        "\(HTMLText.number(f.diameterMM, decimals: 1)) mm \(HTMLText.escape(f.type)) "
            + "(\(HTMLText.escape(f.lungRADS)), score \(HTMLText.number(f.score, decimals: 2)))"
    }

    private static func patientCell(_ e: WorklistEntry) -> String {
        let name = e.patientName.map { HTMLText.escape(HTMLText.personName($0)) }
        let id = e.patientID.map { HTMLText.escape($0) }
        switch (name, id) {
        case let (n?, i?): return "\(n)<br><span class=\"muted\">\(i)</span>"
        case let (n?, nil): return n
        case let (nil, i?): return i
        default: return "&mdash;"
        }
    }
}
