import Foundation
import Testing
@testable import DICOM

/// `DICOMSliceReader` (the streamed, chunked read of single-frame slices) against
/// independent references: pydicom's statistics of the corpus files and, on hand-built
/// files, the stored values written into them (rescaled in Double, padding by hand).
/// Small chunks force many reads and chunk edges that split the 8-lane steps.
struct SliceReaderTests {
    static func temporaryFile(_ data: Data, name: String = "slice.dcm") throws -> URL {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("slice-reader-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    /// Single-frame grey corpus files: statistics against pydicom's, whichever path reads them.
    @Test(arguments: PydicomCorpusTests.names { $0 == "pixels" })
    func corpusSlicesMatchPydicom(name: String) throws {
        let e = try #require(PydicomCorpusTests.reference?.files[name])
        guard e.frames == 1, e.samples_per_pixel == 1 else { return }
        let url = PydicomCorpusTests.fixtures.appendingPathComponent(name)
        let rows = try #require(e.rows), columns = try #require(e.columns)
        for chunk in [4096, 4098, DICOMSliceReader.defaultChunkBytes] {
            let reader = DICOMSliceReader(chunkBytes: chunk)
            var hu = [Float](repeating: .nan, count: rows * columns)
            let slice = try hu.withUnsafeMutableBufferPointer {
                try reader.readHU(contentsOf: url, rows: rows, columns: columns, into: $0)
            }
            let t = slice.transform
            #expect(t.slope == e.rescale_slope ?? 1 && t.intercept == e.rescale_intercept ?? 0)
            #expect(!hu.contains { $0.isNaN }, "\(name): voxels left unwritten")
            let s = slice.statistics
            #expect(s.count + s.paddingCount == rows * columns)
            if t.paddingRange == nil {
                let lo = t.hu(Int64(try #require(e.min))), hi = t.hu(Int64(try #require(e.max)))
                #expect(s.minHU == Swift.min(lo, hi) && s.maxHU == Swift.max(lo, hi), "\(name) chunk \(chunk)")
                let sum = try #require(e.sum) * t.slope + t.intercept * Double(rows * columns)
                #expect(PydicomCorpusTests.close(s.sumHU, sum), "\(name) chunk \(chunk): \(s.sumHU) vs \(sum)")
            }
            // Only native little endian 16-bit grey is streamed (the rest take the general path);
            // CT_small, the usual CT layout, must be once its 6.3 kB header fits the first read.
            let file = try DICOMFile.read(contentsOf: url)
            let plain16 = try file.pixelDescription().bitsAllocated == 16
                && file.transferSyntax.pixelEncoding == .native && !file.transferSyntax.isBigEndian
            #expect(!slice.streamed || plain16, "\(name)")
            if name == "CT_small.dcm" && chunk > 8192 { #expect(slice.streamed) }
        }
    }

    /// A signed, padded slice with odd dimensions, read in chunks that end mid-sample.
    @Test func handBuiltSignedPaddedSlice() throws {
        let rows = 37, columns = 29
        var containers: [UInt16] = []
        for i in 0..<(rows * columns) {
            containers.append(i % 11 == 0 ? UInt16(bitPattern: -2000) : UInt16(bitPattern: Int16(i % 3000 - 1500)))
        }
        let data = HUFastPathTests.file(rows: rows, columns: columns, containers: containers, bitsStored: 16,
                                        highBit: 15, signed: true, slope: "2", intercept: "-1024",
                                        padding: UInt16(bitPattern: -2000))
        let url = try Self.temporaryFile(data)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        for chunk in [4096, 4097, 5001, 1 << 20] {
            var hu = [Float](repeating: .nan, count: rows * columns)
            let slice = try hu.withUnsafeMutableBufferPointer {
                try DICOMSliceReader(chunkBytes: chunk).readHU(contentsOf: url, rows: rows, columns: columns, into: $0)
            }
            #expect(slice.streamed)
            var padding = 0, count = 0, sum = 0.0, lo = Double.infinity, hi = -Double.infinity, wrong = 0
            for (i, c) in containers.enumerated() {
                let v = Int16(bitPattern: c)
                if v == -2000 {
                    padding += 1
                    if hu[i] != -1024 { wrong += 1 }
                } else {
                    let x = Double(v) * 2 - 1024
                    count += 1; sum += x; lo = min(lo, x); hi = max(hi, x)
                    if hu[i] != Float(x) { wrong += 1 }
                }
            }
            #expect(wrong == 0, "chunk \(chunk): \(wrong) voxels differ")
            #expect(slice.statistics.paddingCount == padding && slice.statistics.count == count)
            #expect(slice.statistics.minHU == lo && slice.statistics.maxHU == hi && slice.statistics.sumHU == sum)
        }
    }

    /// Broken files give the general parser's errors, naming the file; nothing is streamed
    /// past the end of the data.
    @Test func brokenFilesAreReportedNotStreamed() throws {
        let pixels = [UInt16](repeating: 100, count: 64 * 64)
        let good = HUFastPathTests.file(rows: 64, columns: 64, containers: pixels, bitsStored: 16, highBit: 15,
                                        signed: false)
        // Cut inside Pixel Data: the declared length runs past the end of the file.
        let cut = try Self.temporaryFile(good.prefix(good.count - 1000))
        defer { try? FileManager.default.removeItem(at: cut.deletingLastPathComponent()) }
        var hu = [Float](repeating: 0, count: 64 * 64)
        /// One 64 x 64 slice read into `hu`.
        func read64(_ url: URL, chunkBytes: Int = DICOMSliceReader.defaultChunkBytes) throws -> DICOMSliceReader.Slice {
            try hu.withUnsafeMutableBufferPointer {
                try DICOMSliceReader(chunkBytes: chunkBytes).readHU(contentsOf: url, rows: 64, columns: 64, into: $0)
            }
        }
        #expect {
            _ = try read64(cut, chunkBytes: 4096)
        } throws: { error in
            guard let e = error as? DICOMError, case .truncated = e.reason else { return false }
            return e.path == cut.path
        }
        // Pixel Data shorter than the image: declared and present, but too few bytes.
        let short = HUFastPathTests.file(rows: 64, columns: 64, containers: Array(pixels.prefix(100)), bitsStored: 16,
                                         highBit: 15, signed: false)
        let shortURL = try Self.temporaryFile(short)
        defer { try? FileManager.default.removeItem(at: shortURL.deletingLastPathComponent()) }
        #expect {
            _ = try read64(shortURL, chunkBytes: 4096)
        } throws: { error in
            guard let e = error as? DICOMError, case .pixelDataTooShort = e.reason else { return false }
            return e.path == shortURL.path
        }
        // A slice of another size than the series.
        let url = try Self.temporaryFile(good)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        var small = [Float](repeating: 0, count: 32 * 64)
        #expect(throws: DICOMError.self) {
            try small.withUnsafeMutableBufferPointer {
                _ = try DICOMSliceReader().readHU(contentsOf: url, rows: 32, columns: 64, into: $0)
            }
        }
        // Data Set Trailing Padding after Pixel Data (as in CT_small): parsed, still streamed.
        var trailing = RawDICOMBuilder()
        trailing.bytes = good
        trailing.element(0xFFFC, 0xFFFC, "OB", Data(count: 8))
        let trailingURL = try Self.temporaryFile(trailing.bytes)
        defer { try? FileManager.default.removeItem(at: trailingURL.deletingLastPathComponent()) }
        let slice = try read64(trailingURL, chunkBytes: 4096)
        #expect(slice.streamed && slice.statistics.count == 64 * 64 && slice.statistics.minHU == 100)
        // A broken element after Pixel Data: the general parser's error, not a silent read.
        var broken = RawDICOMBuilder()
        broken.bytes = good
        broken.element(0xFFFC, 0xFFFC, "OB", Data(count: 8), length: 4000)
        let brokenURL = try Self.temporaryFile(broken.bytes)
        defer { try? FileManager.default.removeItem(at: brokenURL.deletingLastPathComponent()) }
        #expect {
            _ = try read64(brokenURL)
        } throws: { error in
            guard let e = error as? DICOMError, case .truncated = e.reason else { return false }
            return e.path == brokenURL.path
        }
        #expect(hu.allSatisfy { $0 == 100 })
    }
}
