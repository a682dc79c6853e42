// Fuzz build only: replaces Sources/Input/DICOM/JPEGDCTDecoder.swift, which calls libjpeg-turbo
// through ImageCodecs (a separate module with a C shim). The fuzzer targets our own parser and
// decoders (RLE, JPEG Lossless), not libjpeg-turbo.
import Foundation

enum JPEGDCTDecoder {
    static func decode(_ data: Data) throws -> DecodedJPEGImage {
        throw DICOMError(.unsupported("JPEG DCT decoding is not part of the fuzz build"))
    }
}
