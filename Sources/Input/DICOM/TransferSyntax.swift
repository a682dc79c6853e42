/// A DICOM transfer syntax: how the data set is encoded and how Pixel Data is compressed.
public struct TransferSyntax: Sendable, Equatable {
    /// How Pixel Data is stored.
    public enum PixelEncoding: Sendable, Equatable {
        case native
        case rleLossless
        /// JPEG Baseline (Process 1) and Extended (Process 2 & 4): DCT, decoded with libjpeg-turbo.
        case jpegDCT
        /// JPEG Lossless, Non-Hierarchical (Process 14), any predictor or selection value 1.
        case jpegLossless
        /// Known but not decoded here (JPEG-LS, JPEG 2000, deflate, video, ...).
        case unsupported
    }

    public let uid: String
    public let name: String
    public let isExplicitVR: Bool
    public let isBigEndian: Bool
    public let pixelEncoding: PixelEncoding

    public static let implicitVRLittleEndian = TransferSyntax(
        uid: "1.2.840.10008.1.2", name: "Implicit VR Little Endian", isExplicitVR: false, isBigEndian: false,
        pixelEncoding: .native)
    public static let explicitVRLittleEndian = TransferSyntax(
        uid: "1.2.840.10008.1.2.1", name: "Explicit VR Little Endian", isExplicitVR: true, isBigEndian: false,
        pixelEncoding: .native)
    public static let explicitVRBigEndian = TransferSyntax(
        uid: "1.2.840.10008.1.2.2", name: "Explicit VR Big Endian", isExplicitVR: true, isBigEndian: true,
        pixelEncoding: .native)

    /// Every syntax this reader recognises, decodable or not.
    public static let known: [TransferSyntax] = [
        implicitVRLittleEndian, explicitVRLittleEndian, explicitVRBigEndian,
        TransferSyntax(uid: "1.2.840.10008.1.2.5", name: "RLE Lossless", isExplicitVR: true, isBigEndian: false,
                       pixelEncoding: .rleLossless),
        TransferSyntax(uid: "1.2.840.10008.1.2.4.50", name: "JPEG Baseline (Process 1)", isExplicitVR: true,
                       isBigEndian: false, pixelEncoding: .jpegDCT),
        TransferSyntax(uid: "1.2.840.10008.1.2.4.51", name: "JPEG Extended (Process 2 & 4)", isExplicitVR: true,
                       isBigEndian: false, pixelEncoding: .jpegDCT),
        TransferSyntax(uid: "1.2.840.10008.1.2.4.57", name: "JPEG Lossless, Non-Hierarchical (Process 14)",
                       isExplicitVR: true, isBigEndian: false, pixelEncoding: .jpegLossless),
        TransferSyntax(uid: "1.2.840.10008.1.2.4.70",
                       name: "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 SV1)",
                       isExplicitVR: true, isBigEndian: false, pixelEncoding: .jpegLossless),
        TransferSyntax(uid: "1.2.840.10008.1.2.1.99", name: "Deflated Explicit VR Little Endian",
                       isExplicitVR: true, isBigEndian: false, pixelEncoding: .unsupported),
        TransferSyntax(uid: "1.2.840.10008.1.2.4.80", name: "JPEG-LS Lossless", isExplicitVR: true,
                       isBigEndian: false, pixelEncoding: .unsupported),
        TransferSyntax(uid: "1.2.840.10008.1.2.4.81", name: "JPEG-LS Near-Lossless", isExplicitVR: true,
                       isBigEndian: false, pixelEncoding: .unsupported),
        TransferSyntax(uid: "1.2.840.10008.1.2.4.90", name: "JPEG 2000 Lossless", isExplicitVR: true,
                       isBigEndian: false, pixelEncoding: .unsupported),
        TransferSyntax(uid: "1.2.840.10008.1.2.4.91", name: "JPEG 2000", isExplicitVR: true,
                       isBigEndian: false, pixelEncoding: .unsupported),
        TransferSyntax(uid: "1.2.840.10008.1.2.4.201", name: "High-Throughput JPEG 2000 Lossless",
                       isExplicitVR: true, isBigEndian: false, pixelEncoding: .unsupported),
        TransferSyntax(uid: "1.2.840.10008.1.2.4.202", name: "High-Throughput JPEG 2000 RPCL Lossless",
                       isExplicitVR: true, isBigEndian: false, pixelEncoding: .unsupported),
        TransferSyntax(uid: "1.2.840.10008.1.2.4.203", name: "High-Throughput JPEG 2000",
                       isExplicitVR: true, isBigEndian: false, pixelEncoding: .unsupported),
    ]

    /// The syntax for `uid`. Unknown UIDs are taken to be encapsulated Explicit VR Little
    /// Endian (as every syntax defined after 1993 is) with undecodable pixels, so the
    /// header still reads and decoding names the UID.
    public static func forUID(_ uid: String) -> TransferSyntax {
        if let s = known.first(where: { $0.uid == uid }) { return s }
        return TransferSyntax(uid: uid, name: "unknown transfer syntax", isExplicitVR: true, isBigEndian: false,
                              pixelEncoding: .unsupported)
    }

    /// Whether this reader can decode Pixel Data in this syntax.
    public var isDecodable: Bool { pixelEncoding != .unsupported }
    /// Whether Pixel Data is encapsulated (fragments in items).
    public var isEncapsulated: Bool { pixelEncoding != .native }
}
