import Foundation

/// HTML output helpers. Every value that reaches a report page passes through
/// `HTMLText.escape` (text and attribute values alike): patient names, identifiers,
/// warnings and error messages come from DICOM files or the file system and may contain
/// markup (`<script>`), quotes or ampersands.
enum HTMLText {
    /// Escapes `& < > " '` so the result is inert as element text and inside a quoted attribute.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\0": out += "\u{FFFD}"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// Escaped text, or an em dash for a missing value.
    static func escape(_ s: String?) -> String {
        guard let s, !s.isEmpty else { return "&mdash;" }
        return escape(s)
    }

    /// A relative URL made of safe path components (our own file names): each component
    /// percent-encoded so a stray character cannot break out of the attribute.
    static func relativeURL(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { component in
            var out = ""
            for b in component.utf8 {
                let safe = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                    || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
                if safe { out.unicodeScalars.append(Unicode.Scalar(b)) } else { out += String(format: "%%%02X", b) }
            }
            return out
        }.joined(separator: "/")
    }

    /// A number with a fixed count of decimals ("12.3").
    static func number(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return "&mdash;" }
        return String(format: "%.\(decimals)f", value)
    }

    /// A DICOM PN value for display (not escaped): the alphabetic group only (before any
    /// '='), "Family^Given^Middle^Prefix^Suffix" shown as "Family, Given Middle". Values
    /// without '^' are shown as stored.
    static func personName(_ pn: String) -> String {
        let alphabetic = pn.split(separator: "=", omittingEmptySubsequences: false).first.map(String.init) ?? pn
        guard alphabetic.contains("^") else { return alphabetic }
        let parts = alphabetic.split(separator: "^", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let family = parts[0]
        let given = parts.dropFirst().prefix(2).filter { !$0.isEmpty }.joined(separator: " ")
        let prefix = parts.count > 3 ? parts[3] : "", suffix = parts.count > 4 ? parts[4] : ""
        var name = [prefix, given].filter { !$0.isEmpty }.joined(separator: " ")
        name = family.isEmpty ? name : (name.isEmpty ? family : "\(family), \(name)")
        return suffix.isEmpty ? name : "\(name) \(suffix)"
    }

    /// DICOM DA "YYYYMMDD" shown as "YYYY-MM-DD"; anything else shown escaped as stored.
    static func studyDate(_ da: String?) -> String {
        guard let da else { return "&mdash;" }
        let digits = Array(da.utf8)
        if digits.count == 8, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            let s = Array(da)
            return "\(String(s[0..<4]))-\(String(s[4..<6]))-\(String(s[6..<8]))"
        }
        return escape(da)
    }

    /// Doctype, head (inline stylesheet; a Content-Security-Policy that allows only local
    /// images and the inline style, so nothing is fetched from a network and no script runs)
    /// and the opening body tag.
    static func pageHead(title: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self' file:; style-src 'unsafe-inline'">
        <title>\(escape(title))</title>
        <style>
        \(styleSheet)
        </style>
        </head>
        <body>

        """
    }

    /// Shared stylesheet: dark for the reading room, black-on-white for print.
    static let styleSheet = """
    :root { color-scheme: dark; }
    * { box-sizing: border-box; }
    body { margin: 0; padding: 16px 24px; background: #101214; color: #e6e6e6;
           font: 15px/1.45 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; }
    h1 { font-size: 22px; margin: 0 0 4px; }
    h2 { font-size: 18px; margin: 24px 0 8px; border-bottom: 1px solid #333; padding-bottom: 4px; }
    h3 { font-size: 16px; margin: 16px 0 6px; }
    a { color: #8cc8ff; }
    .disclaimer { border: 1px solid #7a6a00; background: #2a2600; color: #ffe680; padding: 6px 10px;
                  border-radius: 4px; margin: 8px 0 12px; font-weight: bold; }
    .header { display: flex; flex-wrap: wrap; gap: 6px 28px; align-items: baseline; }
    .header dl { display: grid; grid-template-columns: max-content auto; gap: 2px 10px; margin: 0; }
    .header dt { color: #9aa0a6; }
    .header dd { margin: 0; font-weight: bold; }
    .badge { display: inline-block; padding: 3px 12px; border-radius: 12px; font-weight: bold;
             text-transform: uppercase; letter-spacing: 0.05em; border: 2px solid transparent; }
    .badge.urgent { background: #b00020; color: #fff; }
    .badge.soon { background: #c77800; color: #fff; }
    .badge.routine { background: #2e5e3e; color: #fff; }
    .badge.failed { background: #555; color: #fff; border-color: #ff6b6b; }
    table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
    th, td { border-bottom: 1px solid #2c2f33; padding: 5px 8px; text-align: left; vertical-align: middle; }
    th { color: #9aa0a6; font-weight: normal; font-size: 13px; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; }
    tr.failed td { color: #ffb4b4; }
    .finding { break-inside: avoid; page-break-inside: avoid; margin-bottom: 18px; }
    .images { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-start; }
    .images figure { max-width: 400px; }
    figure { margin: 0; }
    figure img { display: block; background: #000; border: 1px solid #333; }
    figcaption { font-size: 12px; color: #9aa0a6; margin-top: 2px; }
    /* Key images at a common reading size whatever the matrix (small series are enlarged). */
    img.axial { width: 300px; height: auto; }
    img.coronal, img.sagittal { height: 240px; width: auto; max-width: 400px; }
    img.zoom { width: 256px; height: 256px; }
    img.thumb { width: 72px; height: 72px; object-fit: cover; }
    .warnings { color: #ffcc80; }
    .error { color: #ffb4b4; font-weight: bold; white-space: pre-wrap; }
    .muted { color: #9aa0a6; }
    tr.below-actionable td { color: #8a9099; }
    footer { margin-top: 24px; font-size: 12px; color: #9aa0a6; }
    @media print {
      :root { color-scheme: light; }
      body { background: #fff; color: #000; font-size: 11pt; padding: 0; }
      a { color: #000; text-decoration: none; }
      .disclaimer { background: #fff; color: #000; border-color: #000; }
      .header dt, th, figcaption, .muted, footer { color: #333; }
      tr.below-actionable td { color: #666; }
      th, td { border-bottom-color: #999; }
      .badge { border-color: #000; }
      .badge.urgent, .badge.soon, .badge.routine, .badge.failed { background: #fff; color: #000; }
      figure img { border-color: #999; }
      .warnings, .error, tr.failed td { color: #000; }
      h2 { border-bottom-color: #999; }
    }
    """
}
