import Foundation

/// Errors that stop an evaluation. Each names the file involved and the reason.
public enum EvaluationError: Error, CustomStringConvertible, Equatable {
    case unreadableFile(path: String, reason: String)
    case invalidTruth(path: String, reason: String)
    case duplicateReports(firstPath: String, secondPath: String)
    case notADirectory(path: String)
    case invalidArgument(String)
    case noReports(path: String)
    case noMatchingReports(reportsPath: String, truthPath: String, reports: Int)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason): return "\(path): \(reason)"
        case let .invalidTruth(path, reason): return "\(path): invalid truth file: \(reason)"
        case let .duplicateReports(first, second):
            return "\(first) and \(second) report the same series; evaluate one batch at a time"
        case let .notADirectory(path): return "\(path): not a directory"
        case let .invalidArgument(message): return message
        case let .noReports(path): return "\(path): no findings.json found (is this the batch output folder?)"
        case let .noMatchingReports(reportsPath, truthPath, reports):
            return "\(reportsPath): none of its \(reports) reports matches a case of \(truthPath) (wrong truth file?)"
        case let .writeFailed(path, reason): return "\(path): cannot write: \(reason)"
        }
    }

    /// A one-line reason for a `DecodingError`, with the key path where it happened.
    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [CodingKey]) -> String {
            let parts = codingPath.map { key -> String in
                if let index = key.intValue { return "[\(index)]" }
                return "." + key.stringValue
            }
            let joined = parts.joined()
            return joined.isEmpty ? "top level" : String(joined.drop(while: { $0 == "." }))
        }
        switch error {
        case let .keyNotFound(key, context):
            let parent = path(context.codingPath)
            return "missing key \"\(key.stringValue)\" at \(parent)"
        case let .typeMismatch(_, context):
            return "wrong type at \(path(context.codingPath)): \(context.debugDescription)"
        case let .valueNotFound(_, context):
            return "null value at \(path(context.codingPath))"
        case let .dataCorrupted(context):
            return "not valid JSON (\(context.underlyingError.map { "\($0)" } ?? context.debugDescription))"
        @unknown default:
            return "\(error)"
        }
    }
}
