// libFuzzer entry point for the DICOM parser and pixel decoders (built by Fuzz/run.sh with
// `swiftc -sanitize=fuzzer,address` over Sources/Input/DICOM). Each input is parsed as a
// Part 10 file; when it has an image, the first frame is decoded both to stored samples and
// to HU. Any crash, sanitizer report or hang is a bug: bad input must only throw DICOMError.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func dicomFuzzTestOneInput(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    guard let file = try? DICOMFile(data: data, path: "fuzz") else { return 0 }
    _ = try? DICOMFile(data: data, path: "fuzz", headersOnly: true)
    guard let description = try? file.pixelDescription() else { return 0 }
    // Keep each run cheap: the parser, not allocation size, is under test.
    guard description.samplesPerFrame <= 1 << 22 else { return 0 }
    _ = try? file.decodeFrameSamples(0)
    if let transform = try? file.modalityTransform() {
        var hu = [Float](repeating: 0, count: description.rows * description.columns)
        _ = try? hu.withUnsafeMutableBufferPointer { try file.decodeFrameHU(0, transform: transform, into: $0) }
    }
    // Touch the header accessors too.
    for tag in [DICOMTag.patientID, .imagePositionPatient, .pixelSpacing, .rescaleSlope, .pixelPaddingValue] {
        _ = file.dataSet.string(tag)
        _ = file.dataSet.numbers(tag)
        _ = file.dataSet.raw16(tag)
    }
    return 0
}
