import Foundation

/// A DICOM Part 10 file (or a bare data set without the 128-byte preamble and meta group).
///
/// Reading is lazy: the file is memory-mapped, the header is parsed, and Pixel Data is
/// only located (its bytes are not touched) until a frame is decoded.
public struct DICOMFile: Sendable {
    /// The path the file was read from, for error messages (nil for in-memory data).
    public let path: String?
    /// File meta information (group 0002); empty when the file has none.
    public let meta: DICOMDataSet
    /// The main data set.
    public let dataSet: DICOMDataSet
    public let transferSyntax: TransferSyntax
    /// Whether the file starts with the 128-byte preamble and "DICM".
    public let hasPreamble: Bool
    /// Whether the transfer syntax came from the meta group (false: inferred from the bytes).
    public let transferSyntaxFromMeta: Bool
    /// Whether the data set holds Pixel Data (also known for header-only reads).
    public let hasPixelData: Bool
    /// Whether this was a header-only read (Pixel Data not parsed).
    public let isHeaderOnly: Bool
    /// A header-only parse reached the top-level Pixel Data element (the header is complete).
    var stoppedAtPixelData: Bool { pixelDataHeaderOffset != nil }
    /// Where the top-level Pixel Data element starts, when a header-only parse stopped there.
    let pixelDataHeaderOffset: Int?

    /// Files larger than this are refused (a CT slice is ~0.5 MB; a large multi-frame a few GB).
    public static let maximumFileBytes = 8 << 30

    /// Files up to this size are read with `pread(2)` into the process heap; larger ones
    /// (big multi-frame objects) are memory-mapped. For CT slices (~0.5 MB) reading is
    /// cheaper than mapping: no page faults on the file pages and no `munmap` TLB
    /// shootdowns between the decoding threads.
    static let readIntoMemoryLimit = 64 << 20
    /// A header-only read first parses this much of the file (a CT header is 1-10 kB), then
    /// the longer prefix, and reads the whole file only when Pixel Data does not start
    /// within that either. (Discovery reads every header of a series: copying 64 kB per
    /// slice was most of its cost.)
    static let headerPrefixBytes = 16 << 10
    static let longHeaderPrefixBytes = 128 << 10

    /// Reads a file. With `headersOnly`, parsing stops at Pixel Data (cheap: used to group
    /// and sort series). Errors carry the path.
    public static func read(contentsOf url: URL, headersOnly: Bool = false) throws -> DICOMFile {
        let path = url.path
        let handle = open(path, O_RDONLY | O_CLOEXEC)
        guard handle >= 0 else {
            throw DICOMError(.io(String(cString: strerror(errno))), path: path)
        }
        defer { close(handle) }
        var info = stat()
        guard fstat(handle, &info) == 0 else {
            throw DICOMError(.io(String(cString: strerror(errno))), path: path)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw DICOMError(.io("not a regular file"), path: path)
        }
        let size = Int(info.st_size)
        if size > maximumFileBytes {
            throw DICOMError(.tooLarge("file is \(size) bytes (limit \(maximumFileBytes))"), path: path)
        }
        if headersOnly {
            // A prefix is enough when parsing reaches Pixel Data inside it; anything else
            // (a long header, an error that may only be the cut) falls through to the next
            // prefix and finally the whole file.
            for prefixBytes in [headerPrefixBytes, longHeaderPrefixBytes] where size > prefixBytes {
                let prefix = try readBytes(handle, count: prefixBytes, path: path)
                if let file = try? DICOMFile(data: prefix, path: path, headersOnly: true), file.stoppedAtPixelData {
                    return file
                }
            }
        }
        let data: Data
        if size <= readIntoMemoryLimit {
            data = try readBytes(handle, count: size, path: path)
        } else {
            do {
                data = try Data(contentsOf: url, options: .alwaysMapped)
            } catch {
                throw DICOMError(.io(error.localizedDescription), path: path)
            }
        }
        do {
            return try DICOMFile(data: data, path: path, headersOnly: headersOnly)
        } catch let error as DICOMError {
            throw error.at(path)
        }
    }

    /// The first `count` bytes of an open file (fewer if it is shorter), without zero-filling
    /// the buffer first.
    private static func readBytes(_ handle: Int32, count: Int, path: String) throws -> Data {
        guard count > 0 else { return Data() }
        guard let buffer = malloc(count) else {
            throw DICOMError(.io("cannot allocate \(count) bytes"), path: path)
        }
        var done = 0
        while done < count {
            let n = pread(handle, buffer + done, count - done, off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                free(buffer)
                throw DICOMError(.io(reason), path: path)
            }
            if n == 0 { break }  // the file shrank while being read
            done += n
        }
        return Data(bytesNoCopy: buffer, count: done, deallocator: .free)
    }

    /// Parses in-memory bytes. `path` is only used in error messages.
    public init(data input: Data, path: String? = nil, headersOnly: Bool = false) throws {
        // Element offsets are absolute, so the bytes must start at index 0.
        let data = input.startIndex == 0 ? input : Data(input)
        self.path = path
        self.isHeaderOnly = headersOnly
        do {
            let parsed = try data.withUnsafeBytes { raw in
                try Self.parse(raw: raw, data: data, headersOnly: headersOnly)
            }
            meta = parsed.meta
            dataSet = parsed.dataSet
            transferSyntax = parsed.syntax
            hasPreamble = parsed.hasPreamble
            transferSyntaxFromMeta = parsed.syntaxFromMeta
            hasPixelData = parsed.hasPixelData
            pixelDataHeaderOffset = parsed.pixelDataHeaderOffset
        } catch let error as DICOMError {
            throw error.at(path)
        }
    }

    private struct Parsed {
        var meta: DICOMDataSet
        var dataSet: DICOMDataSet
        var syntax: TransferSyntax
        var hasPreamble: Bool
        var syntaxFromMeta: Bool
        var hasPixelData: Bool
        var pixelDataHeaderOffset: Int?
    }

    private static func isDICM(_ raw: UnsafeRawBufferPointer, at p: Int) -> Bool {
        raw.count >= p + 4 && raw[p] == 0x44 && raw[p + 1] == 0x49 && raw[p + 2] == 0x43 && raw[p + 3] == 0x4D
    }

    private static func parse(raw: UnsafeRawBufferPointer, data: Data, headersOnly: Bool) throws -> Parsed {
        var p = 0
        var hasPreamble = false
        if isDICM(raw, at: 128) {
            p = 132
            hasPreamble = true
        } else if isDICM(raw, at: 0) {
            p = 4
        }

        // File meta group: always Explicit VR Little Endian (PS3.10 7.1), but some writers
        // use implicit VR, so look at the VR bytes.
        var meta = DICOMDataSet(bytes: data, isBigEndian: false)
        if raw.count - p >= 8,
           UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: p, as: UInt16.self)) == 0x0002 {
            let explicit = DICOMValueRepresentation.fromBytes(raw[p + 4], raw[p + 5]) != nil
            var metaParser = DICOMParser(raw: raw, bytes: data, isBigEndian: false, isExplicitVR: explicit,
                                         stopAtPixelData: false)
            (meta, p) = try metaParser.parseDataSet(from: p, to: raw.count, depth: 0, onlyGroup: 0x0002)
        } else if hasPreamble == false && p == 0 {
            // No preamble and no meta group: accept only a data set that starts like one.
            guard try looksLikeDataSet(raw) else {
                throw DICOMError(.notDICOM("no DICM prefix and the first bytes are not a DICOM data element"))
            }
        }

        var syntax: TransferSyntax
        var syntaxFromMeta = false
        if let uid = meta.string(.transferSyntaxUID) {
            syntax = TransferSyntax.forUID(uid)
            syntaxFromMeta = true
            if uid == "1.2.840.10008.1.2.1.99" {
                throw DICOMError(.unsupportedTransferSyntax(uid: uid, name: syntax.name))
            }
        } else {
            syntax = inferSyntax(raw, at: p)
        }
        // Writers sometimes declare one VR encoding and use the other; trust the bytes
        // for little endian data sets (the tag's group cannot look like a VR).
        if syntaxFromMeta, !syntax.isBigEndian, raw.count - p >= 8 {
            let looksExplicit = DICOMValueRepresentation.fromBytes(raw[p + 4], raw[p + 5]) != nil
            if looksExplicit != syntax.isExplicitVR && syntax.pixelEncoding == .native {
                syntax = looksExplicit ? .explicitVRLittleEndian : .implicitVRLittleEndian
            }
        }

        var parser = DICOMParser(raw: raw, bytes: data, isBigEndian: syntax.isBigEndian,
                                 isExplicitVR: syntax.isExplicitVR, stopAtPixelData: headersOnly)
        let (dataSet, _) = try parser.parseDataSet(from: p, to: raw.count, depth: 0)
        if dataSet.elements.isEmpty && parser.pixelDataHeaderOffset == nil {
            throw DICOMError(.notDICOM(raw.count <= p ? "no data set after the file meta group"
                                                      : "empty data set"))
        }
        let hasPixelData = parser.pixelDataHeaderOffset != nil || dataSet.contains(.pixelData)
        return Parsed(meta: meta, dataSet: dataSet, syntax: syntax, hasPreamble: hasPreamble,
                      syntaxFromMeta: syntaxFromMeta, hasPixelData: hasPixelData,
                      pixelDataHeaderOffset: parser.pixelDataHeaderOffset)
    }

    /// Whether the bytes start with a plausible element of group 0008 (or another low even
    /// group) in either byte order.
    private static func looksLikeDataSet(_ raw: UnsafeRawBufferPointer) throws -> Bool {
        guard raw.count >= 8 else { return false }
        let le = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt16.self))
        let be = UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt16.self))
        let plausible: Set<UInt16> = [0x0008, 0x0010, 0x0018, 0x0020, 0x0028]
        return plausible.contains(le) || plausible.contains(be)
    }

    /// Guesses the encoding of a data set without meta information.
    private static func inferSyntax(_ raw: UnsafeRawBufferPointer, at p: Int) -> TransferSyntax {
        guard raw.count - p >= 8 else { return .implicitVRLittleEndian }
        let explicit = DICOMValueRepresentation.fromBytes(raw[p + 4], raw[p + 5]) != nil
        let le = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: p, as: UInt16.self))
        let be = UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: p, as: UInt16.self))
        // A little endian group 0x0800 is group 0x0008 written big endian.
        if explicit && le > 0x00FF && be <= 0x00FF { return .explicitVRBigEndian }
        return explicit ? .explicitVRLittleEndian : .implicitVRLittleEndian
    }
}
