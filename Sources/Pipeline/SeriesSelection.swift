import Foundation

/// What the selector sees of a discovered series (headers only, nothing decoded).
public struct SeriesFacts: Sendable, Equatable {
    public var kind: String
    public var modality: String?
    public var sliceCount: Int
    public var rows: Int
    public var columns: Int
    /// "axial", "coronal", "sagittal", "oblique" (or "unknown").
    public var orientation: String
    public var seriesDescription: String?
    /// Groups series of one study (Study Instance UID, or the series id when absent).
    public var studyKey: String

    public init(kind: String, modality: String?, sliceCount: Int, rows: Int, columns: Int, orientation: String,
                seriesDescription: String?, studyKey: String) {
        self.kind = kind
        self.modality = modality
        self.sliceCount = sliceCount
        self.rows = rows
        self.columns = columns
        self.orientation = orientation
        self.seriesDescription = seriesDescription
        self.studyKey = studyKey
    }

    /// Voxels of the series once decoded.
    public var voxelCount: Int { max(0, rows) * max(0, columns) * max(0, sliceCount) }
}

/// A series-selection rule, in the spirit of MONAI Deploy's series selector: conditions on
/// header facts combined with `all` (AND), `any` (OR) and `not`.
public indirect enum SelectionRule: Sendable, Encodable, Equatable {
    case always
    case modality([String])
    case kind([String])
    case minimumSlices(Int)
    case maximumSlices(Int)
    case orientation([String])
    /// Shell glob on Series Description, case-insensitive, whole string (`*`, `?`, `[abc]`).
    case descriptionGlob(String)
    /// ICU regular expression searched anywhere in Series Description (anchor with ^ $;
    /// case-sensitive unless the pattern starts with `(?i)`).
    case descriptionRegex(String)
    case all([SelectionRule])
    case any([SelectionRule])
    case not(SelectionRule)

    /// Whether the series passes. A condition on the description fails when there is none.
    public func matches(_ s: SeriesFacts) -> Bool {
        switch self {
        case .always: return true
        case let .modality(list):
            guard let m = s.modality else { return false }
            return list.contains { $0.caseInsensitiveCompare(m) == .orderedSame }
        case let .kind(list): return list.contains(s.kind)
        case let .minimumSlices(n): return s.sliceCount >= n
        case let .maximumSlices(n): return s.sliceCount <= n
        case let .orientation(list): return list.contains(s.orientation.lowercased())
        case let .descriptionGlob(pattern):
            guard let d = s.seriesDescription else { return false }
            return Glob.matches(pattern: pattern.lowercased(), text: d.lowercased())
        case let .descriptionRegex(pattern):
            guard let d = s.seriesDescription else { return false }
            return d.range(of: pattern, options: .regularExpression) != nil
        case let .all(rules): return rules.allSatisfy { $0.matches(s) }
        case let .any(rules): return rules.contains { $0.matches(s) }
        case let .not(rule): return !rule.matches(s)
        }
    }

    // Encoded for the pipeline's content hash.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(canonical)
    }

    var canonical: String {
        switch self {
        case .always: "always"
        case let .modality(l): "modality(\(l.joined(separator: ",")))"
        case let .kind(l): "kind(\(l.joined(separator: ",")))"
        case let .minimumSlices(n): "min_slices(\(n))"
        case let .maximumSlices(n): "max_slices(\(n))"
        case let .orientation(l): "orientation(\(l.joined(separator: ",")))"
        case let .descriptionGlob(p): "glob(\(p))"
        case let .descriptionRegex(p): "regex(\(p))"
        case let .all(r): "all(\(r.map(\.canonical).joined(separator: ";")))"
        case let .any(r): "any(\(r.map(\.canonical).joined(separator: ";")))"
        case let .not(r): "not(\(r.canonical))"
        }
    }
}

/// `selection:` - which discovered series are processed.
public struct SeriesSelection: Sendable, Encodable {
    /// The rule every processed series must pass (default: all series).
    public var rule: SelectionRule = .always
    /// `largest`: per study keep only the passing series with the most voxels (ties: most
    /// slices, then the most faithful storage - DICOM, then PNG, then lossy JPEG - then id). `all`: keep every passing series.
    public var perStudy: String = "all"

    enum CodingKeys: String, CodingKey { case rule, perStudy = "per_study" }

    public init(rule: SelectionRule = .always, perStudy: String = "all") {
        self.rule = rule
        self.perStudy = perStudy
    }

    /// Indices of the selected series, largest first (biggest volumes start early, which
    /// shortens the batch's tail), plus a reason for each series left out.
    public func select(_ facts: [SeriesFacts], ids: [String]) -> (selected: [Int], excluded: [(Int, String)]) {
        var passing: [Int] = []
        var excluded: [(Int, String)] = []
        for (i, f) in facts.enumerated() {
            if rule.matches(f) { passing.append(i) } else { excluded.append((i, "does not match the selection rule")) }
        }
        func larger(_ a: Int, _ b: Int) -> Bool {
            let fa = facts[a], fb = facts[b]
            if fa.voxelCount != fb.voxelCount { return fa.voxelCount > fb.voxelCount }
            if fa.sliceCount != fb.sliceCount { return fa.sliceCount > fb.sliceCount }
            // The same scan exported several ways: read the original, not a windowed JPEG copy.
            let fidelity = ["dicom": 0, "png": 1, "jpeg": 2]
            let ka = fidelity[fa.kind] ?? 3, kb = fidelity[fb.kind] ?? 3
            if ka != kb { return ka < kb }
            return ids[a] < ids[b]
        }
        var selected: [Int]
        if perStudy == "largest" {
            var best: [String: Int] = [:]
            for i in passing {
                let key = facts[i].studyKey
                if let current = best[key] {
                    if larger(i, current) {
                        excluded.append((current, "a larger series of the same study was selected"))
                        best[key] = i
                    } else {
                        excluded.append((i, "a larger series of the same study was selected"))
                    }
                } else {
                    best[key] = i
                }
            }
            selected = Array(best.values)
        } else {
            selected = passing
        }
        selected.sort(by: larger)
        return (selected, excluded.sorted { $0.0 < $1.0 })
    }

    static func parse(_ cursor: YAMLCursor) throws -> SeriesSelection {
        let m = try cursor.mapping(allowed: ["rule", "per_study"])
        var selection = SeriesSelection()
        if let r = m["rule"] { selection.rule = try parseRule(r) }
        if let p = m["per_study"] { selection.perStudy = try p.string(oneOf: ["largest", "all"]) }
        return selection
    }

    static let conditionKeys: Set<String> = ["all", "any", "not", "modality", "kind", "min_slices", "max_slices",
                                             "orientation", "description"]

    /// A rule is a mapping; several keys in one mapping are ANDed.
    static func parseRule(_ cursor: YAMLCursor) throws -> SelectionRule {
        let m = try cursor.mapping(allowed: conditionKeys)
        guard !m.entries.isEmpty else { throw cursor.error("a rule needs at least one condition") }
        var parts: [SelectionRule] = []
        for (key, value) in m.entries {
            switch key {
            case "all", "any":
                let items = try value.list()
                guard !items.isEmpty else { throw value.error("must list at least one rule") }
                let rules = try items.map(parseRule)
                parts.append(key == "all" ? .all(rules) : .any(rules))
            case "not":
                parts.append(.not(try parseRule(value)))
            case "modality":
                let list = try value.stringList(nonEmpty: true)
                for (i, item) in list.enumerated() where item.range(of: "^[A-Za-z]{2,4}$", options: .regularExpression) == nil {
                    throw (try? value.list()[i])?.error("'\(item)' is not a DICOM modality code (2-4 letters)")
                        ?? value.error("'\(item)' is not a DICOM modality code (2-4 letters)")
                }
                parts.append(.modality(list.map { $0.uppercased() }))
            case "kind":
                parts.append(.kind(try value.stringList(oneOf: ["dicom", "png", "jpeg"], nonEmpty: true)))
            case "min_slices":
                parts.append(.minimumSlices(try value.int(in: 1...100_000)))
            case "max_slices":
                parts.append(.maximumSlices(try value.int(in: 1...100_000)))
            case "orientation":
                parts.append(.orientation(try value.stringList(oneOf: ["axial", "coronal", "sagittal", "oblique"],
                                                               nonEmpty: true)))
            case "description":
                let d = try value.mapping(allowed: ["glob", "regex"])
                guard d.entries.count == 1, let (kind, patternCursor) = d.entries.first else {
                    throw value.error("give exactly one of glob: or regex:")
                }
                let pattern = try patternCursor.string()
                if kind == "glob" {
                    parts.append(.descriptionGlob(pattern))
                } else {
                    do {
                        _ = try NSRegularExpression(pattern: pattern)
                    } catch {
                        throw patternCursor.error("invalid regular expression")
                    }
                    parts.append(.descriptionRegex(pattern))
                }
            default:
                throw value.error("unknown condition")
            }
        }
        return parts.count == 1 ? parts[0] : .all(parts)
    }
}

/// Shell-style glob matching (`*` any run, `?` one character, `[abc]`/`[a-z]`/`[!a]` a set).
enum Glob {
    static func matches(pattern: String, text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        // Iterative matcher with backtracking to the last `*` (linear in practice).
        var pi = 0, ti = 0
        var starP = -1, starT = 0
        while ti < t.count {
            if pi < p.count, p[pi] == "*" {
                starP = pi; starT = ti; pi += 1
                continue
            }
            if pi < p.count {
                let (ok, next) = single(p, pi, t[ti])
                if ok { pi = next; ti += 1; continue }
            }
            if starP >= 0 {
                pi = starP + 1; starT += 1; ti = starT
                continue
            }
            return false
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// Matches one pattern element at `i` against `c`; returns (matched, index after the element).
    private static func single(_ p: [Character], _ i: Int, _ c: Character) -> (Bool, Int) {
        switch p[i] {
        case "?": return (true, i + 1)
        case "[":
            var j = i + 1
            var negate = false
            if j < p.count, p[j] == "!" || p[j] == "^" { negate = true; j += 1 }
            var matched = false
            var first = true
            while j < p.count, p[j] != "]" || first {
                first = false
                if j + 2 < p.count, p[j + 1] == "-", p[j + 2] != "]" {
                    if p[j] <= c && c <= p[j + 2] { matched = true }
                    j += 3
                } else {
                    if p[j] == c { matched = true }
                    j += 1
                }
            }
            guard j < p.count else { return (p[i] == c, i + 1) } // unterminated: literal '['
            return (matched != negate, j + 1)
        default:
            return (p[i] == c, i + 1)
        }
    }
}
