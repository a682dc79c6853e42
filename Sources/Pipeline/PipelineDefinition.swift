import Foundation
import Yams
import Detection

/// A parsed, validated pipeline file (`pipelines/*.yaml`). Every key is documented in
/// docs/pipeline.md. Parsing is strict: an unknown key, a wrong type or a bad value is a
/// `PipelineConfigurationError` naming the file, the key path and the line.
public struct PipelineDefinition: Sendable, Encodable {
    public var name: String
    public var version: String
    public var description: String
    /// The file it came from (nil for the built-in default).
    public var sourceFile: String?

    public var discover: DiscoverSettings
    public var selection: SeriesSelection
    public var decode: StageSettings
    public var preprocess: PreprocessSettings
    public var detect: DetectSettings
    public var report: ReportSettings
    public var memory: MemorySettings
    public var resume: ResumeSettings

    enum CodingKeys: String, CodingKey {
        case name, version, discover, selection, decode, preprocess, detect, report, memory, resume
    }

    /// SHA-256 over the canonical JSON of every setting that changes results (not the
    /// description, not the file name, not whitespace or key order in the YAML). The resume
    /// journal compares it: a study finished under another pipeline hash is redone.
    public var contentHash: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(self)) ?? Data()
        return SHA256.hexDigest(data)
    }

    /// The built-in defaults, equal to an empty pipeline file.
    public static var builtInDefault: PipelineDefinition {
        // An empty mapping is valid and takes every default.
        try! PipelineDefinition.parse(yaml: "{}", file: "<built-in>")
    }
}

/// `discover:` - which inputs are considered.
public struct DiscoverSettings: Sendable, Encodable {
    /// Source kinds accepted (`dicom`, `png`, `jpeg`); others are listed as skipped.
    public var formats: [String] = ["dicom", "png", "jpeg"]
}

/// Workers and input-queue capacity of one stage.
public struct StageSettings: Sendable, Encodable, Equatable {
    /// Worker threads of the stage.
    public var workers: Int
    /// Capacity of the bounded queue in front of the stage (items waiting for it).
    public var queueCapacity: Int

    enum CodingKeys: String, CodingKey { case workers, queueCapacity = "queue_capacity" }
}

/// `preprocess:` - checks and conditioning between decode and detect.
public struct PreprocessSettings: Sendable, Encodable {
    public var stage = StageSettings(workers: 1, queueCapacity: 1)
    /// Clamp HU to this range before detection (nil = leave as decoded).
    public var clampHU: [Double]? = [-1024, 3071]
    /// Quarantine series whose assembly reported a slice gap (instead of processing them
    /// with the warning in their report).
    public var rejectSliceGaps: Bool = false
    /// Quarantine series with fewer slices than this after decoding.
    public var minimumSlices: Int = 1

    enum CodingKeys: String, CodingKey {
        case stage, clampHU = "clamp_hu", rejectSliceGaps = "reject_slice_gaps", minimumSlices = "minimum_slices"
    }
}

/// `detect:` - the detect stage and the detector's settings.
public struct DetectSettings: Sendable, Encodable {
    public var stage = StageSettings(workers: 1, queueCapacity: 1)
    /// Dispatch workers the detector's kernels use; 0 = one per core divided by the
    /// detect stage's workers (see docs/pipeline.md, "Threads").
    public var kernelWorkers: Int = 0
    /// `detect.detector:` decoded onto `DetectorConfiguration` (missing keys take defaults).
    public var detector: DetectorConfiguration = DetectorConfiguration()

    enum CodingKeys: String, CodingKey { case stage, kernelWorkers = "kernel_workers", detector }

    /// Kernel workers for one detect worker on a machine with `cores` cores.
    public func effectiveKernelWorkers(cores: Int) -> Int {
        if kernelWorkers > 0 { return kernelWorkers }
        return max(1, cores / max(1, stage.workers))
    }
}

/// `report:` - the report stage and how reports look.
public struct ReportSettings: Sendable, Encodable {
    public var stage = StageSettings(workers: 1, queueCapacity: 4)
    /// Longest side (pixels) of a key image. Default 768.
    public var keyImageMaxSide: Int = 768
    /// Display window of key images (HU). Default lung window -600 / 1500.
    public var windowCenterHU: Double = -600
    public var windowWidthHU: Double = 1500
    /// Title of worklist.html.
    public var worklistTitle: String = "Chest CT triage worklist"

    enum CodingKeys: String, CodingKey {
        case stage, keyImageMaxSide = "key_image_max_side", windowCenterHU = "window_center_hu",
             windowWidthHU = "window_width_hu", worklistTitle = "worklist_title"
    }
}

/// `memory:` - the budget that caps volumes in flight.
public struct MemorySettings: Sendable, Encodable {
    /// Fixed budget in MiB; when nil, `fraction_of_physical` of MemTotal.
    public var budgetMiB: Int? = nil
    /// Share of physical memory (from /proc/meminfo) used as the budget when `budget_mib`
    /// is not given. Default 0.5.
    public var fractionOfPhysical: Double = 0.5
    /// A study reserves `rows * columns * slices * 4 bytes * working_factor`: the HU volume
    /// itself plus the detector's working memory (about 5 float volumes at the peak of the
    /// multi-scale pass). Default 6.
    public var workingFactor: Double = 6

    enum CodingKeys: String, CodingKey {
        case budgetMiB = "budget_mib", fractionOfPhysical = "fraction_of_physical", workingFactor = "working_factor"
    }
}

/// `resume:` - how the journal recognises a finished study.
public struct ResumeSettings: Sendable, Encodable {
    /// `metadata`: hash of each input file's path, size and modification time (fast, the
    /// default). `content`: hash of the bytes of every input file (reads them all once more).
    public var inputHash: String = "metadata"

    enum CodingKeys: String, CodingKey { case inputHash = "input_hash" }
}

/// A pipeline file that cannot be used, with where and why.
public struct PipelineConfigurationError: Error, CustomStringConvertible, Equatable {
    public var file: String
    /// Dotted key path, e.g. `detect.stage.workers`; empty for the whole document.
    public var keyPath: String
    /// 1-based line (0 when unknown).
    public var line: Int
    public var reason: String

    public var description: String {
        let where_ = line > 0 ? "\(file):\(line)" : file
        return keyPath.isEmpty ? "\(where_): \(reason)" : "\(where_): \(keyPath): \(reason)"
    }
}

// MARK: - Parsing

extension PipelineDefinition {
    /// Reads and validates a pipeline file.
    public static func load(file url: URL) throws -> PipelineDefinition {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw PipelineConfigurationError(file: url.path, keyPath: "", line: 0,
                                             reason: "cannot read the file (\(error.localizedDescription))")
        }
        var definition = try parse(yaml: text, file: url.path)
        definition.sourceFile = url.path
        return definition
    }

    /// Parses and validates pipeline YAML; `file` only names the source in errors.
    public static func parse(yaml: String, file: String) throws -> PipelineDefinition {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw PipelineConfigurationError(file: file, keyPath: "", line: yamlErrorLine(error),
                                             reason: "not valid YAML: \(yamlErrorProblem(error))")
        }
        let doc = YAMLCursor(node: root ?? Node.mapping(Node.Mapping([])), path: "", file: file)
        let top = try doc.mapping(allowed: ["name", "version", "description", "discover", "selection",
                                            "decode", "preprocess", "detect", "report", "memory", "resume"])

        var definition = PipelineDefinition(
            name: "default", version: "1", description: "", sourceFile: nil,
            discover: DiscoverSettings(), selection: SeriesSelection(),
            decode: StageSettings(workers: 1, queueCapacity: 2), preprocess: PreprocessSettings(),
            detect: DetectSettings(), report: ReportSettings(), memory: MemorySettings(), resume: ResumeSettings())

        if let n = top["name"] { definition.name = try n.string(pattern: "^[A-Za-z0-9._-]{1,64}$",
                                                                  hint: "1-64 letters, digits, '.', '_' or '-'") }
        if let v = top["version"] { definition.version = try v.scalarText() }
        if let d = top["description"] { definition.description = try d.string() }

        if let discover = top["discover"] {
            let m = try discover.mapping(allowed: ["formats"])
            if let f = m["formats"] {
                definition.discover.formats = try f.stringList(oneOf: ["dicom", "png", "jpeg"], nonEmpty: true)
            }
        }
        if let selection = top["selection"] {
            definition.selection = try SeriesSelection.parse(selection)
        }
        if let decode = top["decode"] {
            let m = try decode.mapping(allowed: ["workers", "queue_capacity"])
            definition.decode = try parseStage(m, defaults: definition.decode)
        }
        if let pre = top["preprocess"] {
            let m = try pre.mapping(allowed: ["workers", "queue_capacity", "clamp_hu", "reject_slice_gaps",
                                              "minimum_slices"])
            definition.preprocess.stage = try parseStage(m, defaults: definition.preprocess.stage)
            if let c = m["clamp_hu"] {
                if c.isNull {
                    definition.preprocess.clampHU = nil
                } else {
                    let values = try c.doubleList()
                    guard values.count == 2, values[0] < values[1] else {
                        throw c.error("must be [low, high] with low < high, or null")
                    }
                    definition.preprocess.clampHU = values
                }
            }
            if let r = m["reject_slice_gaps"] { definition.preprocess.rejectSliceGaps = try r.bool() }
            if let s = m["minimum_slices"] { definition.preprocess.minimumSlices = try s.int(in: 1...100_000) }
        }
        if let detect = top["detect"] {
            let m = try detect.mapping(allowed: ["workers", "queue_capacity", "kernel_workers", "detector"])
            definition.detect.stage = try parseStage(m, defaults: definition.detect.stage)
            if let k = m["kernel_workers"] { definition.detect.kernelWorkers = try k.int(in: 0...256) }
            if let d = m["detector"] { definition.detect.detector = try parseDetector(d) }
        }
        if let report = top["report"] {
            let m = try report.mapping(allowed: ["workers", "queue_capacity", "key_image_max_side", "window_center_hu",
                                                 "window_width_hu", "worklist_title"])
            definition.report.stage = try parseStage(m, defaults: definition.report.stage)
            if let k = m["key_image_max_side"] { definition.report.keyImageMaxSide = try k.int(in: 128...4096) }
            if let c = m["window_center_hu"] { definition.report.windowCenterHU = try c.double(in: -2000...4000) }
            if let w = m["window_width_hu"] { definition.report.windowWidthHU = try w.double(in: 1...8000) }
            if let t = m["worklist_title"] {
                let title = try t.string()
                guard !title.isEmpty, title.count <= 200 else { throw t.error("must be 1-200 characters") }
                definition.report.worklistTitle = title
            }
        }
        if let memory = top["memory"] {
            let m = try memory.mapping(allowed: ["budget_mib", "fraction_of_physical", "working_factor"])
            if let b = m["budget_mib"] {
                definition.memory.budgetMiB = b.isNull ? nil : try b.int(in: 64...(1 << 30))
            }
            if let f = m["fraction_of_physical"] {
                definition.memory.fractionOfPhysical = try f.double(in: 0.05...0.95)
            }
            if let w = m["working_factor"] { definition.memory.workingFactor = try w.double(in: 1...64) }
        }
        if let resume = top["resume"] {
            let m = try resume.mapping(allowed: ["input_hash"])
            if let h = m["input_hash"] { definition.resume.inputHash = try h.string(oneOf: ["metadata", "content"]) }
        }
        return definition
    }

    private static func parseStage(_ m: YAMLMapping, defaults: StageSettings) throws -> StageSettings {
        var s = defaults
        if let w = m["workers"] { s.workers = try w.int(in: 1...64) }
        if let q = m["queue_capacity"] { s.queueCapacity = try q.int(in: 1...1024) }
        return s
    }

    /// Converts the `detector:` mapping to JSON and decodes it onto `DetectorConfiguration`,
    /// mapping any complaint back to the key's line.
    private static func parseDetector(_ cursor: YAMLCursor) throws -> DetectorConfiguration {
        let m = try cursor.mapping(allowed: Set(DetectorConfiguration.validKeys))
        var object: [String: Any] = [:]
        for (key, value) in m.entries {
            object[key] = try value.jsonValue()
        }
        let data = try JSONSerialization.data(withJSONObject: object)
        do {
            return try JSONDecoder().decode(DetectorConfiguration.self, from: data)
        } catch let error as DetectionError {
            if case let .invalidConfiguration(key, reason) = error, let entry = m[key] {
                throw entry.error(reason)
            }
            throw cursor.error(error.description)
        } catch let error as DecodingError {
            let (key, reason) = describe(error)
            if let key, let entry = m[key] { throw entry.error(reason) }
            throw cursor.error(reason)
        }
    }

    private static func describe(_ error: DecodingError) -> (String?, String) {
        switch error {
        case let .typeMismatch(type, context):
            return (context.codingPath.first?.stringValue, "wrong type, expected \(typeName(type))")
        case let .valueNotFound(type, context):
            return (context.codingPath.first?.stringValue, "missing value, expected \(typeName(type))")
        case let .keyNotFound(key, _):
            return (key.stringValue, "missing")
        case let .dataCorrupted(context):
            return (context.codingPath.first?.stringValue, context.debugDescription)
        @unknown default:
            return (nil, "\(error)")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type: "a number"
        case is Int.Type: "an integer"
        case is Bool.Type: "true or false"
        case is String.Type: "a string"
        case is [Double].Type: "a list of numbers"
        default: "\(type)"
        }
    }

    private static func yamlErrorLine(_ error: YamlError) -> Int {
        switch error {
        case let .scanner(_, _, mark, _), let .parser(_, _, mark, _), let .composer(_, _, mark, _): mark.line
        default: 0
        }
    }

    private static func yamlErrorProblem(_ error: YamlError) -> String {
        switch error {
        case let .scanner(_, problem, _, _), let .parser(_, problem, _, _), let .composer(_, problem, _, _): problem
        case let .duplicatedKeysInMapping(duplicates, _): "duplicated keys \(duplicates.joined(separator: ", "))"
        default: "\(error)"
        }
    }
}

// MARK: - Node access with key paths and lines

/// A YAML node plus the key path that reached it, for errors that point at the line.
struct YAMLCursor {
    let node: Node
    let path: String
    let file: String

    var line: Int { node.mark?.line ?? 0 }

    func error(_ reason: String) -> PipelineConfigurationError {
        PipelineConfigurationError(file: file, keyPath: path, line: line, reason: reason)
    }

    var isNull: Bool {
        if case let .scalar(s) = node, s.style == .plain, ["", "~", "null", "Null", "NULL"].contains(s.string) {
            return true
        }
        return false
    }

    func child(_ key: String, _ node: Node) -> YAMLCursor {
        YAMLCursor(node: node, path: path.isEmpty ? key : "\(path).\(key)", file: file)
    }

    func element(_ index: Int, _ node: Node) -> YAMLCursor {
        YAMLCursor(node: node, path: "\(path)[\(index)]", file: file)
    }

    /// The node as a mapping whose keys must all be in `allowed`.
    func mapping(allowed: Set<String>?) throws -> YAMLMapping {
        guard case let .mapping(mapping) = node else {
            if isNull { return YAMLMapping(entries: [], cursor: self) }
            throw error("expected a mapping (key: value pairs), found \(kindName)")
        }
        var entries: [(String, YAMLCursor)] = []
        var seen = Set<String>()
        for (keyNode, valueNode) in mapping {
            guard case let .scalar(keyScalar) = keyNode else {
                throw YAMLCursor(node: keyNode, path: path, file: file).error("keys must be plain strings")
            }
            let key = keyScalar.string
            let value = child(key, valueNode)
            if let allowed, !allowed.contains(key) {
                let known = allowed.sorted().joined(separator: ", ")
                throw PipelineConfigurationError(file: file, keyPath: value.path, line: keyNode.mark?.line ?? line,
                                                 reason: "unknown key '\(key)' (known keys: \(known))")
            }
            guard seen.insert(key).inserted else {
                throw PipelineConfigurationError(file: file, keyPath: value.path, line: keyNode.mark?.line ?? line,
                                                 reason: "key given twice")
            }
            entries.append((key, value))
        }
        return YAMLMapping(entries: entries, cursor: self)
    }

    var kindName: String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        case let .scalar(s): "'\(s.string.prefix(40))'"
        }
    }

    func scalarText() throws -> String {
        guard case let .scalar(s) = node else { throw error("expected a single value, found \(kindName)") }
        return s.string
    }

    func string() throws -> String {
        guard case let .scalar(s) = node, !isNull else { throw error("expected a string, found \(kindName)") }
        return s.string
    }

    func string(oneOf options: [String]) throws -> String {
        let value = try string()
        guard options.contains(value) else {
            throw error("'\(value)' is not one of \(options.joined(separator: ", "))")
        }
        return value
    }

    func string(pattern: String, hint: String) throws -> String {
        let value = try string()
        guard value.range(of: pattern, options: .regularExpression) != nil else {
            throw error("'\(value.prefix(80))' is not valid: \(hint)")
        }
        return value
    }

    func bool() throws -> Bool {
        guard case let .scalar(s) = node, s.style == .plain, let value = node.bool else {
            throw error("expected true or false, found \(kindName)")
        }
        _ = s
        return value
    }

    func int(in range: ClosedRange<Int>) throws -> Int {
        guard case let .scalar(s) = node, s.style == .plain, let value = node.int else {
            throw error("expected an integer, found \(kindName)")
        }
        guard range.contains(value) else {
            throw error("\(value) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    func double() throws -> Double {
        guard case let .scalar(s) = node, s.style == .plain, let value = node.float, value.isFinite else {
            throw error("expected a number, found \(kindName)")
        }
        return value
    }

    func double(in range: ClosedRange<Double>) throws -> Double {
        let value = try double()
        guard range.contains(value) else {
            throw error("\(value) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    func list() throws -> [YAMLCursor] {
        guard case let .sequence(seq) = node else { throw error("expected a list, found \(kindName)") }
        return seq.enumerated().map { element($0.offset, $0.element) }
    }

    /// A list, or a single scalar taken as a list of one.
    func stringList(oneOf options: [String]? = nil, nonEmpty: Bool) throws -> [String] {
        let items: [YAMLCursor]
        if case .scalar = node { items = [self] } else { items = try list() }
        if nonEmpty && items.isEmpty { throw error("must not be empty") }
        return try items.map { try options.map($0.string(oneOf:)) ?? $0.string() }
    }

    func doubleList() throws -> [Double] {
        try list().map { try $0.double() }
    }

    /// Plain JSON value (for passing a section through to a Decodable type).
    func jsonValue() throws -> Any {
        switch node {
        case .mapping:
            var object: [String: Any] = [:]
            for (k, v) in try mapping(allowed: nil).entries { object[k] = try v.jsonValue() }
            return object
        case .sequence:
            return try list().map { try $0.jsonValue() }
        case .alias:
            throw error("aliases are not supported")
        case let .scalar(s):
            if isNull { return NSNull() }
            if s.style == .plain {
                if let i = node.int { return i }
                if let d = node.float { return d }
                if let b = node.bool { return b }
            }
            return s.string
        }
    }
}

/// A validated mapping: keys in file order with their cursors.
struct YAMLMapping {
    let entries: [(String, YAMLCursor)]
    let cursor: YAMLCursor

    subscript(key: String) -> YAMLCursor? {
        entries.first { $0.0 == key }?.1
    }
}
