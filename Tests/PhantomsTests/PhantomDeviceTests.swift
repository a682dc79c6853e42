import Foundation
import Testing
@testable import Phantoms
import Volumes

// Cardiac pacemakers (`--metal-fraction`): where the metal lies, what it renders to, and its
// streaks. Checked on the rendered planes and volumes, not on the parameters.

private func options(metal: Double?, size: Int = 128, slices: Int = 40) -> PhantomOptions {
    var o = fastPhantomOptions(size: size, slices: slices)
    o.metalFraction = metal
    return o
}

@Suite struct PhantomDeviceTests {
    @Test func withoutTheOptionTheScansAreThoseOfBeforeAndTruthRecordsDevicesWhenPresent() {
        let before = PhantomGenerator(options: options(metal: nil), seed: 1408).plan(case: 0)
        let zero = PhantomGenerator(options: options(metal: 0), seed: 1408).plan(case: 0)
        #expect(before.cardiacDevice == nil && zero.cardiacDevice == nil)
        let z = before.anatomy.lungHeightMM * 0.9
        #expect(renderPlaneAndLung(before, z: z).hu == renderPlaneAndLung(zero, z: z).hu)
        // Its own stream: with a device, the nodules are those of before, and a plane the
        // metal does not reach is unchanged.
        let with = PhantomGenerator(options: options(metal: 1), seed: 1408).plan(case: 0)
        let device = with.cardiacDevice
        #expect(device != nil)
        #expect(with.nodules.map(\.center) == before.nodules.map(\.center))
        if let device {
            let below = device.zRange.lowerBound - 5
            #expect(renderPlaneAndLung(with, z: below).hu == renderPlaneAndLung(before, z: below).hu)
        }
        var o = options(metal: 0.5, size: 32, slices: 4)
        o.cleanFraction = 0.25
        let g = PhantomGenerator(options: o, seed: 1409)
        var present = 0
        for i in 0..<8 {
            let plan = g.plan(case: i)
            let entry = PhantomTruth.entry(for: plan, folder: "c", format: "dicom")
            #expect((entry.cardiacDevice != nil) == (plan.cardiacDevice != nil))
            if let d = entry.cardiacDevice, let pd = plan.cardiacDevice {
                present += 1
                let c = plan.patientPosition(ofAnatomy: pd.generatorCenter)
                #expect(abs(d.generatorCenterMM[2] - c.z) < 0.06 && d.leads == pd.leads.count)
            }
        }
        #expect(present >= 1 && present <= 7, "\(present) of 8 cases with a device at 0.5")
    }

    @Test func metalLiesOutsideTheLungsAndTheLeadsEndInTheHeart() throws {
        for i in 0..<4 {
            let p = PhantomGenerator(options: options(metal: 1, size: 256), seed: 1410).plan(case: i)
            let device = try #require(p.cardiacDevice)
            let a = p.anatomy
            // Every millimetre of every lead, and the generator, outside both lungs.
            for chain in device.leads {
                for t in chain {
                    let steps = Int(t.lengthMM) + 1
                    for k in 0...steps {
                        let q = t.start + (t.end - t.start) * (Double(k) / Double(steps))
                        #expect(a.lungDistance(q).distanceMM > 0, "case \(i): lead in the lung at \(q)")
                    }
                }
                let tip = try #require(chain.last?.end)
                #expect(a.heartDistance(x: tip.x, y: tip.y, z: tip.z) < 0, "case \(i): lead tip outside the heart")
            }
            // The rendered generator is metal and nothing at metal density is lung.
            let (hu, lung) = renderPlaneAndLung(p, z: device.generatorCenter.z)
            let centre = try #require(nearestPixel(p, device.generatorCenter.x, device.generatorCenter.y))
            #expect(hu[centre] > 2500, "case \(i): generator \(hu[centre]) HU")
            for j in hu.indices where hu[j] > 1500 { #expect(lung[j] < 0.01) }
            // A lead crossing a plane shows there as a small bright dot.
            let segment = device.leads[0][2]
            let zMid = (segment.start.z + segment.end.z) / 2
            let mid = (segment.start + segment.end) / 2
            let dot = try #require(nearestPixel(p, mid.x, mid.y))
            let (leadPlane, _) = renderPlaneAndLung(p, z: zMid)
            let brightest = [-p.columns - 1, -p.columns, -p.columns + 1, -1, 0, 1, p.columns - 1, p.columns, p.columns + 1]
                .map { leadPlane[dot + $0] }.max() ?? 0
            #expect(brightest > 800, "case \(i): lead \(brightest) HU")
        }
    }

    @Test func sternalWiresLoopRoundTheSternumOutsideTheLungsInAboutAThird() throws {
        var withWires = 0
        var rendered = false
        for i in 0..<12 {
            let p = PhantomGenerator(options: options(metal: 1, size: 256), seed: 1412).plan(case: i)
            let device = try #require(p.cardiacDevice)
            guard !device.sternalWireZ.isEmpty else { continue }
            withWires += 1
            #expect((4...7).contains(device.sternalWireZ.count), "case \(i): \(device.sternalWireZ.count) wires")
            let a = p.anatomy
            for z in device.sternalWireZ {
                // Round the loop (the wire's centre line), every 5 degrees: outside both lungs.
                for k in 0..<72 {
                    let t = Double(k) * 2 * Double.pi / 72
                    let q = SIMD3(device.wireLoopSemiAxes.x * cos(t), device.sternumY + device.wireLoopSemiAxes.y * sin(t), z)
                    #expect(a.lungDistance(q).distanceMM > 0, "case \(i): wire in the lung at \(q)")
                }
            }
            if !rendered, let z = device.sternalWireZ.first {
                // On the wire's plane, the loop's lateral points are metal-bright.
                rendered = true
                let (hu, _) = renderPlaneAndLung(p, z: z)
                for sx in [-1.0, 1.0] {
                    let c = Int(((sx * device.wireLoopSemiAxes.x - p.gridOrigin.x) / p.pixelSpacingMM).rounded())
                    let r = Int(((device.sternumY - p.gridOrigin.y) / p.pixelSpacingMM).rounded())
                    let brightest = (-1...1).map { hu[r * p.columns + c + $0] }.max() ?? 0
                    #expect(brightest > 800, "case \(i): wire \(brightest) HU at x \(sx * device.wireLoopSemiAxes.x)")
                }
            }
        }
        print("sternal wires in \(withWires) of 12 pacemaker cases")
        #expect(withWires >= 1 && withWires <= 9, "\(withWires) of 12 pacemaker cases with sternal wires")
        #expect(rendered)
    }

    @Test func streaksRadiateFromTheMetalAlternatelyDarkAndBright() throws {
        // The same case rendered with and without the device: on the generator's slice the
        // difference, away from the metal itself, is streaks: strong 15-40 mm from the
        // generator, changing sign around it (dark and bright rays), weaker far away; on a
        // slice the metal does not reach, nothing changes.
        let o = options(metal: 1, size: 96, slices: 32)
        var plain = o
        plain.metalFraction = nil
        let with = PhantomGenerator(options: o, seed: 1411).plan(case: 0)
        let without = PhantomGenerator(options: plain, seed: 1411).plan(case: 0)
        let device = try #require(with.cardiacDevice)
        let v1 = PhantomRenderer(with).render(context: .init(workers: 2))
        let v0 = PhantomRenderer(without).render(context: .init(workers: 2))
        let n = with.columns * with.rows
        let k = (0..<with.slices).min { abs(with.sliceCentreZ($0) - device.generatorCenter.z)
            < abs(with.sliceCentreZ($1) - device.generatorCenter.z) }!
        var near: [Double] = [], far: [Double] = []
        var ring: [(angle: Double, diff: Double)] = []
        for r in 0..<with.rows {
            for c in 0..<with.columns {
                let x = with.gridOrigin.x + Double(c) * with.pixelSpacingMM
                let y = with.gridOrigin.y + Double(r) * with.pixelSpacingMM
                let q = SIMD3(x, y, with.sliceCentreZ(k))
                guard device.distance(q) > 8 else { continue }
                let diff = Double(v1.voxels[k * n + r * with.columns + c] - v0.voxels[k * n + r * with.columns + c])
                let d = ((q - device.generatorCenter) * (q - device.generatorCenter)).sum().squareRoot()
                if d > 15 && d < 40 { near.append(abs(diff)); ring.append((atan2(y - device.generatorCenter.y, x - device.generatorCenter.x), diff)) }
                if d > 150 { far.append(abs(diff)) }
            }
        }
        let nearMean = near.reduce(0, +) / Double(near.count), farMean = far.reduce(0, +) / Double(max(far.count, 1))
        print(String(format: "metal streaks: mean |change| %.0f HU at 15-40 mm, %.0f HU beyond 150 mm", nearMean, farMean))
        #expect(nearMean > 15, "near \(nearMean) HU")
        #expect(farMean < 0.6 * nearMean, "far \(farMean) HU, near \(nearMean) HU")
        let strongDark = ring.filter { $0.diff < -40 }.count, strongBright = ring.filter { $0.diff > 40 }.count
        #expect(strongDark > 3 && strongBright > 3, "\(strongDark) dark, \(strongBright) bright pixels near the generator")
        // Outside the metal's z range the slices are identical.
        if let quiet = (0..<with.slices).first(where: { with.sliceCentreZ($0) < device.zRange.lowerBound - 3 * with.sliceSpacingMM }) {
            #expect(Array(v1.voxels[(quiet * n)..<((quiet + 1) * n)]) == Array(v0.voxels[(quiet * n)..<((quiet + 1) * n)]))
        }
    }
}
