/// Why an image could not be decoded, encoded or written. The description names the
/// format, the file (when there is one) and the reason.
public struct ImageCodecError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The bytes are not this format (wrong signature).
        case notThisFormat
        /// Malformed data: bad CRC, bad Huffman code, invalid chunk or marker, ...
        case corrupt
        /// The data ends before the image does.
        case truncated
        /// Well-formed but outside what this build supports (12-bit or lossless JPEG, CMYK).
        case unsupported
        /// Dimensions beyond the safety limit.
        case tooLarge
        case outOfMemory
        /// A caller passed an image this encoder cannot write (e.g. 16-bit JPEG).
        case invalidArgument
        /// The file could not be read or written.
        case io
    }

    public var format: ImageFileFormat
    public var kind: Kind
    /// The library's or our own message, e.g. "Premature end of JPEG file".
    public var reason: String
    /// The file involved, when the data came from or went to a file.
    public var path: String?

    public init(format: ImageFileFormat, kind: Kind, reason: String, path: String? = nil) {
        self.format = format
        self.kind = kind
        self.reason = reason
        self.path = path
    }

    /// The same error naming `path`.
    public func at(path: String) -> ImageCodecError {
        var copy = self
        copy.path = path
        return copy
    }

    public var description: String {
        let what: String
        switch kind {
        case .notThisFormat: what = "not a \(format.rawValue.uppercased()) file"
        case .corrupt: what = "corrupt \(format.rawValue.uppercased())"
        case .truncated: what = "truncated \(format.rawValue.uppercased())"
        case .unsupported: what = "unsupported \(format.rawValue.uppercased())"
        case .tooLarge: what = "\(format.rawValue.uppercased()) too large"
        case .outOfMemory: what = "out of memory for \(format.rawValue.uppercased())"
        case .invalidArgument: what = "cannot encode \(format.rawValue.uppercased())"
        case .io: what = "\(format.rawValue.uppercased()) file I/O failed"
        }
        if let path { return "\(path): \(what): \(reason)" }
        return "\(what): \(reason)"
    }
}

extension ImageCodecError.Kind {
    /// Maps the C shim's result code.
    init(shimCode code: Int32) {
        switch code {
        case 1: self = .notThisFormat
        case 3: self = .truncated
        case 4: self = .unsupported
        case 5: self = .tooLarge
        case 6: self = .outOfMemory
        case 7: self = .invalidArgument
        default: self = .corrupt
        }
    }
}
