import Foundation
import Logging

/// swift-log handler writing one JSON object per line:
/// `{"ts":"...","level":"info","label":"triage","message":"...","series_id":"..."}`.
/// Metadata values are flattened to strings; keys never collide with the fixed fields
/// (a colliding key gets a `meta.` prefix).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let sink: @Sendable (String) -> Void

    public init(label: String, sink: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.label = label
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: String] = [
            "ts": ISO8601DateFormatter().string(from: Date()),
            "level": event.level.rawValue,
            "label": label,
            "message": event.message.description,
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for (key, value) in merged {
            let name = object[key] == nil ? key : "meta.\(key)"
            object[name] = "\(value)"
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
              let text = String(data: data, encoding: .utf8) else { return }
        sink(text + "\n")
    }
}

/// Plain text handler for stderr: `2026-11-23T12:00:00Z info study finished series_id=... `.
public struct PlainLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let sink: @Sendable (String) -> Void

    public init(sink: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.keys.sorted().map { "\($0)=\(merged[$0]!)" }.joined(separator: " ")
        let ts = ISO8601DateFormatter().string(from: Date())
        sink("\(ts) \(event.level.rawValue) \(event.message)\(fields.isEmpty ? "" : " " + fields)\n")
    }
}
