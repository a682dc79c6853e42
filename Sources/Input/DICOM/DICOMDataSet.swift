import Foundation

/// One data element: where its value lies in the file's bytes (values are read lazily),
/// plus the parsed items of a sequence or the fragments of encapsulated Pixel Data.
public struct DICOMElement: Sendable {
    public let tag: DICOMTag
    public let vr: DICOMValueRepresentation
    /// Byte offset of the value in the file.
    public let valueOffset: Int
    /// Value length in bytes (0 for undefined-length sequences and encapsulated data).
    public let length: Int
    /// Items of a sequence (SQ, or undefined-length UN).
    public let items: [DICOMDataSet]?
    /// Encapsulated Pixel Data: byte ranges of each item; the first is the Basic Offset Table.
    public let fragments: [Range<Int>]?
}

/// A parsed data set. Values stay in the (memory-mapped) file bytes until asked for.
public struct DICOMDataSet: Sendable {
    public internal(set) var elements: [DICOMTag: DICOMElement] = [:]
    /// The bytes of the whole file; element offsets index into it.
    public let bytes: Data
    public let isBigEndian: Bool

    init(bytes: Data, isBigEndian: Bool) {
        self.bytes = bytes
        self.isBigEndian = isBigEndian
    }

    public subscript(tag: DICOMTag) -> DICOMElement? { elements[tag] }
    public func contains(_ tag: DICOMTag) -> Bool { elements[tag] != nil }

    /// The raw value bytes of an element with a defined length.
    public func valueBytes(_ tag: DICOMTag) -> Data? {
        guard let e = elements[tag], e.items == nil, e.fragments == nil else { return nil }
        return bytes[e.valueOffset ..< e.valueOffset + e.length]
    }

    /// The value as text with DICOM padding (trailing spaces/NULs, leading spaces) removed;
    /// nil when absent or empty. Multi-valued text keeps its backslashes.
    public func string(_ tag: DICOMTag) -> String? {
        guard let e = elements[tag], e.items == nil, e.fragments == nil, e.length > 0 else { return nil }
        return bytes.withUnsafeBytes { raw -> String? in
            Self.trimmedText(UnsafeRawBufferPointer(rebasing: raw[e.valueOffset ..< e.valueOffset + e.length]))
        }
    }

    /// The backslash-separated values of a text element.
    public func strings(_ tag: DICOMTag) -> [String] {
        guard let e = elements[tag], e.items == nil, e.fragments == nil, e.length > 0 else { return [] }
        return bytes.withUnsafeBytes { raw -> [String] in
            let value = UnsafeRawBufferPointer(rebasing: raw[e.valueOffset ..< e.valueOffset + e.length])
            guard let whole = Self.trimmedBounds(value) else { return [] }
            var parts: [String] = []
            var start = whole.lowerBound
            for i in whole where value[i] == 0x5C {  // backslash
                parts.append(Self.trimmedText(UnsafeRawBufferPointer(rebasing: value[start ..< i])) ?? "")
                start = i + 1
            }
            parts.append(Self.trimmedText(UnsafeRawBufferPointer(rebasing: value[start ..< whole.upperBound])) ?? "")
            return parts
        }
    }

    /// The index range left after removing leading and trailing spaces and NULs (nil when
    /// nothing is left).
    private static func trimmedBounds(_ bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        var lo = 0, hi = bytes.count
        while lo < hi, bytes[lo] == 0x20 || bytes[lo] == 0 { lo += 1 }
        while hi > lo, bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0 { hi -= 1 }
        return lo < hi ? lo ..< hi : nil
    }

    /// Text of a value with DICOM padding removed, decoded as ISO 8859-1 (every byte is a
    /// character, so no value can fail to decode); nil when empty.
    private static func trimmedText(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard let r = trimmedBounds(bytes) else { return nil }
        let text = UnsafeRawBufferPointer(rebasing: bytes[r])
        // ASCII (almost every header value) is also UTF-8: no per-character work.
        if !text.contains(where: { $0 >= 0x80 }) { return String(decoding: text, as: UTF8.self) }
        return String(text.map { Character(Unicode.Scalar($0)) })
    }

    /// The VR to interpret a value with: the file's, unless it says UN for a tag we know.
    func effectiveVR(_ e: DICOMElement) -> DICOMValueRepresentation {
        e.vr == .UN ? DICOMDictionary.valueRepresentation(of: e.tag) : e.vr
    }

    /// Numeric values: DS/IS text, or binary US/SS/UL/SL/FL/FD. Empty when absent;
    /// unparseable text values are dropped.
    public func numbers(_ tag: DICOMTag) -> [Double] {
        guard let e = elements[tag], e.items == nil, e.fragments == nil else { return [] }
        switch effectiveVR(e) {
        case .DS, .IS, .SH, .LO, .CS:
            return strings(tag).compactMap { Double($0) }.filter { $0.isFinite }
        case .US, .SS, .UL, .SL, .FL, .FD, .OW, .OB, .AT, .SV, .UV:
            return binaryValues(e).map { $0 }
        default:
            return []
        }
    }

    /// The first numeric value.
    public func number(_ tag: DICOMTag) -> Double? { numbers(tag).first }

    /// The first value as an integer (rounded toward zero), if representable.
    public func int(_ tag: DICOMTag) -> Int? {
        guard let v = number(tag), v.isFinite, abs(v) < 9.0e15 else { return nil }
        return Int(v)
    }

    /// The first value of a 16-bit binary element as its raw bit pattern. Used for
    /// attributes whose VR is "US or SS" (e.g. Pixel Padding Value), whose sign comes
    /// from Pixel Representation rather than from the VR.
    public func raw16(_ tag: DICOMTag) -> UInt16? {
        guard let e = elements[tag], e.items == nil, e.fragments == nil, e.length >= 2 else { return nil }
        switch effectiveVR(e) {
        case .US, .SS, .OW, .OB, .UN:
            return readUInt16(at: e.valueOffset)
        default:
            return nil
        }
    }

    /// The first value of a 32-bit binary element as its raw bit pattern ("UL or SL").
    public func raw32(_ tag: DICOMTag) -> UInt32? {
        guard let e = elements[tag], e.items == nil, e.fragments == nil, e.length >= 4 else { return nil }
        return bytes.withUnsafeBytes { raw in
            let v = raw.loadUnaligned(fromByteOffset: e.valueOffset, as: UInt32.self)
            return isBigEndian ? UInt32(bigEndian: v) : UInt32(littleEndian: v)
        }
    }

    /// Items of a sequence element.
    public func sequence(_ tag: DICOMTag) -> [DICOMDataSet]? { elements[tag]?.items }

    func readUInt16(at offset: Int) -> UInt16 {
        bytes.withUnsafeBytes { raw in
            let v = raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
            return isBigEndian ? UInt16(bigEndian: v) : UInt16(littleEndian: v)
        }
    }

    private func binaryValues(_ e: DICOMElement) -> [Double] {
        let vr = effectiveVR(e)
        let size: Int
        switch vr {
        case .US, .SS, .OW, .AT: size = 2
        case .UL, .SL, .FL: size = 4
        case .FD, .SV, .UV: size = 8
        case .OB: size = 1
        default: return []
        }
        let count = e.length / size
        guard count > 0 else { return [] }
        let big = isBigEndian
        return bytes.withUnsafeBytes { raw in
            (0..<count).map { i -> Double in
                let o = e.valueOffset + i * size
                switch vr {
                case .OB: return Double(raw[o])
                case .US, .OW, .AT:
                    let v = raw.loadUnaligned(fromByteOffset: o, as: UInt16.self)
                    return Double(big ? UInt16(bigEndian: v) : UInt16(littleEndian: v))
                case .SS:
                    let v = raw.loadUnaligned(fromByteOffset: o, as: UInt16.self)
                    return Double(Int16(bitPattern: big ? UInt16(bigEndian: v) : UInt16(littleEndian: v)))
                case .UL:
                    let v = raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)
                    return Double(big ? UInt32(bigEndian: v) : UInt32(littleEndian: v))
                case .SL:
                    let v = raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)
                    return Double(Int32(bitPattern: big ? UInt32(bigEndian: v) : UInt32(littleEndian: v)))
                case .FL:
                    let v = raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)
                    return Double(Float(bitPattern: big ? UInt32(bigEndian: v) : UInt32(littleEndian: v)))
                case .FD:
                    let v = raw.loadUnaligned(fromByteOffset: o, as: UInt64.self)
                    return Double(bitPattern: big ? UInt64(bigEndian: v) : UInt64(littleEndian: v))
                case .SV:
                    let v = raw.loadUnaligned(fromByteOffset: o, as: UInt64.self)
                    return Double(Int64(bitPattern: big ? UInt64(bigEndian: v) : UInt64(littleEndian: v)))
                default:
                    let v = raw.loadUnaligned(fromByteOffset: o, as: UInt64.self)
                    return Double(big ? UInt64(bigEndian: v) : UInt64(littleEndian: v))
                }
            }
        }
    }
}
