import Foundation
import Detection

/// Builds `report.html` from the same `FindingsDocument` that goes to `findings.json`, so
/// the page and the JSON never disagree. Self-contained: inline CSS, images by relative
/// path, no scripts, no network.
enum StudyReportHTML {
    struct Figure: Sendable {
        var path: String
        var cssClass: String
        var width: Int
        var height: Int
        var caption: String
    }

    static let disclaimer = "Triage support, not a diagnosis. Every finding must be confirmed by a radiologist on the full series."

    static func assessed(_ d: FindingsDocument, figures: [String: [Figure]]) -> String {
        var h = HTMLText.pageHead(title: title(d))
        h += "<p class=\"disclaimer\">\(HTMLText.escape(disclaimer))</p>\n"
        h += header(d)
        if let series = d.series, !series.warnings.isEmpty {
            h += "<h2>Series warnings</h2>\n<ul class=\"warnings\">\n"
            for w in series.warnings { h += "<li>\(HTMLText.escape(w))</li>\n" }
            h += "</ul>\n"
        }
        h += "<h2>Findings (\(d.findings.count))</h2>\n"
        if d.findings.isEmpty {
            h += "<p>No nodule candidate above the detection threshold.</p>\n"
        } else {
            h += findingsTable(d)
            let belowActionable = d.findings.filter { !counts($0, in: d) }
            if let a = d.triage?.actionableScore, !belowActionable.isEmpty {
                h += "<p class=\"muted\">Greyed: \(belowActionable.count) finding\(belowActionable.count == 1 ? "" : "s") "
                h += "scored below \(HTMLText.number(a, decimals: 2)), the actionable score. They are listed for review; "
                h += "their Lung-RADS category does not count for the study's category or priority.</p>\n"
            }
            let withoutImages = d.findings.filter { figures[$0.id] == nil }
            for f in d.findings where figures[f.id] != nil {
                h += "<section class=\"finding\" id=\"finding-\(f.rank)\">\n"
                h += "<h3>F\(f.rank): \(HTMLText.number(f.diameterMM, decimals: 1)) mm \(typeText(f)), "
                h += "Lung-RADS \(HTMLText.escape(f.lungRADS))"
                if !counts(f, in: d) { h += " (not counted: score \(HTMLText.number(f.score, decimals: 2)))" }
                h += ", \(location(f))</h3>\n<div class=\"images\">\n"
                for fig in figures[f.id] ?? [] {
                    h += "<figure><img class=\"\(fig.cssClass)\" src=\"\(HTMLText.relativeURL(fig.path))\" "
                    h += "width=\"\(fig.width)\" height=\"\(fig.height)\" alt=\"\(HTMLText.escape(fig.caption))\">"
                    h += "<figcaption>\(HTMLText.escape(fig.caption))</figcaption></figure>\n"
                }
                h += "</div>\n</section>\n"
            }
            if !withoutImages.isEmpty {
                h += "<p class=\"muted\">No key images for the \(withoutImages.count) lower-ranked finding"
                h += "\(withoutImages.count == 1 ? "" : "s") (F\(withoutImages.map(\.rank).min() ?? 0) and below).</p>\n"
            }
        }
        h += footer(d)
        h += "</body>\n</html>\n"
        return h
    }

    static func failed(_ d: FindingsDocument) -> String {
        var h = HTMLText.pageHead(title: title(d))
        h += "<p class=\"disclaimer\">\(HTMLText.escape(disclaimer))</p>\n"
        h += header(d)
        h += "<h2>Processing failed</h2>\n"
        h += "<p>This study was <strong>not assessed</strong>: read it without triage support.</p>\n"
        h += "<p>Stage: <strong>\(HTMLText.escape(d.failedStage ?? "unknown"))</strong></p>\n"
        h += "<p class=\"error\">\(HTMLText.escape(d.error ?? "unknown error"))</p>\n"
        if let series = d.series, !series.warnings.isEmpty {
            h += "<h3>Series warnings</h3>\n<ul class=\"warnings\">\n"
            for w in series.warnings { h += "<li>\(HTMLText.escape(w))</li>\n" }
            h += "</ul>\n"
        }
        h += footer(d)
        h += "</body>\n</html>\n"
        return h
    }

    /// Whether a finding counts for the study's category and priority: at or above the
    /// actionable score (every finding when the document does not say what that score is).
    static func counts(_ f: FindingsDocument.FindingRecord, in d: FindingsDocument) -> Bool {
        FindingsDocument.counts(score: f.score, actionableScore: d.triage?.actionableScore)
    }

    /// The finding's type; a calcified one says it is a benign pattern (why it is category 1).
    static func typeText(_ f: FindingsDocument.FindingRecord) -> String {
        HTMLText.escape(f.type) + (f.calcified == true ? ", calcified (benign pattern)" : "")
    }

    static func location(_ f: FindingsDocument.FindingRecord) -> String {
        var s = "slice \(f.sliceNumber), \(HTMLText.escape(f.lungSide)) \(HTMLText.escape(f.lungZone))"
        if let extent = f.opacityExtentMM {
            s += "; part of a larger opacity about \(HTMLText.number(extent, decimals: 0)) mm across "
            s += "(consolidation or mass?): review it as a whole"
        }
        return s
    }

    private static func title(_ d: FindingsDocument) -> String {
        let who = d.study.patientName.map(HTMLText.personName) ?? d.study.patientID ?? "unknown patient"
        return "Chest CT triage: \(who)"
    }

    private static func header(_ d: FindingsDocument) -> String {
        let s = d.study
        var h = "<h1>\(HTMLText.escape(s.patientName.map(HTMLText.personName) ?? s.patientID ?? "Unknown patient"))</h1>\n"
        h += "<div class=\"header\">\n<div>"
        if let t = d.triage {
            h += "<span class=\"badge \(HTMLText.escape(t.priority))\">\(HTMLText.escape(t.priority))</span> "
            h += "score \(HTMLText.number(t.score, decimals: 2)) &middot; Lung-RADS \(HTMLText.escape(t.lungRADS))"
            // Which finding sets the category and priority, linked: often not the first listed.
            if let leading = FindingsDocument.leadingFinding(of: d.findings, actionableScore: t.actionableScore) {
                h += " (from <a href=\"#finding-\(leading.rank)\">\(HTMLText.escape(leading.id))</a>)"
            }
            h += " &middot; \(t.findingCount) finding\(t.findingCount == 1 ? "" : "s")"
        } else {
            h += "<span class=\"badge failed\">failed</span>"
        }
        h += "</div>\n<dl>\n"
        h += "<dt>Patient ID</dt><dd>\(HTMLText.escape(s.patientID))</dd>\n"
        h += "<dt>Study date</dt><dd>\(HTMLText.studyDate(s.studyDate))</dd>\n"
        h += "<dt>Accession</dt><dd>\(HTMLText.escape(s.accessionNumber))</dd>\n"
        h += "</dl>\n<dl>\n"
        h += "<dt>Modality</dt><dd>\(HTMLText.escape(s.modality))</dd>\n"
        h += "<dt>Series</dt><dd>\(HTMLText.escape(s.seriesDescription))</dd>\n"
        if let series = d.series {
            let size = series.size.map(String.init).joined(separator: " &times; ")
            let sp = series.spacingMM
            let spacing = sp.count == 3
                ? "\(HTMLText.number(sp[0], decimals: 2)) &times; \(HTMLText.number(sp[1], decimals: 2)) &times; \(HTMLText.number(sp[2], decimals: 2)) mm"
                : "&mdash;"
            h += "<dt>Geometry</dt><dd>\(size) \(HTMLText.escape(series.orientation)), \(spacing)</dd>\n"
            if let noise = series.imageNoiseHU {
                // With the level the detector was validated up to, so the figure reads on its own.
                h += "<dt>Image noise</dt><dd>\(HTMLText.number(noise, decimals: 0)) HU in the lungs "
                    + "(validated up to \(HTMLText.number(NoduleDetector.validatedNoiseHU, decimals: 0)) HU)</dd>\n"
            }
        }
        h += "</dl>\n</div>\n"
        h += "<p class=\"muted\">Study UID \(HTMLText.escape(s.studyInstanceUID)) &middot; Series UID \(HTMLText.escape(s.seriesInstanceUID))</p>\n"
        return h
    }

    private static func findingsTable(_ d: FindingsDocument) -> String {
        var h = """
        <table class="findings">
        <thead><tr><th>Rank</th><th>Location</th><th>Size long &times; short (mean), mm</th>\
        <th>Volume, mm&sup3;</th><th>Type</th><th>Mean HU</th><th>Lung-RADS</th><th>Score</th></tr></thead>
        <tbody>

        """
        for f in d.findings {
            let counted = counts(f, in: d)
            h += counted ? "<tr>" : "<tr class=\"below-actionable\">"
            h += f.keyImages == nil ? "<td class=\"num\">F\(f.rank)</td>"
                : "<td class=\"num\"><a href=\"#finding-\(f.rank)\">F\(f.rank)</a></td>"
            h += "<td>\(location(f))</td>"
            h += "<td class=\"num\">\(HTMLText.number(f.longAxisMM, decimals: 1)) &times; \(HTMLText.number(f.shortAxisMM, decimals: 1)) "
            h += "(\(HTMLText.number(f.diameterMM, decimals: 1)))</td>"
            h += "<td class=\"num\">\(HTMLText.number(f.volumeMM3, decimals: 0))</td>"
            h += "<td>\(typeText(f))</td>"
            h += "<td class=\"num\">\(HTMLText.number(f.meanHU, decimals: 0))</td>"
            h += counted ? "<td>\(HTMLText.escape(f.lungRADS))</td>"
                : "<td>\(HTMLText.escape(f.lungRADS)) <span class=\"muted\">not counted</span></td>"
            h += "<td class=\"num\">\(HTMLText.number(f.score, decimals: 2))</td></tr>\n"
        }
        h += "</tbody>\n</table>\n"
        return h
    }

    private static func footer(_ d: FindingsDocument) -> String {
        var h = "<footer>\n"
        h += "<p>Pipeline \(HTMLText.escape(d.pipeline.name)) \(HTMLText.escape(d.pipeline.version)) &middot; "
        h += "triage \(HTMLText.escape(d.softwareVersion)) &middot; written \(HTMLText.escape(d.generatedAt))</p>\n"
        if !d.timingMS.isEmpty {
            let timing = d.timingMS.sorted { $0.key < $1.key }
                .map { "\(HTMLText.escape($0.key)) \(HTMLText.number($0.value, decimals: 0)) ms" }
                .joined(separator: " &middot; ")
            h += "<p>Timing: \(timing)</p>\n"
        }
        h += "<details><summary>\(d.study.source.count) source file\(d.study.source.count == 1 ? "" : "s")</summary>\n<ul>\n"
        for path in d.study.source { h += "<li>\(HTMLText.escape(path))</li>\n" }
        h += "</ul></details>\n"
        h += "<p>\(HTMLText.escape(disclaimer))</p>\n</footer>\n"
        return h
    }
}
