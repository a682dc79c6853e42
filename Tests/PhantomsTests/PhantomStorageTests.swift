import DICOM
import Foundation
import Testing
@testable import Phantoms
import Volumes

/// A minimal, independent Part 10 walker for the tests (little endian, no sequences): enough
/// to read back the tags the phantom writer sets without using the product's reader.
private struct MiniDICOM {
    var transferSyntax = ""
    var elements: [UInt32: [UInt8]] = [:]

    init(_ data: Data) throws {
        let b = [UInt8](data)
        guard b.count > 132, String(decoding: b[128..<132], as: UTF8.self) == "DICM" else {
            throw PhantomError(message: "no DICM preamble")
        }
        var i = 132
        var implicit = false
        func u16(_ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        while i + 8 <= b.count {
            let group = u16(i), element = u16(i + 2)
            let tag = UInt32(group) << 16 | UInt32(element)
            var length: Int, header: Int
            if group != 2 && implicit {
                length = u32(i + 4); header = 8
            } else {
                let vr = String(decoding: b[(i + 4)..<(i + 6)], as: UTF8.self)
                if ["OB", "OW", "OF", "SQ", "UT", "UN"].contains(vr) { length = u32(i + 8); header = 12 }
                else { length = u16(i + 6); header = 8 }
            }
            guard i + header + length <= b.count else { throw PhantomError(message: "element past end") }
            elements[tag] = Array(b[(i + header)..<(i + header + length)])
            if tag == 0x0002_0010 {
                transferSyntax = String(decoding: elements[tag]!, as: UTF8.self).trimmingCharacters(in: .init(charactersIn: "\0 "))
                implicit = transferSyntax == "1.2.840.10008.1.2"
            }
            i += header + length
        }
    }

    func string(_ tag: UInt32) -> String? {
        elements[tag].map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .init(charactersIn: "\0 ")) }
    }
    func uint16(_ tag: UInt32) -> Int? { elements[tag].map { Int($0[0]) | Int($0[1]) << 8 } }
    func decimals(_ tag: UInt32) -> [Double] { (string(tag) ?? "").split(separator: "\\").compactMap { Double($0) } }
}

@Suite struct PhantomStorageTests {
    private func writeCase(signed: Bool, intercept: Double, implicit: Bool, padding: Bool)
        throws -> (PhantomCase, Volume, [MiniDICOM], [String]) {
        var o = PhantomOptions()
        o.size = 32
        o.slices = 6
        o.vesselTerritories = 60
        o.signedPixels = signed
        o.rescaleIntercept = intercept
        o.implicitVR = implicit
        o.paddingOutsideFOV = padding
        let (p, v) = PhantomGenerator(options: o, seed: 2024, context: .serial).render(case: 0)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("phantom-storage-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let urls = try PhantomSeriesWriter.writeDICOM(v, phantom: p, folder: dir)
        let files = try urls.map { try MiniDICOM(Data(contentsOf: $0)) }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "temporary files left behind: \(leftovers)")
        return (p, v, files, urls.map(\.lastPathComponent))
    }

    @Test(arguments: [(true, -1024.0, false, true), (true, 0.0, true, true), (false, -1024.0, true, true), (true, -1024.0, false, false)])
    func storageChoicesAreReflectedInTheFiles(signed: Bool, intercept: Double, implicit: Bool, padding: Bool) throws {
        let (p, v, files, _) = try writeCase(signed: signed, intercept: intercept, implicit: implicit, padding: padding)
        #expect(files.count == 6)
        for (k, f) in files.enumerated() {
            #expect(f.transferSyntax == (implicit ? "1.2.840.10008.1.2" : "1.2.840.10008.1.2.1"))
            #expect(f.string(0x0008_0016) == "1.2.840.10008.5.1.4.1.1.2")
            #expect(f.string(0x0020_000E) == p.identity.seriesInstanceUID)
            #expect(f.uint16(0x0028_0103) == (signed ? 1 : 0))
            #expect(f.decimals(0x0028_1052) == [intercept])
            #expect(f.uint16(0x0028_0010) == 32 && f.uint16(0x0028_0011) == 32)
            #expect((f.elements[0x0028_0120] != nil) == padding)
            // Image Position (Patient) is the volume's affine at slice k.
            let pos = f.decimals(0x0020_0032)
            let want = v.affine.patientPosition(column: 0, row: 0, slice: Double(k))
            #expect(pos.count == 3 && abs(pos[2] - want.z) < 1e-3 && abs(pos[0] - want.x) < 1e-3)
            // Stored pixels decode back to the rendered HU (within rounding) inside the FOV,
            // and to the padding value (or the out-of-FOV fill) outside it.
            let px = try #require(f.elements[0x7FE0_0010])
            #expect(px.count == 32 * 32 * 2)
            for r in 0..<32 {
                for c in 0..<32 {
                    let raw = Int(px[2 * (r * 32 + c)]) | Int(px[2 * (r * 32 + c) + 1]) << 8
                    let stored = signed ? Int(Int16(bitPattern: UInt16(raw))) : raw
                    let outside = PhantomSeriesWriter.outsideFieldOfView(column: c, row: r, columns: 32, rows: 32)
                    if outside {
                        if padding { #expect(stored == p.storage.paddingValue) }
                        else { #expect(Double(stored) + intercept <= -1024) }
                    } else {
                        if padding { #expect(stored != p.storage.paddingValue) }
                        let hu = Double(stored) + intercept
                        let truth = Double(v[c, r, k])
                        #expect(abs(hu - Swift.min(3071, Swift.max(-1024, truth))) <= 1.5)
                    }
                }
            }
        }
    }

    @Test func instanceNumbersFollowTheStoredDirection() throws {
        let (p, _, files, names) = try writeCase(signed: true, intercept: -1024, implicit: false, padding: true)
        let instances = files.map { Int($0.string(0x0020_0013) ?? "") ?? -1 }
        #expect(Set(instances) == Set(1...6))
        // Generation slice 0 is the most inferior; superior-first storage numbers it last.
        #expect((instances[0] == 6) == p.storage.superiorFirst)
        if !p.storage.shuffledNames {
            #expect(names[0] == String(format: "IM-%04d.dcm", instances[0]))
        }
    }

    @Test func decimalStringsFitSixteenCharacters() {
        for x in [0.0, -1024, 0.8203125, -174.80000000000001, 123456.789012345, 1e-7, -0.000123456789] {
            let s = DICOMWriter.decimalString(x)
            #expect(s.count <= 16, "\(s)")
            #expect(abs((Double(s) ?? .nan) - x) <= abs(x) * 1e-6 + 1e-6)
        }
    }
}
