import Foundation
import Testing
@testable import Phantoms

// Calcified plaque in the aortic wall (`--aortic-calcium-fraction`): opt-in, from its own
// stream, on the aorta's intima outside the lungs, rendered as calcium, in truth.json.

/// Test-sized options with `--aortic-calcium-fraction`.
private func options(calcium: Double?, size: Int = 256) -> PhantomOptions {
    fastPhantomOptions(size: size, slices: 40).with { $0.aorticCalciumFraction = calcium }
}

@Suite struct PhantomAorticCalciumTests {
    @Test func offByDefaultAndDrawnFromTheirOwnStream() throws {
        let before = PhantomGenerator(options: options(calcium: nil, size: 128), seed: 1427).plan(case: 0)
        let zero = PhantomGenerator(options: options(calcium: 0, size: 128), seed: 1427).plan(case: 0)
        #expect(before.aorticPlaques == nil && zero.aorticPlaques == nil)
        #expect(PhantomTruth.entry(for: before, folder: "c", format: "dicom").aorticPlaques == nil)
        let with = PhantomGenerator(options: options(calcium: 1, size: 128), seed: 1427).plan(case: 0)
        let plaques = try #require(with.aorticPlaques)
        #expect(!plaques.isEmpty)
        #expect(with.nodules.map(\.center) == before.nodules.map(\.center))
        // Below the aorta the plane is the plane of before; through a plaque it is not.
        let aortaBottom = AorticCalcium.aortaTubes.map { with.anatomy.mediastinalTubes[$0].segment }
            .flatMap { [$0.start.z, $0.end.z] }.min()!
        #expect(renderPlane(with, z: aortaBottom - 20) == renderPlane(before, z: aortaBottom - 20))
        let z = plaques[0].center.z
        #expect(renderPlane(with, z: z) != renderPlane(before, z: z))
        #expect(throws: PhantomError.self) { try options(calcium: 1.5).validate() }
        // Plaque only in the fraction of cases asked for.
        let g = PhantomGenerator(options: options(calcium: 0.5, size: 32), seed: 1428)
        let calcified = (0..<8).filter { g.plan(case: $0).aorticPlaques != nil }.count
        #expect(calcified >= 1 && calcified <= 7, "\(calcified) of 8 with plaque at 0.5")
    }

    @Test func plaquesLieOnTheAorticWallOutsideTheLungsAndAreCalcium() throws {
        var checked = 0
        for i in 0..<3 {
            let p = PhantomGenerator(options: options(calcium: 1), seed: 1429).plan(case: i)
            let without = PhantomGenerator(options: options(calcium: nil), seed: 1429).plan(case: i)
            let plaques = try #require(p.aorticPlaques)
            let aorta = AorticCalcium.aortaTubes.map { p.anatomy.mediastinalTubes[$0].segment }
            for plaque in plaques {
                // On the intima: 0.92 of the wall's radius from the nearest aortic segment's axis.
                let onWall = aorta.contains { seg in
                    let along = seg.end - seg.start
                    let t = Swift.max(0, Swift.min(1, ((plaque.center - seg.start) * along).sum() / (along * along).sum()))
                    let d = plaque.center - (seg.start + t * along)
                    let wall = seg.startRadiusMM + t * (seg.endRadiusMM - seg.startRadiusMM)
                    return abs((d * d).sum().squareRoot() - AorticCalcium.intimaFraction * wall) < 0.05 * wall
                }
                #expect(onWall, "plaque at \(plaque.center) not on the aortic wall")
                // Balls of 1.2 mm radius and more are bright where the renderer puts them, and
                // no lung is drawn there (a smaller one may fall between 1.5 mm pixels).
                guard plaque.radiusMM >= 1.2 * p.anatomy.scale else { continue }
                let (hu, lung) = renderPlaneAndLung(p, z: plaque.center.z)
                let (huWithout, _) = renderPlaneAndLung(without, z: plaque.center.z)
                guard let k = nearestPixel(p, plaque.center.x, plaque.center.y) else { continue }
                let near = [-1, 0, 1].flatMap { dr in [-1, 0, 1].map { dc in k + dr * p.columns + dc } }
                let brightest = near.map { Double(hu[$0]) }.max()!
                // Above the blood, contrast-enhanced or not, by a good part of the calcium's HU.
                let blood = near.map { Double(huWithout[$0]) }.max()!
                #expect(brightest > 0.45 * plaque.hu && brightest - blood > 0.3 * (plaque.hu - blood),
                        "plaque \(brightest) HU for \(plaque.hu), \(blood) HU without")
                #expect(lung[k] < 0.5)
                checked += 1
            }
            // truth.json: one entry per ball, in LPS.
            let entry = PhantomTruth.entry(for: p, folder: "c", format: "dicom")
            let recorded = try #require(entry.aorticPlaques)
            #expect(recorded.count == plaques.count)
            if let first = recorded.first, let plaque = plaques.first {
                let c = p.patientPosition(ofAnatomy: plaque.center)
                #expect(abs(first.centerMM[2] - c.z) < 0.001 && abs(first.diameterMM - 2 * plaque.radiusMM) < 0.001)
            }
        }
        #expect(checked >= 3)
    }
}

// Calcium in the aortic valve (`--valve-calcium-fraction`): opt-in, from its own stream, in
// the aortic root inside the heart's outline, rendered as calcium, in truth.json.

/// Test-sized options with `--valve-calcium-fraction`.
private func valveOptions(_ fraction: Double?, size: Int = 256) -> PhantomOptions {
    fastPhantomOptions(size: size, slices: 40).with { $0.valveCalciumFraction = fraction }
}

@Suite struct PhantomAorticValveCalciumTests {
    @Test func offByDefaultAndDrawnFromItsOwnStream() throws {
        let before = PhantomGenerator(options: valveOptions(nil, size: 128), seed: 1447).plan(case: 0)
        let zero = PhantomGenerator(options: valveOptions(0, size: 128), seed: 1447).plan(case: 0)
        #expect(before.valveCalcium == nil && zero.valveCalcium == nil)
        #expect(PhantomTruth.entry(for: before, folder: "c", format: "dicom").aorticValveCalcifications == nil)
        let with = PhantomGenerator(options: valveOptions(1, size: 128), seed: 1447).plan(case: 0)
        let balls = try #require(with.valveCalcium)
        #expect(balls.count >= 1 && balls.count <= 9)
        #expect(with.nodules.map(\.center) == before.nodules.map(\.center))
        // Below the valve the plane is the plane of before; through a ball it is not.
        // (Compared first, so a failure does not print two whole planes.)
        let lowest = balls.map { $0.center.z - $0.radiusMM }.min()!
        let sameBelow = renderPlane(with, z: lowest - 10) == renderPlane(before, z: lowest - 10)
        #expect(sameBelow)
        let changedThrough = renderPlane(with, z: balls[0].center.z) != renderPlane(before, z: balls[0].center.z)
        #expect(changedThrough)
        #expect(throws: PhantomError.self) { try valveOptions(1.5).validate() }
        let g = PhantomGenerator(options: valveOptions(0.5, size: 32), seed: 1448)
        let calcified = (0..<8).filter { g.plan(case: $0).valveCalcium != nil }.count
        #expect(calcified >= 1 && calcified <= 7, "\(calcified) of 8 with valve calcium at 0.5")
    }

    @Test func calciumLiesInTheAorticRootInsideTheHeartAndIsRendered() throws {
        var checked = 0
        for i in 0..<4 {
            let p = PhantomGenerator(options: valveOptions(1, size: 512), seed: 1449).plan(case: i)
            let a = p.anatomy
            let balls = try #require(p.valveCalcium)
            let aorta = a.mediastinalTubes[AorticCalcium.aortaTubes.lowerBound].segment
            let along = aorta.end - aorta.start
            let axis = along / (along * along).sum().squareRoot()
            // Where the ascending aorta's axis leaves the heart, found independently (1 mm steps).
            var exit = aorta.start
            while a.heartDistance(x: exit.x, y: exit.y, z: exit.z) < 0 { exit += axis }
            for ball in balls {
                let d = ball.center - aorta.start
                let t = (d * axis).sum()
                let offAxis = d - t * axis
                // Inside the root's lumen, within 0.85 of its radius, and within the 8 mm
                // (+ up to 4 mm downstream, 1 mm of stepping) before the aorta leaves the heart.
                #expect((offAxis * offAxis).sum().squareRoot() <= 0.85 * aorta.startRadiusMM + 1e-9)
                let beforeExit = ((exit - aorta.start) * axis).sum() - t
                #expect(beforeExit >= 8 * a.scale - 4 * a.scale - 1.5 && beforeExit <= 8 * a.scale + 1.5,
                        "\(beforeExit) mm before the aorta leaves the heart")
                // Calcium, in the heart and far from the lungs.
                #expect(ball.hu >= 400 && ball.hu <= 1200 && ball.radiusMM >= a.scale - 1e-9 && ball.radiusMM <= 2.5 * a.scale + 1e-9)
                #expect(a.lungDistance(ball.center).distanceMM > 5)
                // Rendered: calcium-bright at its centre before the point spread (1.5 mm
                // radius and more, so a pixel centre lies well inside).
                guard ball.radiusMM >= 1.5, let k = nearestPixel(p, ball.center.x, ball.center.y) else { continue }
                let hu = renderPlane(p, z: ball.center.z)
                #expect(Double(hu[k]) >= 0.5 * (ball.hu + 40), "\(hu[k]) HU at a ball of \(ball.hu)")
                checked += 1
            }
            let entry = PhantomTruth.entry(for: p, folder: "c", format: "dicom")
            let recorded = try #require(entry.aorticValveCalcifications)
            #expect(recorded.count == balls.count)
            let c = p.patientPosition(ofAnatomy: balls[0].center)
            #expect(abs(recorded[0].centerMM[2] - c.z) < 0.001 && abs(recorded[0].diameterMM - 2 * balls[0].radiusMM) < 0.001)
        }
        #expect(checked >= 2)
    }
}
