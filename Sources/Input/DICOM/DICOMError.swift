/// A DICOM file could not be read. `description` names the file and the reason, e.g.
/// `scan/IM0001: element (0028,0010) length 4096 runs past the end of the data (12 bytes left)`.
public struct DICOMError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, in a form tests and callers can switch on.
    public enum Reason: Sendable, Equatable {
        /// The bytes are not a DICOM Part 10 file or data set.
        case notDICOM(String)
        /// The data ends before a header or value it announces.
        case truncated(String)
        /// Structurally invalid (bad VR, misplaced delimiter, nesting too deep, ...).
        case malformed(String)
        /// A transfer syntax this reader does not decode; carries the UID.
        case unsupportedTransferSyntax(uid: String, name: String)
        /// A pixel layout or feature this reader does not handle.
        case unsupported(String)
        /// A required attribute is absent or unreadable.
        case missingAttribute(String)
        /// Pixel Data holds fewer bytes than rows x columns x frames needs.
        case pixelDataTooShort(expectedBytes: Int, actualBytes: Int)
        /// A declared size is beyond what this reader accepts (memory safety).
        case tooLarge(String)
        /// A compressed frame could not be decoded.
        case decodeFailed(String)
        /// The file could not be opened or read.
        case io(String)
    }

    /// The file the error is about (nil for in-memory data).
    public var path: String?
    public var reason: Reason

    public init(_ reason: Reason, path: String? = nil) {
        self.reason = reason
        self.path = path
    }

    /// The same error attributed to `path` (kept when already set).
    public func at(_ path: String?) -> DICOMError {
        var copy = self
        if copy.path == nil { copy.path = path }
        return copy
    }

    public var message: String {
        switch reason {
        case .notDICOM(let s): return "not a DICOM file: \(s)"
        case .truncated(let s): return "truncated: \(s)"
        case .malformed(let s): return "malformed: \(s)"
        case .unsupportedTransferSyntax(let uid, let name):
            return "unsupported transfer syntax \(uid) (\(name))"
        case .unsupported(let s): return "unsupported: \(s)"
        case .missingAttribute(let s): return "missing attribute: \(s)"
        case .pixelDataTooShort(let e, let a):
            return "pixel data too short: \(a) bytes, the image needs \(e)"
        case .tooLarge(let s): return "too large: \(s)"
        case .decodeFailed(let s): return "cannot decode pixel data: \(s)"
        case .io(let s): return "cannot read: \(s)"
        }
    }

    public var description: String { "\(path ?? "<data>"): \(message)" }
}
