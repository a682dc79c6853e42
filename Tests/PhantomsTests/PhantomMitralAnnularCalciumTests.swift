import Foundation
import Testing
@testable import Phantoms

// Mitral annular calcification (`--mitral-calcium-fraction`): opt-in, from its own stream, a
// continuous C-shaped band on the posterior mitral annulus deep in the heart, rendered as
// calcium, in truth.json.

/// Test-sized options with `--mitral-calcium-fraction`.
private func mitralOptions(_ fraction: Double?, size: Int = 256) -> PhantomOptions {
    fastPhantomOptions(size: size, slices: 40).with { $0.mitralCalciumFraction = fraction }
}

@Suite struct PhantomMitralAnnularCalciumTests {
    @Test func offByDefaultAndDrawnFromItsOwnStream() throws {
        let before = PhantomGenerator(options: mitralOptions(nil, size: 128), seed: 1471).plan(case: 0)
        let zero = PhantomGenerator(options: mitralOptions(0, size: 128), seed: 1471).plan(case: 0)
        #expect(before.mitralCalcium == nil && zero.mitralCalcium == nil)
        #expect(PhantomTruth.entry(for: before, folder: "c", format: "dicom").mitralAnnularCalcifications == nil)
        let with = PhantomGenerator(options: mitralOptions(1, size: 128), seed: 1471).plan(case: 0)
        let balls = try #require(with.mitralCalcium)
        #expect(with.nodules.map(\.center) == before.nodules.map(\.center))
        // Below the annulus the plane is the plane of before; through a ball it is not.
        let lowest = balls.map { $0.center.z - $0.radiusMM }.min()!
        let sameBelow = renderPlane(with, z: lowest - 5) == renderPlane(before, z: lowest - 5)
        #expect(sameBelow)
        let changedThrough = renderPlane(with, z: balls[0].center.z) != renderPlane(before, z: balls[0].center.z)
        #expect(changedThrough)
        let entry = try #require(PhantomTruth.entry(for: with, folder: "c", format: "dicom").mitralAnnularCalcifications)
        #expect(entry.count == balls.count)
        #expect(throws: PhantomError.self) { try mitralOptions(1.5).validate() }
        let g = PhantomGenerator(options: mitralOptions(0.5, size: 32), seed: 1472)
        let calcified = (0..<8).filter { g.plan(case: $0).mitralCalcium != nil }.count
        #expect(calcified >= 1 && calcified <= 7, "\(calcified) of 8 with mitral calcium at 0.5")
    }

    /// Checked against the heart recomputed from the anatomy, for both anatomy revisions: every
    /// ball on one circle of 13-17 mm round the left ventricle's inflow at the
    /// atrioventricular plane, in a plane that faces along the heart's long axis 35-45 degrees
    /// below the horizontal (as a real annulus, so an axial slice cuts it along a curve), the
    /// arc turning one way through 60-240 degrees with its middle on the posterior-left, the
    /// chain unbroken, deep in the heart and far from the lungs, calcium-bright where rendered.
    @Test func aContinuousPosteriorBandOnTheAnnulusDeepInTheHeart() throws {
        var checked = 0
        for revision in [3, 4] {
            for i in 0..<3 {
                let options = mitralOptions(1, size: 512).with { $0.anatomyRevision = revision }
                let p = PhantomGenerator(options: options, seed: 1473).plan(case: i)
                let a = p.anatomy
                let balls = try #require(p.mitralCalcium)
                #expect(balls.count >= 3)
                let f = MitralAnnularCalcium.centerInHeartFrame(a)
                #expect(abs(f.x - (a.atrioventricularU + 1.5 * a.scale)) < 1e-9)
                // The centre from the heart's frame, inverted independently of `anatomyPoint`:
                // the point whose `heartFrame` is f, found by Newton steps from the heart's centre.
                var centre = a.heartCenter
                for _ in 0..<20 {
                    let g = a.heartFrame(x: centre.x, y: centre.y, z: centre.z)
                    let e = SIMD3(g.u, g.v, g.w) - f
                    // heartFrame is a rotation: its inverse applied to e is the step.
                    let ex = a.heartFrame(x: a.heartCenter.x + 1, y: a.heartCenter.y, z: a.heartCenter.z)
                    let ey = a.heartFrame(x: a.heartCenter.x, y: a.heartCenter.y + 1, z: a.heartCenter.z)
                    let ez = a.heartFrame(x: a.heartCenter.x, y: a.heartCenter.y, z: a.heartCenter.z + 1)
                    centre -= SIMD3(ex.u * e.x + ex.v * e.y + ex.w * e.z, ey.u * e.x + ey.v * e.y + ey.w * e.z,
                                    ez.u * e.x + ez.v * e.y + ez.w * e.z)
                }
                let offsets = balls.map { $0.center - centre }
                let radii = offsets.map { ($0 * $0).sum().squareRoot() }
                #expect(radii.max()! - radii.min()! < 1e-6 && radii[0] >= 13 * a.scale - 1e-6 && radii[0] <= 17 * a.scale + 1e-6)
                // The plane through the first and middle ball (well apart on the arc).
                let o1 = offsets[0], o2 = offsets[offsets.count / 2]
                var normal = SIMD3(o1.y * o2.z - o1.z * o2.y, o1.z * o2.x - o1.x * o2.z, o1.x * o2.y - o1.y * o2.x)
                normal /= (normal * normal).sum().squareRoot()
                if normal.z > 0 { normal = -normal }
                for o in offsets { #expect(abs((o * normal).sum()) < 1e-6) }
                let elevation = asin(-normal.z) * 180 / Double.pi
                #expect(elevation >= 35 - 1e-6 && elevation <= 45 + 1e-6, "the ring faces \(elevation) degrees below the horizontal")
                let ex = a.heartFrame(x: a.heartCenter.x + 1, y: a.heartCenter.y, z: a.heartCenter.z)
                let ey = a.heartFrame(x: a.heartCenter.x, y: a.heartCenter.y + 1, z: a.heartCenter.z)
                // The heart's long axis (u) seen from above, and the normal seen from above.
                let longAxis = SIMD2(ex.u, ey.u), level = SIMD2(normal.x, normal.y)
                let alignment = (longAxis * level).sum() / ((longAxis * longAxis).sum() * (level * level).sum()).squareRoot()
                #expect(alignment > 0.999, "normal off the long axis: cos \(alignment)")
                // Angles round the ring from the heart's +v projected on its plane.
                let vAxis = SIMD3(ex.v, ey.v, a.heartFrame(x: a.heartCenter.x, y: a.heartCenter.y, z: a.heartCenter.z + 1).v)
                var posterior = vAxis - (vAxis * normal).sum() * normal
                posterior /= (posterior * posterior).sum().squareRoot()
                let third = SIMD3(normal.y * posterior.z - normal.z * posterior.y, normal.z * posterior.x - normal.x * posterior.z,
                                  normal.x * posterior.y - normal.y * posterior.x)
                let angles = offsets.map { atan2(($0 * third).sum(), ($0 * posterior).sum()) }
                for ball in balls {
                    #expect(ball.radiusMM >= 1.2 * a.scale - 1e-9 && ball.radiusMM <= 2.5 * a.scale + 1e-9)
                    #expect(ball.hu >= 400 && ball.hu <= 1200)
                    #expect(a.heartDistance(x: ball.center.x, y: ball.center.y, z: ball.center.z) < -10)
                    #expect(a.lungDistance(ball.center).distanceMM > 15)
                }
                // An arc of 60-240 degrees (the turn from ball to ball, summed; the normal's sign
                // was chosen above, so the turn may run either way) whose middle points within
                // 0.3 rad (+ a ball's step) of the posterior-left.
                var span = 0.0
                var sign = 0.0
                for (x, y) in zip(angles, angles.dropFirst()) {
                    var step = y - x
                    if step > Double.pi { step -= 2 * Double.pi }
                    if step < -Double.pi { step += 2 * Double.pi }
                    if sign == 0 { sign = step > 0 ? 1 : -1 }
                    #expect(step * sign > 0)
                    span += abs(step)
                }
                #expect(span >= 55 * Double.pi / 180 && span <= 240 * Double.pi / 180, "span \(span * 180 / Double.pi) degrees")
                let middle = angles[0] + sign * span / 2
                #expect(cos(middle) >= cos(0.4), "middle of the arc at \(middle * 180 / Double.pi) degrees from +v")
                // Unbroken: neighbours overlap.
                for (x, y) in zip(balls, balls.dropFirst()) {
                    let d = y.center - x.center
                    #expect((d * d).sum().squareRoot() < x.radiusMM + y.radiusMM)
                }
                // Rendered: calcium-bright at a ball's centre before the point spread.
                let ball = balls[balls.count / 2]
                if let k = nearestPixel(p, ball.center.x, ball.center.y) {
                    let hu = renderPlane(p, z: ball.center.z)
                    #expect(Double(hu[k]) > 0.5 * ball.hu, "\(hu[k]) HU at a ball of \(ball.hu) HU")
                    checked += 1
                }
            }
        }
        #expect(checked >= 5)
    }
}
