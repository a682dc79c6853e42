import Foundation

/// Parses a DICOM data set from bytes. Every length is checked against the bytes that
/// remain before it is used, so hostile input gives a `DICOMError`, never an
/// out-of-bounds read. Values are not copied: elements record offsets into the bytes.
struct DICOMParser {
    /// Deepest sequence nesting accepted. Real headers nest 3-4 levels (enhanced
    /// multi-frame functional groups); this bounds recursion on hostile input.
    static let maxSequenceDepth = 16
    static let undefinedLength: UInt32 = 0xFFFF_FFFF

    let raw: UnsafeRawBufferPointer
    let bytes: Data
    var isBigEndian: Bool
    var isExplicitVR: Bool
    /// Stop at (7FE0,0010) without touching its value (header-only reads).
    var stopAtPixelData: Bool
    /// Offset of the Pixel Data element header when parsing stopped there.
    private(set) var pixelDataHeaderOffset: Int?

    init(raw: UnsafeRawBufferPointer, bytes: Data, isBigEndian: Bool, isExplicitVR: Bool, stopAtPixelData: Bool) {
        self.raw = raw
        self.bytes = bytes
        self.isBigEndian = isBigEndian
        self.isExplicitVR = isExplicitVR
        self.stopAtPixelData = stopAtPixelData
    }

    @inline(__always) func u16(_ at: Int) -> UInt16 {
        let v = raw.loadUnaligned(fromByteOffset: at, as: UInt16.self)
        return isBigEndian ? UInt16(bigEndian: v) : UInt16(littleEndian: v)
    }

    @inline(__always) func u32(_ at: Int) -> UInt32 {
        let v = raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)
        return isBigEndian ? UInt32(bigEndian: v) : UInt32(littleEndian: v)
    }

    @inline(__always) func tag(at p: Int) -> DICOMTag { DICOMTag(u16(p), u16(p + 2)) }

    /// Parses elements from `start` up to `end`, or (when `untilItemDelimiter`) up to an
    /// Item Delimitation Item, or while the group equals `onlyGroup`.
    /// Returns the data set and the offset just after what was consumed.
    mutating func parseDataSet(from start: Int, to end: Int, depth: Int, untilItemDelimiter: Bool = false,
                               onlyGroup: UInt16? = nil) throws -> (DICOMDataSet, Int) {
        var set = DICOMDataSet(bytes: bytes, isBigEndian: isBigEndian)
        // A top-level CT header holds ~50-150 elements: one allocation instead of regrowing
        // (and rehashing) the table six times.
        if depth == 0 && onlyGroup == nil { set.elements.reserveCapacity(128) }
        var p = start
        while p < end {
            guard end - p >= 8 else {
                throw DICOMError(.truncated("element header at offset \(p) needs 8 bytes, \(end - p) left"))
            }
            let t = tag(at: p)
            if let g = onlyGroup, t.group != g { return (set, p) }
            if t == .itemDelimitation {
                if untilItemDelimiter { return (set, p + 8) }
                throw DICOMError(.malformed("item delimiter at offset \(p) outside an item"))
            }
            if t == .item || t == .sequenceDelimitation {
                throw DICOMError(.malformed("sequence delimiter \(t) at offset \(p) outside a sequence"))
            }
            if stopAtPixelData && t == .pixelData && depth == 0 {
                pixelDataHeaderOffset = p
                return (set, p)
            }
            let element: DICOMElement
            (element, p) = try parseElement(at: p, tag: t, end: end, depth: depth)
            set.elements[t] = element
        }
        if untilItemDelimiter {
            throw DICOMError(.truncated("item at depth \(depth) has no delimiter before the end of the data"))
        }
        return (set, p)
    }

    /// Parses one element whose tag is at `p`. Returns it and the offset after it.
    mutating func parseElement(at p: Int, tag t: DICOMTag, end: Int, depth: Int) throws -> (DICOMElement, Int) {
        var vr: DICOMValueRepresentation
        var length: UInt32
        var valueStart: Int
        if isExplicitVR {
            let a = raw[p + 4], b = raw[p + 5]
            guard let parsed = DICOMValueRepresentation.fromBytes(a, b) else {
                throw DICOMError(.malformed("element \(t) at offset \(p) has an invalid VR (bytes \(a), \(b))"))
            }
            vr = parsed
            if vr.hasLongLength {
                guard end - p >= 12 else {
                    throw DICOMError(.truncated("element \(t) header at offset \(p) needs 12 bytes, \(end - p) left"))
                }
                length = u32(p + 8)
                valueStart = p + 12
            } else {
                length = UInt32(u16(p + 6))
                valueStart = p + 8
            }
        } else {
            vr = DICOMDictionary.valueRepresentation(of: t)
            length = u32(p + 4)
            valueStart = p + 8
        }

        if length == Self.undefinedLength {
            if t == .pixelData {
                let (fragments, next) = try parseFragments(from: valueStart, end: end)
                return (DICOMElement(tag: t, vr: vr == .OW ? .OB : vr, valueOffset: valueStart, length: 0,
                                     items: nil, fragments: fragments), next)
            }
            guard vr == .SQ || vr == .UN else {
                throw DICOMError(.malformed("element \(t) (\(vr.rawValue)) at offset \(p) has undefined length"))
            }
            // An undefined-length UN is a sequence encoded in Implicit VR Little Endian (PS3.5 6.2.2).
            var nested = self
            if vr == .UN { nested.isExplicitVR = false; nested.isBigEndian = false }
            nested.stopAtPixelData = false
            let (items, next) = try nested.parseSequence(from: valueStart, end: end, undefined: true, depth: depth + 1)
            return (DICOMElement(tag: t, vr: .SQ, valueOffset: valueStart, length: 0, items: items, fragments: nil),
                    next)
        }

        let len = Int(length)
        guard len <= end - valueStart else {
            throw DICOMError(.truncated(
                "element \(t) at offset \(p) declares \(len) bytes but only \(max(0, end - valueStart)) remain"))
        }
        if vr == .SQ {
            var nested = self
            nested.stopAtPixelData = false
            let (items, _) = try nested.parseSequence(from: valueStart, end: valueStart + len, undefined: false,
                                                      depth: depth + 1)
            return (DICOMElement(tag: t, vr: .SQ, valueOffset: valueStart, length: len, items: items,
                                 fragments: nil), valueStart + len)
        }
        return (DICOMElement(tag: t, vr: vr, valueOffset: valueStart, length: len, items: nil, fragments: nil),
                valueStart + len)
    }

    /// Parses sequence items. For undefined length, stops after the Sequence Delimitation Item.
    mutating func parseSequence(from start: Int, end: Int, undefined: Bool, depth: Int) throws -> ([DICOMDataSet], Int) {
        guard depth <= Self.maxSequenceDepth else {
            throw DICOMError(.malformed("sequences nested deeper than \(Self.maxSequenceDepth) levels"))
        }
        var items: [DICOMDataSet] = []
        var p = start
        while true {
            if !undefined && p >= end { return (items, p) }
            guard end - p >= 8 else {
                throw DICOMError(.truncated("sequence item header at offset \(p) needs 8 bytes, \(end - p) left"))
            }
            let t = tag(at: p)
            let length = u32(p + 4)
            if t == .sequenceDelimitation { return (items, p + 8) }
            guard t == .item else {
                throw DICOMError(.malformed("expected an item in a sequence at offset \(p), found \(t)"))
            }
            if length == Self.undefinedLength {
                let (set, next) = try parseDataSet(from: p + 8, to: end, depth: depth, untilItemDelimiter: true)
                items.append(set)
                p = next
            } else {
                let len = Int(length)
                guard len <= end - (p + 8) else {
                    throw DICOMError(.truncated(
                        "sequence item at offset \(p) declares \(len) bytes but only \(end - p - 8) remain"))
                }
                let (set, _) = try parseDataSet(from: p + 8, to: p + 8 + len, depth: depth)
                items.append(set)
                p += 8 + len
            }
        }
    }

    /// Parses the items of encapsulated Pixel Data (PS3.5 A.4) up to the Sequence Delimitation Item.
    func parseFragments(from start: Int, end: Int) throws -> ([Range<Int>], Int) {
        // Encapsulated data is always little endian.
        var p = start
        var fragments: [Range<Int>] = []
        while true {
            guard end - p >= 8 else {
                throw DICOMError(.truncated("encapsulated pixel data item at offset \(p) needs 8 bytes, \(end - p) left"))
            }
            let g = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: p, as: UInt16.self))
            let e = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: p + 2, as: UInt16.self))
            let t = DICOMTag(g, e)
            let length = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: p + 4, as: UInt32.self))
            if t == .sequenceDelimitation { return (fragments, p + 8) }
            guard t == .item else {
                throw DICOMError(.malformed("expected a pixel data item at offset \(p), found \(t)"))
            }
            guard length != Self.undefinedLength, Int(length) <= end - (p + 8) else {
                throw DICOMError(.truncated(
                    "pixel data fragment at offset \(p) declares \(length) bytes but only \(end - p - 8) remain"))
            }
            fragments.append((p + 8) ..< (p + 8 + Int(length)))
            p += 8 + Int(length)
        }
    }
}
