/// The VRs of the attributes this project reads and of the common ones in CT/MR
/// headers, used to interpret Implicit VR Little Endian data sets (where the file
/// carries no VR). Tags not listed here are read as UN (raw bytes) — or as a
/// sequence when their length is undefined (PS3.5 6.2.2 note). Group length
/// elements (xxxx,0000) are UL.
public enum DICOMDictionary {
    /// The VR of `tag` in implicit VR encodings.
    public static func valueRepresentation(of tag: DICOMTag) -> DICOMValueRepresentation {
        if tag.element == 0x0000 { return .UL }
        if let vr = table[tag.rawValue] { return vr }
        // Repeating groups: overlays (60xx) and curves.
        if tag.group & 0xFF00 == 0x6000 {
            switch tag.element {
            case 0x0010, 0x0011, 0x0100, 0x0102: return .US
            case 0x0050: return .SS
            case 0x3000: return .OW
            case 0x0022: return .LO
            case 0x0040: return .CS
            default: return .UN
            }
        }
        return .UN
    }

    private static let table: [UInt32: DICOMValueRepresentation] = {
        var t: [UInt32: DICOMValueRepresentation] = [:]
        func add(_ g: UInt16, _ e: UInt16, _ vr: DICOMValueRepresentation) { t[UInt32(g) << 16 | UInt32(e)] = vr }
        // File meta (always explicit, listed for completeness).
        add(0x0002, 0x0001, .OB); add(0x0002, 0x0002, .UI); add(0x0002, 0x0003, .UI); add(0x0002, 0x0010, .UI)
        add(0x0002, 0x0012, .UI); add(0x0002, 0x0013, .SH); add(0x0002, 0x0016, .AE)
        // General study/series/image, patient.
        for (e, vr) in [(0x0005, DICOMValueRepresentation.CS), (0x0008, .CS), (0x0012, .DA), (0x0013, .TM),
                        (0x0014, .UI), (0x0016, .UI), (0x0018, .UI), (0x0020, .DA), (0x0021, .DA), (0x0022, .DA),
                        (0x0023, .DA), (0x002A, .DT), (0x0030, .TM), (0x0031, .TM), (0x0032, .TM), (0x0033, .TM),
                        (0x0050, .SH), (0x0060, .CS), (0x0064, .CS), (0x0070, .LO), (0x0080, .LO), (0x0081, .ST),
                        (0x0090, .PN), (0x1010, .SH), (0x1030, .LO), (0x103E, .LO), (0x1040, .LO), (0x1050, .PN),
                        (0x1060, .PN), (0x1070, .PN), (0x1090, .LO), (0x1140, .SQ), (0x1150, .UI), (0x1155, .UI),
                        (0x2111, .ST), (0x2112, .SQ), (0x9205, .CS), (0x9206, .CS), (0x9207, .CS)] {
            add(0x0008, UInt16(e), vr)
        }
        for (e, vr) in [(0x0010, DICOMValueRepresentation.PN), (0x0020, .LO), (0x0021, .LO), (0x0030, .DA),
                        (0x0032, .TM), (0x0040, .CS), (0x1010, .AS), (0x1020, .DS), (0x1030, .DS),
                        (0x21B0, .LT), (0x4000, .LT)] {
            add(0x0010, UInt16(e), vr)
        }
        // Acquisition.
        for (e, vr) in [(0x0010, DICOMValueRepresentation.LO), (0x0015, .CS), (0x0020, .CS), (0x0021, .CS),
                        (0x0022, .CS), (0x0023, .CS), (0x0050, .DS), (0x0060, .DS), (0x0080, .DS), (0x0081, .DS),
                        (0x0083, .DS), (0x0084, .DS), (0x0085, .SH), (0x0086, .IS), (0x0087, .DS), (0x0088, .DS),
                        (0x0090, .DS), (0x0091, .IS), (0x0093, .DS), (0x0094, .DS), (0x0095, .DS),
                        (0x1000, .LO), (0x1020, .LO), (0x1030, .LO), (0x1041, .DS), (0x1100, .DS),
                        (0x1110, .DS), (0x1111, .DS), (0x1120, .DS), (0x1130, .DS), (0x1140, .CS), (0x1150, .IS),
                        (0x1151, .IS), (0x1152, .IS), (0x1160, .SH), (0x1170, .IS), (0x1190, .DS), (0x1210, .SH),
                        (0x1250, .SH), (0x1251, .SH), (0x1310, .US), (0x1312, .CS), (0x1314, .DS), (0x1316, .DS),
                        (0x5100, .CS), (0x9345, .FD)] {
            add(0x0018, UInt16(e), vr)
        }
        // Relationship and geometry.
        for (e, vr) in [(0x000D, DICOMValueRepresentation.UI), (0x000E, .UI), (0x0010, .SH), (0x0011, .IS),
                        (0x0012, .IS), (0x0013, .IS), (0x0020, .CS), (0x0032, .DS), (0x0037, .DS), (0x0052, .UI),
                        (0x0060, .CS), (0x1002, .IS), (0x1040, .LO), (0x1041, .DS), (0x4000, .LT),
                        (0x9056, .SH), (0x9057, .UL), (0x9111, .SQ), (0x9113, .SQ), (0x9116, .SQ), (0x9128, .UL),
                        (0x9153, .FD), (0x9157, .UL)] {
            add(0x0020, UInt16(e), vr)
        }
        // Image pixel, presentation.
        for (e, vr) in [(0x0002, DICOMValueRepresentation.US), (0x0004, .CS), (0x0006, .US), (0x0008, .IS),
                        (0x0009, .AT), (0x0010, .US), (0x0011, .US), (0x0030, .DS), (0x0034, .IS), (0x0100, .US),
                        (0x0101, .US), (0x0102, .US), (0x0103, .US), (0x0106, .US), (0x0107, .US), (0x0120, .US),
                        (0x0121, .US), (0x0300, .CS), (0x0301, .CS), (0x1050, .DS), (0x1051, .DS), (0x1052, .DS),
                        (0x1053, .DS), (0x1054, .LO), (0x1055, .LO), (0x2110, .CS), (0x2112, .DS), (0x2114, .CS),
                        (0x3000, .SQ), (0x3002, .US), (0x3003, .LO), (0x3006, .US), (0x1101, .US), (0x1102, .US),
                        (0x1103, .US), (0x1201, .OW), (0x1202, .OW), (0x1203, .OW), (0x9110, .SQ), (0x9145, .SQ)] {
            add(0x0028, UInt16(e), vr)
        }
        add(0x0032, 0x1060, .LO); add(0x0040, 0x0244, .DA); add(0x0040, 0x0253, .SH); add(0x0040, 0x0254, .LO)
        add(0x0040, 0x0275, .SQ); add(0x0088, 0x0140, .UI)
        add(0x5200, 0x9229, .SQ); add(0x5200, 0x9230, .SQ)
        add(0x7FE0, 0x0010, .OW)
        add(0xFFFE, 0xE000, .UN); add(0xFFFE, 0xE00D, .UN); add(0xFFFE, 0xE0DD, .UN)
        return t
    }()
}
