import Foundation
import Testing
@testable import Phantoms

// Cardiac pulsation artefact (`--cardiac-motion-fraction`): opt-in, from its own stream; the
// heart border and the lung beside it shown twice, more on the left border than on the right,
// nothing far from the heart, nothing in the slices acquired in diastole; in truth.json.

/// Test-sized options with `--cardiac-motion-fraction`.
private func pulsationOptions(_ fraction: Double?, size: Int = 128) -> PhantomOptions {
    fastPhantomOptions(size: size, slices: 40).with { $0.cardiacMotionFraction = fraction }
}

/// A plane of `p` at height `z` that is 1000 inside the heart ellipsoid and 0 outside
/// (`textured`: a different value in every pixel outside), evaluated at the pixel centres,
/// with the pulsation applied.
private func heartIndicator(_ p: PhantomCase, z: Double, pulsation: CardiacPulsation?, textured: Bool = false) -> [Float] {
    let a = p.anatomy, px = p.pixelSpacingMM
    var image = [Float](repeating: 0, count: p.columns * p.rows)
    for r in 0..<p.rows {
        for c in 0..<p.columns {
            let x = p.gridOrigin.x + Double(c) * px, y = p.gridOrigin.y + Double(r) * px
            if a.heartDistance(x: x, y: y, z: z) < 0 {
                image[r * p.columns + c] = 1000
            } else if textured {
                image[r * p.columns + c] = Float((c * 7 + r * 13) % 97)
            }
        }
    }
    guard let pulsation else { return image }
    var copy: [Float] = []
    image.withUnsafeMutableBufferPointer {
        pulsation.apply(to: $0, copy: &copy, columns: p.columns, rows: p.rows, originX: p.gridOrigin.x,
                        originY: p.gridOrigin.y, pixelMM: px, z: z, anatomy: a)
    }
    return image
}

@Suite struct PhantomCardiacPulsationTests {
    @Test func offByDefaultAndDrawnFromItsOwnStream() throws {
        let before = PhantomGenerator(options: pulsationOptions(nil), seed: 1461).plan(case: 0)
        let zero = PhantomGenerator(options: pulsationOptions(0), seed: 1461).plan(case: 0)
        #expect(before.cardiacPulsation == nil && zero.cardiacPulsation == nil)
        #expect(PhantomTruth.entry(for: before, folder: "c", format: "dicom").cardiacPulsation == nil)
        let with = PhantomGenerator(options: pulsationOptions(1), seed: 1461).plan(case: 0)
        let pulsation = try #require(with.cardiacPulsation)
        #expect(with.nodules.map(\.center) == before.nodules.map(\.center))
        #expect(with.vesselSegments == before.vesselSegments)
        #expect((2...6).contains(pulsation.amplitudeMM) && (0.3...0.5).contains(pulsation.ghostWeight))
        #expect((20...35).contains(pulsation.reachMM) && (30...70).contains(pulsation.beatMM))
        let entry = try #require(PhantomTruth.entry(for: with, folder: "c", format: "dicom").cardiacPulsation)
        #expect(abs(entry.amplitudeMM - pulsation.amplitudeMM) < 0.006 && abs(entry.beatMM - pulsation.beatMM) < 0.06)
        #expect(throws: PhantomError.self) { try pulsationOptions(1.5).validate() }
        let g = PhantomGenerator(options: pulsationOptions(0.5, size: 32), seed: 1462)
        let moving = (0..<8).filter { g.plan(case: $0).cardiacPulsation != nil }.count
        #expect(moving >= 1 && moving <= 7, "\(moving) of 8 with pulsation at 0.5")
    }

    /// On a sharp heart (1000 inside, 0 outside) at full size: in a slice acquired in systole
    /// the heart's ghost lies outside its left border in a band about the displacement wide,
    /// at the ghost's weight, and in a thinner band (a tenth to a half) on the right; pixels
    /// beyond the reach are untouched; half a beat later nothing changes at all.
    @Test func theHeartBorderIsShownTwiceMostOnTheLeftAndOnlyNearTheHeart() throws {
        var checked = 0
        for i in 0..<3 {
            let p = PhantomGenerator(options: pulsationOptions(1, size: 512), seed: 1463).plan(case: i)
            let a = p.anatomy, px = p.pixelSpacingMM
            let pulsation = try #require(p.cardiacPulsation)
            // The height nearest the heart's centre where the displacement is largest.
            let beat = pulsation.beatMM
            let systole = -pulsation.phase / (2 * Double.pi) * beat
            let z = systole + ((a.heartCenter.z - systole) / beat).rounded() * beat
            #expect(abs(pulsation.displacementMM(z: z) - pulsation.amplitudeMM) < 1e-9)
            guard abs(z - a.heartCenter.z) < 0.5 * a.heartSemiAxes.z else { continue }
            let plain = heartIndicator(p, z: z, pulsation: nil)
            let moved = heartIndicator(p, z: z, pulsation: pulsation)
            let row = Int(((a.heartCenter.y - p.gridOrigin.y) / px).rounded())
            let centre = Int(((a.heartCenter.x - p.gridOrigin.x) / px).rounded())
            // Ghost band widths (pixels outside the heart that changed) along the row through
            // the heart's centre, to the patient's left (+x) and right (-x).
            func band(step: Int) -> (width: Int, ghost: [Float]) {
                var c = centre
                while c > 0 && c < p.columns - 1 && plain[row * p.columns + c] > 0 { c += step }
                var width = 0
                var values: [Float] = []
                while c > 0 && c < p.columns - 1 && moved[row * p.columns + c] != plain[row * p.columns + c] {
                    values.append(moved[row * p.columns + c]); width += 1; c += step
                }
                return (width, values)
            }
            let left = band(step: 1), right = band(step: -1)
            let alpha = Float(pulsation.ghostWeight) * 1000
            // Left: about the displacement wide (the side weight and the fade take some off),
            // the inner pixels at the full ghost weight, nothing above it.
            let leftMM = Double(left.width) * px
            #expect(leftMM >= 0.5 * pulsation.amplitudeMM - px && leftMM <= pulsation.amplitudeMM + 2 * px,
                    "left band \(leftMM) mm for \(pulsation.amplitudeMM) mm")
            #expect(left.ghost.first.map { abs($0 - alpha) < 0.05 * alpha } ?? false)
            #expect(left.ghost.allSatisfy { $0 > 0 && $0 <= alpha + 0.5 })
            #expect(right.width < left.width, "right \(right.width) px, left \(left.width) px")
            // Far from the heart: untouched (on a plane whose every pixel differs from its
            // neighbours, so any displacement there would show).
            let texturedPlain = heartIndicator(p, z: z, pulsation: nil, textured: true)
            let texturedMoved = heartIndicator(p, z: z, pulsation: pulsation, textured: true)
            var farChanged = 0, far = 0, nearChanged = 0
            for r in 0..<p.rows {
                for c in 0..<p.columns {
                    let x = p.gridOrigin.x + Double(c) * px, y = p.gridOrigin.y + Double(r) * px
                    let d = a.heartDistance(x: x, y: y, z: z)
                    let changed = texturedMoved[r * p.columns + c] != texturedPlain[r * p.columns + c]
                    if d > pulsation.reachMM + 1 {
                        far += 1
                        if changed { farChanged += 1 }
                    } else if d > 0.5 * pulsation.reachMM && changed {
                        nearChanged += 1
                    }
                }
            }
            #expect(far > 10_000 && farChanged == 0)
            // Half-way to the reach the lung still moves (the fade is gradual).
            #expect(nearChanged > 100)
            // The displacement fades with the distance from the heart: on a plane that rises
            // 1 HU per column (bilinear sampling reproduces it exactly) the change along the
            // row through the heart's centre is w s gx / px, so half-way to the reach it is
            // about (1 - 0.5) / (1 - 0.1) of what it is at a tenth of the reach.
            var ramp = [Float](repeating: 0, count: p.columns * p.rows)
            for k in ramp.indices { ramp[k] = Float(k % p.columns) }
            var rampMoved = ramp
            var scratch: [Float] = []
            rampMoved.withUnsafeMutableBufferPointer {
                pulsation.apply(to: $0, copy: &scratch, columns: p.columns, rows: p.rows, originX: p.gridOrigin.x,
                                originY: p.gridOrigin.y, pixelMM: px, z: z, anatomy: a)
            }
            func changeAt(fractionOfReach f: Double) -> Double? {
                var c = centre
                while c < p.columns - 1 {
                    let x = p.gridOrigin.x + Double(c) * px, y = p.gridOrigin.y + Double(row) * px
                    if a.heartDistance(x: x, y: y, z: z) >= f * pulsation.reachMM {
                        return Double(abs(rampMoved[row * p.columns + c] - ramp[row * p.columns + c]))
                    }
                    c += 1
                }
                return nil
            }
            let near = try #require(changeAt(fractionOfReach: 0.1)), half = try #require(changeAt(fractionOfReach: 0.5))
            #expect(near > 0.5, "\(near) HU of change near the heart")
            #expect(half / near > 0.35 && half / near < 0.8, "change half-way to the reach \(half), near the heart \(near)")
            // Half a beat later, diastole: the plane is the plane of before.
            let diastole = z + beat / 2
            #expect(pulsation.displacementMM(z: diastole) < 1e-9)
            let still = heartIndicator(p, z: diastole, pulsation: pulsation) == heartIndicator(p, z: diastole, pulsation: nil)
            #expect(still)
            checked += 1
        }
        #expect(checked >= 2)
    }

    /// The rendered scan: slices through the heart change, slices far above it do not.
    @Test func theRendererAppliesItOnlyAroundTheHeart() throws {
        let options = pulsationOptions(1, size: 64).with { $0.slices = 60 }
        let with = PhantomGenerator(options: options, seed: 1464).render(case: 0)
        let without = PhantomGenerator(options: options.with { $0.cardiacMotionFraction = nil }, seed: 1464).render(case: 0)
        let p = with.phantom, a = p.anatomy
        let pulsation = try #require(p.cardiacPulsation)
        let plane = p.columns * p.rows
        var changedNearHeart = 0
        for k in 0..<p.slices {
            let z = p.sliceCentreZ(k)
            let same = with.volume.voxels[(k * plane)..<((k + 1) * plane)] == without.volume.voxels[(k * plane)..<((k + 1) * plane)]
            if abs(z - a.heartCenter.z) > a.heartSemiAxes.max() + pulsation.reachMM + pulsation.amplitudeMM {
                #expect(same, "slice \(k) far from the heart changed")
            } else if !same {
                changedNearHeart += 1
            }
        }
        #expect(changedNearHeart >= 3)
    }
}
