import Foundation
import Testing
@testable import DICOM

/// pydicom's test files (Fixtures/, see ATTRIBUTION.md) against values pydicom computed
/// (Fixtures/reference.json, written by scripts/reference/dicom_reference.py).
struct PydicomCorpusTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    struct Reference: Decodable {
        var files: [String: Entry]
    }

    struct Entry: Decodable {
        var mode: String
        var transfer_syntax: String?
        var rows: Int?
        var columns: Int?
        var samples_per_pixel: Int?
        var frames: Int?
        var rescale_slope: Double?
        var rescale_intercept: Double?
        var sum: Double?
        var sum_of_squares: Double?
        var min: Double?
        var max: Double?
        var mean: Double?
        var frame_sums: [Double]?
        var header: [String: String?]?
        var element_count: Int?
        var sequences: [String: Int]?
        var error: String?
    }

    static let reference: Reference? = {
        guard let data = try? Data(contentsOf: fixtures.appendingPathComponent("reference.json")) else { return nil }
        return try? JSONDecoder().decode(Reference.self, from: data)
    }()

    static func names(_ mode: (String) -> Bool) -> [String] {
        (reference?.files ?? [:]).filter { mode($0.value.mode) }.keys.sorted()
    }

    @Test func referenceCoversEveryLayout() throws {
        let r = try #require(Self.reference)
        let syntaxes = Set(r.files.values.compactMap(\.transfer_syntax))
        for uid in ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.5",
                    "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70"] {
            #expect(syntaxes.contains(uid), "no fixture in \(uid)")
        }
        #expect(r.files.values.contains { ($0.frames ?? 1) > 1 })
        #expect(r.files.count == 39)
    }

    static func close(_ a: Double, _ b: Double, relative: Double = 1e-12) -> Bool {
        abs(a - b) <= relative * max(1, abs(b))
    }

    @Test(arguments: names { $0 == "pixels" })
    func pixelsMatchPydicom(name: String) throws {
        let e = try #require(Self.reference?.files[name])
        let file = try DICOMFile.read(contentsOf: Self.fixtures.appendingPathComponent(name))
        if let ts = e.transfer_syntax { #expect(file.transferSyntax.uid == ts) }
        let d = try file.pixelDescription()
        #expect(d.rows == e.rows && d.columns == e.columns)
        #expect(d.samplesPerPixel == e.samples_per_pixel && d.numberOfFrames == e.frames)
        var sum = 0.0, squares = 0.0, lo = Double.infinity, hi = -Double.infinity
        var frameSums: [Double] = []
        var count = 0
        for f in 0..<d.numberOfFrames {
            let samples = try file.decodeFrameSamples(f)
            #expect(samples.count == d.rows * d.columns * d.samplesPerPixel)
            var frameSum = 0.0
            for v in samples {
                let x = Double(v)
                frameSum += x
                squares += x * x
                lo = Swift.min(lo, x)
                hi = Swift.max(hi, x)
            }
            count += samples.count
            frameSums.append(frameSum)
            sum += frameSum
        }
        #expect(Self.close(sum, try #require(e.sum)), "sum \(sum) vs \(e.sum!)")
        #expect(Self.close(squares, try #require(e.sum_of_squares)), "sum of squares \(squares) vs \(e.sum_of_squares!)")
        #expect(lo == e.min && hi == e.max)
        #expect(Self.close(sum / Double(count), try #require(e.mean)))
        let expectedFrames = try #require(e.frame_sums)
        #expect(frameSums.count == expectedFrames.count)
        for (a, b) in zip(frameSums, expectedFrames) { #expect(Self.close(a, b)) }

        let t = try file.modalityTransform()
        #expect(t.slope == e.rescale_slope && t.intercept == e.rescale_intercept)
    }

    /// Colour JPEG Baseline: read as BT.601 luminance; lossy decoders differ by a grey level or so.
    @Test(arguments: names { $0 == "luminance" })
    func colourJPEGLuminance(name: String) throws {
        let e = try #require(Self.reference?.files[name])
        let file = try DICOMFile.read(contentsOf: Self.fixtures.appendingPathComponent(name))
        let d = try file.pixelDescription()
        var hu = [Float](repeating: 0, count: d.rows * d.columns)
        let stats = try hu.withUnsafeMutableBufferPointer {
            try file.decodeFrameHU(0, transform: DICOMModalityTransform(), into: $0)
        }
        #expect(stats.count == d.rows * d.columns)
        #expect(abs(try #require(stats.meanHU) - e.mean!) < 1.0, "mean \(stats.meanHU!) vs \(e.mean!)")
        #expect(abs(stats.minHU - e.min!) <= 3 && abs(stats.maxHU - e.max!) <= 3)
        // The strict sample API refuses colour it can only give as luminance.
        #expect(throws: DICOMError.self) { try file.decodeFrameSamples(0) }
    }

    @Test(arguments: names { $0 == "header" })
    func headersMatchPydicom(name: String) throws {
        let e = try #require(Self.reference?.files[name])
        let file = try DICOMFile.read(contentsOf: Self.fixtures.appendingPathComponent(name))
        #expect(file.dataSet.elements.count == e.element_count)
        let tags: [String: DICOMTag] = ["Modality": .modality, "PatientID": .patientID, "PatientName": .patientName,
                                        "SOPInstanceUID": .sopInstanceUID, "StudyInstanceUID": .studyInstanceUID]
        for (keyword, value) in try #require(e.header) {
            #expect(file.dataSet.string(try #require(tags[keyword])) == value, "\(keyword)")
        }
        for (hex, count) in e.sequences ?? [:] {
            let raw = try #require(UInt32(hex, radix: 16))
            #expect(file.dataSet.sequence(DICOMTag(rawValue: raw))?.count == count, "\(hex)")
        }
    }

    @Test(arguments: names { $0.hasPrefix("error:") })
    func refusedWithAClearError(name: String) throws {
        let e = try #require(Self.reference?.files[name])
        let url = Self.fixtures.appendingPathComponent(name)
        do {
            let file = try DICOMFile.read(contentsOf: url)
            _ = try file.decodeFrameSamples(0)
            Issue.record("\(name) decoded but should fail with \(e.error!)")
        } catch let error as DICOMError {
            #expect(error.path == url.path)
            #expect(error.description.hasPrefix(url.path + ": "))
            switch error.reason {
            case .unsupportedTransferSyntax(let uid, _):
                #expect(e.error == "unsupportedTransferSyntax")
                #expect(uid == e.transfer_syntax)
                #expect(error.description.contains(uid))
            case .unsupported: #expect(e.error == "unsupported")
            case .pixelDataTooShort: #expect(e.error == "pixelDataTooShort")
            case .truncated: #expect(e.error == "truncated")
            default: Issue.record("\(name): unexpected \(error)")
            }
        }
    }
}
