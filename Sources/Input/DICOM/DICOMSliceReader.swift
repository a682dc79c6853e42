import Foundation

/// Reads single-frame DICOM slices straight into a HU destination through one reusable
/// buffer, so a worker decoding many slices of a series allocates nothing per file.
///
/// The common CT case (native little endian, 16-bit grey, one frame, nothing after Pixel
/// Data) is streamed: the first `pread(2)` brings the header and the first pixels, the
/// header is parsed from those bytes (parsing stops at Pixel Data), and the rest of Pixel
/// Data follows in `chunkBytes` pieces that `DICOMGrey16HUKernel` converts while they are
/// still in cache. The whole file is never held in memory, and the file's bytes cross
/// main memory once (page cache -> buffer in cache -> HU in the volume) instead of three
/// times (page cache -> heap -> cache -> HU).
///
/// Every other file (other transfer syntaxes or layouts, multi-frame, a header longer than
/// the first read, a Pixel Data length past the end of the file or too short for the
/// frame, trailing elements that do not parse, a header the prefix parse rejects) goes
/// through the general path, `DICOMFile.read` and `decodeFrameHU`, which also gives the
/// same errors as before for broken files.
///
/// Not thread-safe: one reader per worker.
public final class DICOMSliceReader {
    /// Bytes per read: big enough that the syscalls are a small cost, small enough that
    /// a chunk and its converted floats stay in a core's L2 cache.
    public static let defaultChunkBytes = 128 << 10

    private let buffer: UnsafeMutableRawPointer
    private let capacity: Int

    public init(chunkBytes: Int = DICOMSliceReader.defaultChunkBytes) {
        capacity = max(chunkBytes, 4096)
        buffer = .allocate(byteCount: capacity, alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// What one slice contributed.
    public struct Slice: Sendable {
        /// HU statistics over the slice's non-padding voxels.
        public var statistics: HUAccumulator
        /// The rescale and padding the slice was decoded with.
        public var transform: DICOMModalityTransform
        /// Whether the streamed path (rather than the general one) decoded it.
        public var streamed: Bool
    }

    /// Decodes the single frame of the file at `url` into `destination` (`rows * columns`
    /// floats, row-major, HU; padding -1024). The file must be `columns x rows`; errors name
    /// the file and the reason.
    public func readHU(contentsOf url: URL, rows: Int, columns: Int,
                       into destination: UnsafeMutableBufferPointer<Float>) throws -> Slice {
        let path = url.path
        guard destination.count >= rows * columns else {
            throw DICOMError(.malformed("destination holds \(destination.count) voxels, the slice has \(rows * columns)"),
                             path: path)
        }
        let handle = open(path, O_RDONLY | O_CLOEXEC)
        guard handle >= 0 else { throw DICOMError(.io(String(cString: strerror(errno))), path: path) }
        defer { close(handle) }
        var info = stat()
        guard fstat(handle, &info) == 0 else { throw DICOMError(.io(String(cString: strerror(errno))), path: path) }
        let size = Int(info.st_size)
        if (info.st_mode & S_IFMT) == S_IFREG, size <= DICOMFile.maximumFileBytes,
           let slice = try streamGrey16(handle: handle, size: size, path: path, rows: rows, columns: columns,
                                        destination: destination) {
            return slice
        }
        // General path: the whole file, every transfer syntax and layout.
        let file = try DICOMFile.read(contentsOf: url)
        let pixels = try file.pixelDescription()
        try Self.checkSize(pixels, rows: rows, columns: columns, path: path)
        let transform = try file.modalityTransform()
        let statistics = try file.decodeFrameHU(0, transform: transform, into: destination)
        return Slice(statistics: statistics, transform: transform, streamed: false)
    }

    static func checkSize(_ pixels: DICOMPixelDescription, rows: Int, columns: Int, path: String) throws {
        guard pixels.rows == rows, pixels.columns == columns else {
            throw DICOMError(.malformed("image is \(pixels.columns)x\(pixels.rows), the series is \(columns)x\(rows)"),
                             path: path)
        }
    }

    /// The streamed path, or nil when the file is not the plain case (the caller then
    /// takes the general path, which reports any problem with the file).
    private func streamGrey16(handle: Int32, size: Int, path: String, rows: Int, columns: Int,
                              destination: UnsafeMutableBufferPointer<Float>) throws -> Slice? {
        var bufferBytes = try readFully(handle, count: min(size, capacity), at: 0, path: path)
        var bufferFileOffset = 0
        // Parsed in place: `.none` leaves the buffer to this reader. Nothing parsed from it
        // is used after the first refill below.
        let header = Data(bytesNoCopy: buffer, count: bufferBytes, deallocator: .none)
        guard let file = try? DICOMFile(data: header, path: path, headersOnly: true),
              let elementOffset = file.pixelDataHeaderOffset,
              file.transferSyntax.pixelEncoding == .native, !file.transferSyntax.isBigEndian,
              let d = try? file.pixelDescription(),
              d.bitsAllocated == 16, d.samplesPerPixel == 1, d.numberOfFrames == 1,
              let value = pixelDataValue(at: elementOffset, explicitVR: file.transferSyntax.isExplicitVR,
                                         bytes: bufferBytes)
        else { return nil }
        let pixels = d.rows * d.columns
        // Only a Pixel Data value inside the file that holds the whole frame is streamed;
        // anything else (a length past the end, too few bytes) is for the general parser
        // to report.
        let valueEnd = value.offset + value.length
        guard valueEnd <= size, value.length >= 2 * pixels else { return nil }
        try Self.checkSize(d, rows: rows, columns: columns, path: path)
        let transform = DICOMModalityTransform(dataSet: file.dataSet, pixels: d)
        let layout = DICOMGrey16HUKernel.Layout(bitsStored: d.bitsStored, highBit: d.highBit, isSigned: d.isSigned)
        let slope = Float(transform.slope), intercept = Float(transform.intercept)

        var stats = DICOMGrey16HUKernel.StoredStatistics()
        var done = 0
        while done < pixels {
            let fileOffset = value.offset + 2 * done
            let inBuffer = fileOffset - bufferFileOffset
            let available = inBuffer >= 0 ? (bufferBytes - inBuffer) / 2 : 0
            if available > 0 {
                let count = min(available, pixels - done)
                stats.merge(DICOMGrey16HUKernel.convert(
                    source: buffer + inBuffer, count: count, layout: layout, slope: slope, intercept: intercept,
                    padding: transform.paddingRange, destination: destination.baseAddress! + done))
                done += count
                continue
            }
            let want = min(capacity, 2 * (pixels - done))
            bufferFileOffset = fileOffset
            bufferBytes = try readFully(handle, count: want, at: fileOffset, path: path)
            guard bufferBytes >= 2 else {
                // The file was shorter than fstat said (it changed while being read).
                throw DICOMError(.pixelDataTooShort(expectedBytes: 2 * pixels, actualBytes: 2 * done), path: path)
            }
        }
        // Elements after Pixel Data (often Data Set Trailing Padding) are parsed as the
        // general path would; if they do not parse, or do not fit the buffer, the general
        // path reads the file again and accepts or reports it.
        if valueEnd < size {
            let trailing = size - valueEnd
            guard trailing <= capacity,
                  try readFully(handle, count: trailing, at: valueEnd, path: path) == trailing,
                  trailingElementsParse(count: trailing, syntax: file.transferSyntax)
            else { return nil }
        }
        let statistics = HUAccumulator(minStored: Int64(stats.minStored), maxStored: Int64(stats.maxStored),
                                       sumStored: stats.sumStored, count: pixels - stats.paddingCount,
                                       paddingCount: stats.paddingCount, transform: transform)
        return Slice(statistics: statistics, transform: transform, streamed: true)
    }

    /// Whether the first `count` bytes of the buffer parse as data elements.
    private func trailingElementsParse(count: Int, syntax: TransferSyntax) -> Bool {
        let bytes = Data(bytesNoCopy: buffer, count: count, deallocator: .none)
        return bytes.withUnsafeBytes { raw in
            var parser = DICOMParser(raw: raw, bytes: bytes, isBigEndian: syntax.isBigEndian,
                                     isExplicitVR: syntax.isExplicitVR, stopAtPixelData: false)
            return (try? parser.parseDataSet(from: 0, to: count, depth: 0)) != nil
        }
    }

    /// Offset and declared length of the Pixel Data value whose element header starts at
    /// `p` in the buffer (little endian); nil for an undefined length (encapsulated) or a
    /// header cut off by the end of the buffer.
    private func pixelDataValue(at p: Int, explicitVR: Bool, bytes: Int) -> (offset: Int, length: Int)? {
        let raw = UnsafeRawPointer(buffer)
        func u16(_ o: Int) -> Int { Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt16.self))) }
        func u32(_ o: Int) -> UInt32 { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
        guard p >= 0, bytes - p >= 8 else { return nil }
        var length: UInt32, offset: Int
        if explicitVR {
            guard let vr = DICOMValueRepresentation.fromBytes(raw.load(fromByteOffset: p + 4, as: UInt8.self),
                                                              raw.load(fromByteOffset: p + 5, as: UInt8.self))
            else { return nil }
            if vr.hasLongLength {
                guard bytes - p >= 12 else { return nil }
                length = u32(p + 8)
                offset = p + 12
            } else {
                length = UInt32(u16(p + 6))
                offset = p + 8
            }
        } else {
            length = u32(p + 4)
            offset = p + 8
        }
        guard length != DICOMParser.undefinedLength else { return nil }
        return (offset, Int(length))
    }

    /// Reads up to `count` bytes at `offset` into the buffer; fewer only at the end of the file.
    private func readFully(_ handle: Int32, count: Int, at offset: Int, path: String) throws -> Int {
        var done = 0
        while done < count {
            let n = pread(handle, buffer + done, count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw DICOMError(.io(String(cString: strerror(errno))), path: path)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }
}
