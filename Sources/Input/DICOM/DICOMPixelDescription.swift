/// The Image Pixel module of a data set (PS3.3 C.7.6.3): how Pixel Data is laid out.
public struct DICOMPixelDescription: Sendable, Equatable {
    public var rows: Int
    public var columns: Int
    public var samplesPerPixel: Int
    public var bitsAllocated: Int
    public var bitsStored: Int
    public var highBit: Int
    /// Pixel Representation 1: two's complement samples.
    public var isSigned: Bool
    public var photometricInterpretation: String
    /// 0: R1G1B1R2... ; 1: RRR...GGG...BBB (only for samplesPerPixel > 1).
    public var planarConfiguration: Int
    public var numberOfFrames: Int

    /// Largest decoded image accepted, in samples (all frames). Bounds memory on hostile headers.
    public static let maximumSamples = 1 << 31

    public init(rows: Int, columns: Int, samplesPerPixel: Int = 1, bitsAllocated: Int, bitsStored: Int,
                highBit: Int, isSigned: Bool, photometricInterpretation: String = "MONOCHROME2",
                planarConfiguration: Int = 0, numberOfFrames: Int = 1) {
        self.rows = rows
        self.columns = columns
        self.samplesPerPixel = samplesPerPixel
        self.bitsAllocated = bitsAllocated
        self.bitsStored = bitsStored
        self.highBit = highBit
        self.isSigned = isSigned
        self.photometricInterpretation = photometricInterpretation
        self.planarConfiguration = planarConfiguration
        self.numberOfFrames = numberOfFrames
    }

    /// Reads and validates the module from a data set.
    public init(dataSet ds: DICOMDataSet) throws {
        guard let rows = ds.int(.rows), let columns = ds.int(.columns) else {
            throw DICOMError(.missingAttribute("Rows (0028,0010) or Columns (0028,0011)"))
        }
        guard let bitsAllocated = ds.int(.bitsAllocated) else {
            throw DICOMError(.missingAttribute("Bits Allocated (0028,0100)"))
        }
        let bitsStored = ds.int(.bitsStored) ?? bitsAllocated
        let highBit = ds.int(.highBit) ?? (bitsStored - 1)
        let spp = ds.int(.samplesPerPixel) ?? 1
        // Number of Frames is IS; some writers leave it empty or 0 for single frames.
        let frames = max(1, ds.int(.numberOfFrames) ?? 1)
        self.init(rows: rows, columns: columns, samplesPerPixel: spp, bitsAllocated: bitsAllocated,
                  bitsStored: bitsStored, highBit: highBit, isSigned: (ds.int(.pixelRepresentation) ?? 0) == 1,
                  photometricInterpretation: ds.string(.photometricInterpretation) ?? "MONOCHROME2",
                  planarConfiguration: ds.int(.planarConfiguration) ?? 0, numberOfFrames: frames)
        try validate()
    }

    /// Rejects layouts this reader does not decode and absurd sizes.
    public func validate() throws {
        guard rows > 0, columns > 0 else {
            throw DICOMError(.malformed("image size \(columns)x\(rows) is empty"))
        }
        guard [1, 8, 16, 32].contains(bitsAllocated) else {
            throw DICOMError(.unsupported("Bits Allocated \(bitsAllocated) (1, 8, 16 and 32 are read)"))
        }
        guard bitsAllocated != 1 || samplesPerPixel == 1 else {
            throw DICOMError(.unsupported("1-bit pixels with \(samplesPerPixel) samples per pixel"))
        }
        guard bitsStored >= 1, bitsStored <= bitsAllocated, highBit >= bitsStored - 1, highBit < bitsAllocated else {
            throw DICOMError(.malformed(
                "Bits Stored \(bitsStored) / High Bit \(highBit) do not fit Bits Allocated \(bitsAllocated)"))
        }
        guard samplesPerPixel == 1 || samplesPerPixel == 3 else {
            throw DICOMError(.unsupported("Samples per Pixel \(samplesPerPixel) (1 and 3 are read)"))
        }
        guard !photometricInterpretation.hasPrefix("PALETTE") else {
            throw DICOMError(.unsupported("Photometric Interpretation \(photometricInterpretation)"))
        }
        let (perFrame, o1) = rows.multipliedReportingOverflow(by: columns * samplesPerPixel)
        let (total, o2) = perFrame.multipliedReportingOverflow(by: numberOfFrames)
        guard !o1, !o2, total <= Self.maximumSamples else {
            throw DICOMError(.tooLarge(
                "\(columns)x\(rows)x\(samplesPerPixel) samples x \(numberOfFrames) frames exceeds \(Self.maximumSamples)"))
        }
    }

    /// Samples in one frame (pixels x samples per pixel).
    public var samplesPerFrame: Int { rows * columns * samplesPerPixel }
    /// Bytes per sample (0 for 1-bit bitmaps, which pack 8 pixels a byte).
    public var bytesPerSample: Int { bitsAllocated / 8 }
    /// Bytes of one uncompressed frame (whole bytes; see `nativeDataBytes` for 1-bit data).
    public var bytesPerFrame: Int { samplesPerFrame * bytesPerSample }
    /// 1-bit bitmaps (segmentation masks): bits packed least significant first, frames back to back.
    public var isBitPacked: Bool { bitsAllocated == 1 }
    /// Bytes all frames of native Pixel Data need.
    public var nativeDataBytes: Int {
        isBitPacked ? (samplesPerFrame * numberOfFrames + 7) / 8 : bytesPerFrame * numberOfFrames
    }
    /// MONOCHROME1: low values are bright (inverted grey scale).
    public var isMonochrome1: Bool { photometricInterpretation == "MONOCHROME1" }

    /// Turns a raw stored sample (the `bitsAllocated`-wide container) into its value:
    /// the `bitsStored` bits ending at `highBit`, sign-extended when signed.
    @inlinable
    public func storedValue(_ container: UInt32) -> Int64 {
        let shift = UInt32(highBit + 1 - bitsStored)
        let bits = UInt32(bitsStored)
        let mask: UInt64 = bits >= 32 ? 0xFFFF_FFFF : (UInt64(1) << UInt64(bits)) - 1
        let v = (UInt64(container) >> UInt64(shift)) & mask
        if isSigned && (v >> UInt64(bits - 1)) & 1 == 1 {
            return Int64(v) - Int64(1 << UInt64(bits))
        }
        return Int64(v)
    }
}
