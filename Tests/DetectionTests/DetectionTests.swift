import Foundation
import Testing
import Volumes
@testable import Detection

/// The best-scoring candidate within 3 mm of a point, and its distance (mm; the synthetic
/// volumes use an axis-aligned affine at origin 0); the nearest one when none is that close.
/// This is what the study assessment keeps when two candidates land on one nodule.
private func nearest(_ candidates: [DetectorCandidate], to p: SIMD3<Double>) -> (DetectorCandidate, Double)? {
    let withDistance = candidates.map { c -> (DetectorCandidate, Double) in
        let d = c.finding.centerMM - p
        return (c, (d * d).sum().squareRoot())
    }
    let close = withDistance.filter { $0.1 < 3 }
    if let best = close.max(by: { $0.0.finding.score < $1.0.finding.score }) { return best }
    return withDistance.min { $0.1 < $1.1 }
}

/// Settings for the small test volumes: the scales a 6-12 mm ball needs and a candidate cap,
/// so the suite stays fast in debug builds.
/// The chest's volume on the default working grid and its lung mask.
private func segmentedLungs(_ chest: SyntheticChest, superiorIsHighZ: Bool?) throws -> (WorkingGrid, LungMask) {
    let config = DetectorConfiguration()
    let grid = WorkingGrid(volume: chest.makeVolume(), spacingMM: config.workingSpacingMM, workers: 2)
    return (grid, try LungSegmentation.segment(grid: grid, configuration: config, superiorIsHighZ: superiorIsHighZ,
                                               workers: 2))
}

private func testConfiguration() -> DetectorConfiguration {
    var c = DetectorConfiguration()
    c.blobScalesMM = [1.3, 1.9, 2.8, 4.1]
    c.maximumCandidates = 40
    return c
}

/// Every candidate (any score) of `chest` with the test configuration (changed by `base`),
/// and with `turnOff` applied to it as well: a rule's effect.
private func candidatesWithAndWithoutRule(_ chest: SyntheticChest,
                                          base: (inout DetectorConfiguration) -> Void = { _ in },
                                          turnOff: (inout DetectorConfiguration) -> Void)
    throws -> (withRule: [DetectorCandidate], withoutRule: [DetectorCandidate]) {
    let volume = chest.makeVolume()
    var on = testConfiguration()
    on.minimumScore = 0
    base(&on)
    var off = on
    turnOff(&off)
    return (try NoduleDetector(configuration: on).detectCandidates(in: volume).0,
            try NoduleDetector(configuration: off).detectCandidates(in: volume).0)
}

@Suite("Lung mask")
struct LungMaskTests {
    @Test("excludes the air outside the body and includes a ball touching the pleura")
    func outsideAirAndJuxtapleuralBall() throws {
        var chest = SyntheticChest()
        // Right lung's lateral wall is at x = 8 mm (y = 40, z = 30); the ball is half in the wall.
        chest.objects = [(.ball(center: SIMD3(9, 40, 30), radiusMM: 4), 40)]
        let volume = chest.makeVolume()
        let config = DetectorConfiguration()
        let grid = WorkingGrid(volume: volume, spacingMM: config.workingSpacingMM, workers: 2)
        let lungs = try LungSegmentation.segment(grid: grid, configuration: config, superiorIsHighZ: true, workers: 2)
        func inMask(_ p: SIMD3<Double>) -> Bool {
            let g = p / config.workingSpacingMM
            return lungs.contains(gridX: Int(g.x.rounded()), y: Int(g.y.rounded()), z: Int(g.z.rounded()))
        }
        // Outside air (corner of the field of view) and body wall are not lung.
        #expect(!inMask(SIMD3(1, 1, 30)))
        #expect(!inMask(SIMD3(48, 76, 30)))       // anterior body wall, soft tissue
        #expect(!inMask(SIMD3(48, 40, 30)))       // mediastinum between the lungs
        // Parenchyma of both lungs is.
        #expect(inMask(SIMD3(26, 40, 30)))
        #expect(inMask(SIMD3(70, 40, 30)))
        // The part of the juxtapleural ball inside the lung's outline, centre included.
        #expect(inMask(SIMD3(9.5, 40, 30)))
        #expect(inMask(SIMD3(11, 40, 30)))
        // Analytic lung volume: two ellipsoids 4/3 pi 18*26*24 mm^3 = 47.0 mL each.
        let analytic = 2 * 4.0 / 3.0 * Double.pi * 18 * 26 * 24 / 1000
        #expect(abs(lungs.volumeML - analytic) / analytic < 0.12, "lung volume \(lungs.volumeML) mL vs \(analytic)")
    }

    @Test("a wide tissue dome ringed by lung is not filled in, a ball inside the lung is")
    func diaphragmDomeIsNotLung() throws {
        // 2.5 mm voxels, 96 x 96 x 24: one wide lung (an elliptic cylinder, 100 x 90 mm) in a
        // body; a dome of tissue rises from below into it (a paraboloid 80 mm across at the
        // bottom slice, its tip 30 mm up), so the lowest slices show a ring of lung around the
        // dome, as at the costophrenic recess. A 10 mm ball sits in the lung above.
        let n = 96, slices = 24, mm = 2.5
        let ball = SIMD3(120.0, 120.0, 45.0)
        var v = [Float](repeating: -1000, count: n * n * slices)
        for z in 0..<slices { for y in 0..<n { for x in 0..<n {
            let p = SIMD3(Double(x), Double(y), Double(z)) * mm
            let body = pow((p.x - 120) / 110, 2) + pow((p.y - 120) / 105, 2) <= 1
            let lung = pow((p.x - 120) / 50, 2) + pow((p.y - 120) / 45, 2) <= 1 && p.z >= 2.5
            let r2 = pow(p.x - 120, 2) + pow(p.y - 120, 2)
            let dome = p.z <= 30 * (1 - r2 / (40 * 40))
            let inBall = ((p - ball) * (p - ball)).sum() <= 25
            v[(z * n + y) * n + x] = !body ? -1000 : (lung && !dome && !inBall) ? -850 : 40
        } } }
        let volume = Volume(columns: n, rows: n, slices: slices, voxels: v,
                            spacing: VoxelSpacing(columnMM: mm, rowMM: mm, sliceMM: mm))
        var config = DetectorConfiguration()
        config.workingSpacingMM = mm
        config.closingRadiusMM = 5
        let grid = WorkingGrid(volume: volume, spacingMM: mm, workers: 2)
        let lungs = try LungSegmentation.segment(grid: grid, configuration: config, superiorIsHighZ: nil, workers: 2)
        func inMask(_ p: SIMD3<Double>) -> Bool {
            let g = p / mm
            return lungs.contains(gridX: Int(g.x.rounded()), y: Int(g.y.rounded()), z: Int(g.z.rounded()))
        }
        #expect(inMask(ball), "the ball enclosed by lung is part of the lung mask")
        #expect(inMask(SIMD3(120, 120, 50)), "parenchyma")
        // The dome's centre at several heights, its tip included (a small hole in its slice).
        for z in [5.0, 15.0, 25.0] {
            #expect(!inMask(SIMD3(120, 120, z)), "dome at z = \(z) mm is not lung")
        }
        // The recess ring beside the dome is lung.
        #expect(inMask(SIMD3(120 + 45, 120, 10)))
    }

    @Test("a main bronchus from the mediastinum and its wall are not lung; an air cyst inside the lung is")
    func mainBronchusOutCystIn() throws {
        // A bronchus (lumen radius 2.5 mm, wall to 4 mm) runs from the mediastinum (x = 40)
        // into the left lung (x 52-88 at y = 40, z = 30); its air is not connected to the
        // lung's. A cyst (air ball, radius 4 mm, wall to 5.5 mm) lies wholly in the left lung.
        var chest = SyntheticChest()
        let cyst = SIMD3(70.0, 40.0, 14.0)
        chest.objects = [
            (.tube(from: SIMD3(40, 40, 30), to: SIMD3(68, 40, 30), radiusMM: 4), 40),
            (.tube(from: SIMD3(40, 40, 30), to: SIMD3(66.5, 40, 30), radiusMM: 2.5), -1000),
            (.ball(center: cyst, radiusMM: 5.5), 40), (.ball(center: cyst, radiusMM: 4), -1000),
        ]
        let volume = chest.makeVolume()
        func lungMask(airwayWallMM: Double) throws -> (SIMD3<Double>) -> Bool {
            var config = DetectorConfiguration()
            config.airwayWallMM = airwayWallMM
            let grid = WorkingGrid(volume: volume, spacingMM: config.workingSpacingMM, workers: 2)
            let lungs = try LungSegmentation.segment(grid: grid, configuration: config, superiorIsHighZ: true,
                                                     workers: 2)
            return { p in
                let g = p / config.workingSpacingMM
                return lungs.contains(gridX: Int(g.x.rounded()), y: Int(g.y.rounded()), z: Int(g.z.rounded()))
            }
        }
        let inMask = try lungMask(airwayWallMM: 3)
        #expect(!inMask(SIMD3(62, 40, 30)), "bronchial lumen inside the lung's outline")
        #expect(!inMask(SIMD3(60, 43.5, 30)), "bronchial wall")
        #expect(!inMask(SIMD3(56, 37, 30)), "bronchial wall")
        #expect(inMask(SIMD3(60, 49, 30)), "parenchyma 6 mm beyond the wall")
        #expect(inMask(SIMD3(76, 40, 30)), "parenchyma beyond the bronchus' end")
        #expect(inMask(cyst), "the cyst's air, enclosed by lung")
        #expect(inMask(cyst + SIMD3(0, 4.8, 0)), "the cyst's wall")
        // Without the wall margin only the lumen goes.
        let lumenOnly = try lungMask(airwayWallMM: 0)
        #expect(!lumenOnly(SIMD3(62, 40, 30)))
        #expect(lumenOnly(SIMD3(60, 43.5, 30)))
    }

    @Test("distance transform matches the analytic distance")
    func distanceTransform() {
        let size = GridSize(nx: 21, ny: 17, nz: 9)
        var feature = [Bool](repeating: false, count: size.count)
        feature[size.index(10, 8, 4)] = true
        feature[size.index(0, 0, 0)] = true
        let d2 = DistanceTransform.squaredDistance(isFeature: feature, size: size, spacing: SIMD3(0.7, 0.8, 2.5), workers: 2)
        for z in 0..<size.nz { for y in 0..<size.ny { for x in 0..<size.nx {
            let a = SIMD3(Double(x - 10) * 0.7, Double(y - 8) * 0.8, Double(z - 4) * 2.5)
            let b = SIMD3(Double(x) * 0.7, Double(y) * 0.8, Double(z) * 2.5)
            let expected = min((a * a).sum(), (b * b).sum())
            #expect(abs(Double(d2[size.index(x, y, z)]) - expected) < 1e-3 * max(1, expected))
        } } }
    }
}

@Suite("Hilar structures")
struct HilarStructuresTests {
    func chestWithHilum() -> SyntheticChest { .withHilum() }

    @Test("marks a thick trunk from the mediastinum, not a ball on a thin vessel nor an isolated ball")
    func trunkMarkedBallsNot() throws {
        let config = DetectorConfiguration()
        var (grid, lungs) = try segmentedLungs(chestWithHilum(), superiorIsHighZ: true)
        lungs.hilar = HilarStructures.structures(lungs: lungs, mediastinum: HilarStructures.mediastinum(lungs: lungs),
                                                 grid: grid, airThresholdHU: Float(config.airThresholdHU),
                                                 radiusMM: config.hilarOpeningRadiusMM, withThickness: false, workers: 2).hilar
        func marked(_ p: SIMD3<Double>, within r: Double = 0) -> Bool {
            lungs.isNearHilarStructure(gridPosition: p / config.workingSpacingMM, radiusMM: r,
                                       spacingMM: config.workingSpacingMM)
        }
        // The trunk is inside the lung mask (lung surrounds it) and marked along its length.
        for x in stride(from: 28.0, through: 40.0, by: 4) {
            #expect(lungs.contains(gridX: Int((x / 1.25).rounded()), y: 32, z: 24))
            #expect(marked(SIMD3(x, 40, 30)), "trunk at x = \(x) mm")
        }
        // Balls and the thin vessel are not, nor is parenchyma 8 mm from the trunk.
        #expect(!marked(SIMD3(68, 40, 16), within: config.hilarMarginMM))
        #expect(!marked(SIMD3(24, 40, 44), within: config.hilarMarginMM))
        #expect(!marked(SIMD3(60, 40, 16)))
        #expect(!marked(SIMD3(32, 40, 38)))
        // The margin reaches a centre on the trunk's wall.
        #expect(marked(SIMD3(34, 40, 36), within: config.hilarMarginMM))
        // Off: nothing marked.
        #expect(HilarStructures.structures(lungs: lungs, mediastinum: HilarStructures.mediastinum(lungs: lungs), grid: grid,
                                           airThresholdHU: -400, radiusMM: 0, workers: 2).hilar.isEmpty)
    }

    @Test("the detector reports the balls and no finding on the trunk")
    func detectorDropsTrunkFindings() throws {
        let (withRule, withoutRule) = try candidatesWithAndWithoutRule(chestWithHilum()) { $0.hilarOpeningRadiusMM = 0 }
        let trunk = (from: SIMD3<Double>(48, 40, 30), to: SIMD3<Double>(24, 40, 30))
        func onTrunk(_ c: DetectorCandidate) -> Bool {
            let p = c.finding.centerMM, ab = trunk.to - trunk.from
            let t = max(0, min(1, ((p - trunk.from) * ab).sum() / (ab * ab).sum()))
            let d = p - (trunk.from + t * ab)
            return (d * d).sum().squareRoot() <= 5 + 2
        }
        // Without the rule the trunk gives candidates (so the test can fail), with it none.
        #expect(withoutRule.contains(where: onTrunk))
        #expect(!withRule.contains(where: onTrunk))
        for ball in [SIMD3<Double>(68, 40, 16), SIMD3(24, 40, 44)] {
            let near = nearest(withRule, to: ball)
            #expect(near != nil && near!.1 < 2.5, "ball at \(ball): nearest \(near.map { $0.1 } ?? -1) mm")
        }
    }
}

@Suite("Nodules on the mediastinal pleura")
struct MediastinalBumpTests {
    /// A mask of 61^3 voxels at 1 mm, all lung, with `hilar` marking what `marked` says.
    func mask(_ marked: (SIMD3<Double>) -> Bool) -> LungMask {
        let size = GridSize(nx: 61, ny: 61, nz: 61)
        var lungs = LungMask(size: size, origin: SIMD3(0, 0, 0), inside: [Bool](repeating: true, count: size.count),
                             distanceToPleuraMM: [Float](repeating: 0, count: size.count), volumeML: 0, airwayVoxels: 0)
        lungs.hilar = (0..<size.count).map { i in
            let p = size.position(of: i)
            return marked(SIMD3(Double(p.x), Double(p.y), Double(p.z)))
        }
        return lungs
    }

    @Test("the hilar fraction on a sphere: a rod through it as the areas say, a ball inside it none")
    func hilarFractionOnSphere() {
        let centre = SIMD3<Double>(30, 30, 30)
        // A rod of radius 3 mm along x through the centre crosses a sphere of radius 15 mm in
        // two discs: 2 pi 3^2 / (4 pi 15^2) = 0.02 of its area.
        let rod = mask { p in (p.y - 30) * (p.y - 30) + (p.z - 30) * (p.z - 30) <= 9 }
        let fraction = rod.hilarFractionOnSphere(gridPosition: centre, radiusMM: 15, spacingMM: 1)
        #expect(abs(fraction - 0.02) < 0.006, "rod: \(fraction)")
        // Twice the radius, four times the area.
        let thick = mask { p in (p.y - 30) * (p.y - 30) + (p.z - 30) * (p.z - 30) <= 36 }
        let thickFraction = thick.hilarFractionOnSphere(gridPosition: centre, radiusMM: 15, spacingMM: 1)
        #expect(abs(thickFraction / fraction - 4) < 0.8, "rod 6 mm: \(thickFraction)")
        // A ball of 10 mm inside the sphere: nothing on it.
        let ball = mask { p in ((p - centre) * (p - centre)).sum() <= 100 }
        #expect(ball.hilarFractionOnSphere(gridPosition: centre, radiusMM: 15, spacingMM: 1) == 0)
        #expect(ball.hilarFractionOnSphere(gridPosition: centre, radiusMM: 9, spacingMM: 1) > 0.9)
    }

    @Test("hilar voxels at the mediastinum's edge are the bump's base and do not count; a trunk leaving it still does")
    func hilarFractionAwayFromTheMediastinum() {
        // The mediastinum from x = 45 mm; the lung mask's edge runs one voxel into its tissue
        // (x = 44, marked hilar as the opening would), a 16 mm ball sits on it at x = 38 and
        // a trunk of radius 2 mm leaves the mediastinum along -x at y = 44 mm.
        let ballCentre = SIMD3<Double>(37, 30, 30)
        let base = mask { p in p.x == 44 }
        let trunk = mask { p in
            p.x == 44 || (p.x <= 44 && (p.y - 44) * (p.y - 44) + (p.z - 30) * (p.z - 30) <= 4)
        }
        var withBase = base, withTrunk = trunk
        let mediastinum = (0..<base.size.count).map { base.size.position(of: $0).x >= 45 }
        withBase.mediastinum = mediastinum
        withTrunk.mediastinum = mediastinum
        // The sphere 3 mm beyond the ball (radius 11 mm) reaches x = 48: it crosses the base.
        #expect(withBase.hilarFractionOnSphere(gridPosition: ballCentre, radiusMM: 11, spacingMM: 1) > 0)
        #expect(withBase.hilarFractionOnSphere(gridPosition: ballCentre, radiusMM: 11, spacingMM: 1,
                                               awayFromMediastinumMM: 2) == 0)
        // The trunk crosses the sphere 14 mm from the ball's centre in y, far from the
        // mediastinum where it leaves the sphere laterally: still counted.
        #expect(withTrunk.hilarFractionOnSphere(gridPosition: ballCentre, radiusMM: 15, spacingMM: 1,
                                                awayFromMediastinumMM: 2) > 0)
    }

    @Test("a ball on a neck: a ball joined to the mediastinum by a thinner vessel is one, a trunk is not")
    func ballOnHilarNeck() {
        // The mediastinum from x = 45 mm. A 16 mm ball at (25, 20, 30) on a vessel of radius
        // 4.5 mm that runs to the mediastinum along +x; trunks of radius 6 mm along -x, one
        // from the mediastinum, one behind a 4.5 mm junction. Thickness: the distance to the
        // shapes' surface.
        let ball = SIMD3<Double>(25, 20, 30), trunkY = 45.0
        func thickness(_ p: SIMD3<Double>) -> Double {
            let b = 8 - ((p - ball) * (p - ball)).sum().squareRoot()
            let neck = p.x >= 25 && p.x <= 44 ? 4.5 - ((p.y - 20) * (p.y - 20) + (p.z - 30) * (p.z - 30)).squareRoot() : -1
            let trunk = p.x >= 10 && p.x <= 44 ? 6 - ((p.y - trunkY) * (p.y - trunkY) + (p.z - 30) * (p.z - 30)).squareRoot() : -1
            // A second trunk of radius 6 mm at z = 50 mm, joined to the mediastinum by 4.5 mm.
            let r2 = ((p.y - 20) * (p.y - 20) + (p.z - 50) * (p.z - 50)).squareRoot()
            let narrowTrunk = p.x >= 12 && p.x <= 44 ? (p.x <= 36 ? 6 : 4.5) - r2 : -1
            return max(b, neck, trunk, narrowTrunk)
        }
        var lungs = mask { thickness($0) >= 0 && $0.x <= 44 }
        lungs.mediastinum = (0..<lungs.size.count).map { lungs.size.position(of: $0).x >= 45 }
        lungs.hilarThickness = (0..<lungs.size.count).map { i in
            let q = lungs.size.position(of: i)
            let t = thickness(SIMD3(Double(q.x), Double(q.y), Double(q.z)))
            return lungs.hilar[i] ? UInt8(max(0, t) / Double(HilarStructures.thicknessStepMM)) : 0
        }
        // Its core (thicker than 0.8 x 8 mm) is cut off from the mediastinum by the 4.5 mm neck.
        #expect(lungs.isBallOnHilarNeck(gridPosition: ball, ratio: 0.8, spacingMM: 1))
        // At half its thickness (4 mm) the neck carries the path to the mediastinum.
        #expect(!lungs.isBallOnHilarNeck(gridPosition: ball, ratio: 0.5, spacingMM: 1))
        // The trunk's core runs along it, on and in; nor is its blind end a ball.
        for x in [14.0, 25, 38] {
            #expect(!lungs.isBallOnHilarNeck(gridPosition: SIMD3(x, trunkY, 30), ratio: 0.8, spacingMM: 1), "trunk at \(x)")
        }
        // Nor is a trunk beyond a narrow junction: its core runs on along it, beyond its radius.
        #expect(!lungs.isBallOnHilarNeck(gridPosition: SIMD3(24, 20, 50), ratio: 0.8, spacingMM: 1))
        // Parenchyma: not on a hilar structure.
        #expect(!lungs.isBallOnHilarNeck(gridPosition: SIMD3(25, 33, 30), ratio: 0.8, spacingMM: 1))
    }

    @Test("a large nodule on a thick vessel from the mediastinum is kept with the neck rule, a trunk gains no finding")
    func keepsNoduleOnAThickHilarVessel() throws {
        // The right lung's medial edge at x = 44 mm; a vessel of radius 4.5 mm (thick enough to
        // survive the hilar opening) from the mediastinum to a 15 mm ball at x = 28 mm, and
        // a trunk of radius 5 mm from the mediastinum to x = 24 mm higher up.
        let ball = SIMD3<Double>(28, 40, 16)
        var chest = SyntheticChest()
        chest.objects = [
            (.tube(from: SIMD3(50, 40, 16), to: ball, radiusMM: 4.5), 40),
            (.ball(center: ball, radiusMM: 7.5), 40),
            (.tube(from: SIMD3(50, 40, 40), to: SIMD3(24, 40, 40), radiusMM: 5), 40),
        ]
        let (kept, dropped) = try candidatesWithAndWithoutRule(
            chest, base: { $0.nearMediastinumMinimumScore = 0; $0.hilarNeckRatio = 0.8 },
            turnOff: { $0.hilarNeckRatio = 0 })
        func found(_ candidates: [DetectorCandidate]) -> Bool {
            nearest(candidates, to: ball).map { $0.1 < 3 } ?? false
        }
        #expect(!found(dropped), "the hilar rule drops it without the neck rule (so the test can fail)")
        #expect(found(kept))
        // The trunk's findings (centred within its margin, which this test does not drop) are
        // the same with and without the neck rule: it keeps none on the trunk itself.
        func onTrunk(_ c: DetectorCandidate) -> Bool {
            abs(c.finding.centerMM.z - 40) < 7 && abs(c.finding.centerMM.y - 40) < 7 && c.finding.centerMM.x > 20
        }
        #expect(kept.filter(onTrunk).map(\.finding.centerMM) == dropped.filter(onTrunk).map(\.finding.centerMM))
    }

    /// A 16 mm ball on the right lung's mediastinal pleura (the lung's medial edge at x = 44 mm,
    /// the mediastinum 44-52 mm), 2 mm of it in the mediastinum.
    let bump = SIMD3<Double>(38, 40, 30)

    @Test("a large nodule on the mediastinal pleura is kept; without the rule the hilar structure swallows it")
    func keepsLargeNoduleOnTheMediastinum() throws {
        var chest = SyntheticChest()
        chest.objects = [(.ball(center: bump, radiusMM: 8), 40)]
        let (kept, dropped) = try candidatesWithAndWithoutRule(
            chest, base: { $0.nearMediastinumMinimumScore = 0 }, turnOff: { $0.keepMediastinalBumps = false })
        func found(_ candidates: [DetectorCandidate]) -> Bool {
            nearest(candidates, to: bump).map { $0.1 < 3 } ?? false
        }
        #expect(!found(dropped), "the hilar rule drops it without the exception (so the test can fail)")
        #expect(found(kept))
    }
}

@Suite("Mediastinal margin")
struct MediastinalMarginTests {
    /// 6 mm balls: one touching the right lung's mediastinal pleura (the lung's medial edge
    /// at x = 44 mm, the mediastinum 44-52 mm), one touching its costal pleura (lateral edge
    /// at x = 8 mm), and one isolated in the parenchyma 10 mm from the mediastinum.
    let medial = SIMD3<Double>(41.5, 40, 30), costal = SIMD3<Double>(10.5, 40, 30)
    let isolated = SIMD3<Double>(34, 40, 18)

    func chest() -> SyntheticChest {
        var chest = SyntheticChest()
        chest.objects = [medial, costal, isolated].map { (.ball(center: $0, radiusMM: 3), 40) }
        return chest
    }

    @Test("the mediastinum is the tissue between the lungs, not the chest wall")
    func mediastinumBetweenTheLungs() throws {
        let (grid, lungs) = try segmentedLungs(SyntheticChest(), superiorIsHighZ: true)
        let mediastinum = HilarStructures.mediastinum(lungs: lungs)
        func isMediastinum(_ p: SIMD3<Double>) -> Bool {
            let g = p / grid.spacingMM
            let c = SIMD3(Int(g.x.rounded()), Int(g.y.rounded()), Int(g.z.rounded())) &- lungs.origin
            return mediastinum[lungs.size.index(c.x, c.y, c.z)]
        }
        // Between the lungs (medial edges at x = 44 and 52 mm) at mid height.
        #expect(isMediastinum(SIMD3(48, 40, 30)))
        #expect(isMediastinum(SIMD3(45.5, 40, 30)))
        // Lung, and the chest wall lateral to a lung, are not.
        #expect(!isMediastinum(SIMD3(40, 40, 30)))
        #expect(!isMediastinum(SIMD3(5, 40, 30)))
        // In front of both lungs (y < 14 mm) no lung bounds the row: not mediastinum.
        #expect(!isMediastinum(SIMD3(48, 12, 30)))
    }

    @Test("with absolute margins a finding on the mediastinal pleura is dropped; costal and isolated ones stay")
    func dropsFindingsOnTheMediastinum() throws {
        let (withRule, withoutRule) = try candidatesWithAndWithoutRule(
            chest(), base: { $0.nearMediastinumMinimumScore = 2 }, turnOff: { $0.mediastinalMarginMM = 0 })
        func found(_ candidates: [DetectorCandidate], _ p: SIMD3<Double>) -> Bool {
            nearest(candidates, to: p).map { $0.1 < 2.5 } ?? false
        }
        // Without the rule the medial ball is found (so the test can fail), with it not.
        #expect(found(withoutRule, medial))
        #expect(!found(withRule, medial))
        for ball in [costal, isolated] {
            #expect(found(withRule, ball), "ball at \(ball)")
            #expect(found(withoutRule, ball), "ball at \(ball)")
        }
        // Nothing the rule keeps is centred within the margin of the mediastinum (x >= 44 mm
        // between the lungs' medial edges).
        #expect(!withRule.contains { abs($0.finding.centerMM.x - 48) < 4 + DetectorConfiguration().mediastinalMarginMM })
    }

    @Test("within the margins a finding stays when its score reaches near_mediastinum_minimum_score")
    func confidentFindingsNearTheMediastinumStay() throws {
        let volume = chest().makeVolume()
        func candidates(nearMediastinumMinimumScore threshold: Double) throws -> [DetectorCandidate] {
            var configuration = testConfiguration()
            configuration.minimumScore = 0
            configuration.nearMediastinumMinimumScore = threshold
            // The reported (joined) score alone decides here; the trees' part is the next test's.
            configuration.treesDecideNearMediastinum = false
            return try NoduleDetector(configuration: configuration).detectCandidates(in: volume).0
        }
        let all = try candidates(nearMediastinumMinimumScore: 0)
        let onMedial = try #require(nearest(all, to: medial).flatMap { $0.1 < 2.5 ? $0.0 : nil })
        let score = onMedial.finding.score
        func keeps(_ threshold: Double) throws -> Bool {
            try candidates(nearMediastinumMinimumScore: threshold).contains {
                let d = $0.finding.centerMM - onMedial.finding.centerMM
                return (d * d).sum() < 1e-6
            }
        }
        #expect(try keeps(score))
        #expect(try !keeps(score.nextUp))
        // The costal ball, outside the margins, stays whatever the threshold.
        let strict = try candidates(nearMediastinumMinimumScore: 2)
        #expect(nearest(strict, to: costal).map { $0.1 < 2.5 } ?? false)
    }

    @Test("within the margins the trees must reach the score too: a network lifting everything does not put a finding there")
    func treesDecideWithinTheMargins() throws {
        // Trees (here a constant logistic model) score every candidate 0.12; a network whose
        // offset lifts every candidate it sees to about 1.
        let model = FalsePositiveModel(mode: "3d", mean: Array(repeating: 0, count: FalsePositiveModel.featureNames.count),
                                       scale: Array(repeating: 1, count: FalsePositiveModel.featureNames.count),
                                       weights: Array(repeating: 0, count: FalsePositiveModel.featureNames.count),
                                       bias: -2, training: [:])
        var file = try #require(try JSONSerialization.jsonObject(
            with: PatchNetworkTests.fixture("patch_network_reference_net.json")) as? [String: Any])
        file["combination"] = ["weight": 1.0, "offset": -60.0, "tree_score_floor": 0.001]
        let network = try PatchNetwork.decode(JSONSerialization.data(withJSONObject: file), name: "lifting")
        let volume = chest().makeVolume()
        func candidates(treesDecide: Bool) throws -> [DetectorCandidate] {
            var configuration = testConfiguration()
            configuration.treesDecideNearMediastinum = treesDecide
            return try NoduleDetector(configuration: configuration, model: model, patchNetwork: network)
                .detectCandidates(in: volume).0
        }
        func found(_ all: [DetectorCandidate], _ p: SIMD3<Double>) -> Bool {
            nearest(all, to: p).map { $0.1 < 2.5 && $0.0.finding.score > 0.9 } ?? false
        }
        let lifted = try candidates(treesDecide: false)
        let decided = try candidates(treesDecide: true)
        // Lifted, the medial ball passes the margin's 0.5 (so the test can fail); with the trees
        // deciding it does not, while the costal and isolated balls stay, lifted to about 1.
        #expect(found(lifted, medial))
        #expect(!decided.contains { let d = $0.finding.centerMM - medial; return (d * d).sum() < 2.5 * 2.5 })
        for ball in [costal, isolated] {
            #expect(found(decided, ball), "ball at \(ball)")
        }
    }
}

@Suite("Main bronchus walls")
struct AirwayWallTests {
    /// A main bronchus (3 mm of air in a 5 mm soft-tissue wall) from the mediastinum into the
    /// left lung, a 3 mm artery along its lateral side, and a 10 mm ball 16 mm below it.
    func chestWithBronchus() -> SyntheticChest {
        var chest = SyntheticChest()
        let a = SIMD3<Double>(46, 40, 36), b = SIMD3<Double>(66, 40, 36)
        chest.objects = [
            (.tube(from: a, to: b, radiusMM: 5), 40),
            (.tube(from: a, to: b, radiusMM: 3), -1000),
            (.tube(from: SIMD3(54, 40, 44), to: SIMD3(76, 40, 40), radiusMM: 3), 40),
            (.ball(center: SIMD3(64, 40, 20), radiusMM: 5), 40),
        ]
        return chest
    }

    /// Distance (mm) from `p` to the bronchus's axis segment.
    func distanceToBronchusAxis(_ p: SIMD3<Double>) -> Double {
        let a = SIMD3<Double>(46, 40, 36), ab = SIMD3<Double>(20, 0, 0)
        let t = max(0, min(1, ((p - a) * ab).sum() / (ab * ab).sum()))
        let d = p - (a + t * ab)
        return (d * d).sum().squareRoot()
    }

    @Test("the wall taken out of the lung mask is recorded, the ball's surroundings are not")
    func wallRecorded() throws {
        let config = DetectorConfiguration()
        // No apex-down trachea tracking (superiorIsHighZ nil): in this small chest it takes a
        // lung's apex, and this test is about the bronchus the closing put back.
        let (_, lungs) = try segmentedLungs(chestWithBronchus(), superiorIsHighZ: nil)
        let g = config.workingSpacingMM
        func near(_ p: SIMD3<Double>, within r: Double) -> Bool {
            lungs.isNearAirwayWall(gridPosition: p / g, radiusMM: r, spacingMM: g)
        }
        #expect(!lungs.airwayWall.isEmpty)
        // Every recorded voxel is outside the final mask and within the bronchus's radius plus
        // the configured wall of its axis (air 3 mm + airway_wall_mm + one voxel of rounding).
        var recorded = 0
        for i in lungs.airwayWall.indices where lungs.airwayWall[i] {
            recorded += 1
            #expect(!lungs.inside[i])
            let q = lungs.size.position(of: i) &+ lungs.origin
            let p = SIMD3(Double(q.x), Double(q.y), Double(q.z)) * g
            #expect(distanceToBronchusAxis(p) <= 3 + config.airwayWallMM + g)
        }
        #expect(recorded > 50)
        // Inside the lung, on the bronchus's outer wall: within 2 mm of the recorded region;
        // the ball, 16 mm away, is not.
        #expect(near(SIMD3(62, 40, 41), within: 2))
        #expect(!near(SIMD3(64, 40, 20), within: 5))
        #expect(lungs.containsNearest(gridPosition: SIMD3(64, 40, 20) / g))
        #expect(!lungs.containsNearest(gridPosition: SIMD3(60, 40, 36) / g))
    }

    @Test("with airway_margin_mm no finding is centred on the bronchus's wall; the ball is still found")
    func detectorDropsWallFindings() throws {
        // The bronchus leaves the mediastinum, so the mediastinal margin would drop the wall's
        // candidates near it too: off here, to see this rule alone.
        let (withRule, withoutRule) = try candidatesWithAndWithoutRule(chestWithBronchus(), base: {
            $0.airwayMarginMM = 2
            $0.mediastinalMarginMM = 0
        }, turnOff: { $0.airwayMarginMM = 0 })
        let wallReach = 3 + DetectorConfiguration().airwayWallMM + 1
        func onWall(_ p: SIMD3<Double>?) -> Bool { p.map { distanceToBronchusAxis($0) <= wallReach } ?? false }
        // Without the rule the wall gives candidates (segmented regions centred on it; the
        // rule looks at their centroid), so the test can fail; with it none, and no finding is
        // reported there either.
        #expect(withoutRule.contains { onWall($0.regionCentroidMM) })
        let left = withRule.filter { onWall($0.regionCentroidMM) || onWall($0.finding.centerMM) }.map(\.finding.centerMM)
        #expect(left.isEmpty, "centred on the wall: \(left)")
        let near = nearest(withRule, to: SIMD3(64, 40, 20))
        #expect(near != nil && near!.1 < 2.5, "ball: nearest \(near.map { $0.1 } ?? -1) mm")
    }
}

@Suite("Surrounded by tissue")
struct AeratedShellTests {
    @Test("the aerated fraction of a sphere: half on a flat boundary, all in air, none in tissue")
    func fractionOnSphere() {
        // 1 mm grid, air (-1000 HU) for x < 20, tissue (40 HU) from x = 20 on.
        let size = GridSize(nx: 40, ny: 40, nz: 40)
        var hu = [Float](repeating: 40, count: size.count)
        for i in 0..<size.count where size.position(of: i).x < 20 { hu[i] = -1000 }
        let grid = WorkingGrid(size: size, spacingMM: 1, hu: hu, nativeStep: SIMD3(1, 1, 1))
        // Centred half a voxel left of the boundary (the voxels x <= 19 are air): the sphere
        // of radius 8 is split by the plane x = 19.5, half on each side.
        let half = grid.fractionOnSphere(around: SIMD3(19.5, 20, 20), radiusMM: 8, belowHU: -500)
        #expect(abs(half - 0.5) < 0.03, "half: \(half)")
        // A quarter of the sphere beyond a plane at distance r/2: (1 - 1/2) / 2.
        let cap = grid.fractionOnSphere(around: SIMD3(15.5, 20, 20), radiusMM: 8, belowHU: -500)
        #expect(abs(cap - 0.75) < 0.03, "cap: \(cap)")
        #expect(grid.fractionOnSphere(around: SIMD3(10, 20, 20), radiusMM: 8, belowHU: -500) == 1)
        #expect(grid.fractionOnSphere(around: SIMD3(30, 20, 20), radiusMM: 8, belowHU: -500) == 0)
        // 2D: a circle in the slice, half of it left of the boundary.
        let plane = GridSize(nx: 40, ny: 40, nz: 1)
        let slice = WorkingGrid(size: plane, spacingMM: 1, hu: Array(hu[0..<plane.count]), nativeStep: SIMD3(1, 1, 0))
        let circle = slice.fractionOnSphere(around: SIMD3(19.5, 20, 0), radiusMM: 8, belowHU: -500)
        #expect(abs(circle - 0.5) < 0.05, "circle: \(circle)")
    }

    /// A 24 mm thick capsule of soft tissue inside the right lung, which the lung mask takes in
    /// (a hole enclosed by lung in every slice): at its centre, 12 mm from the lung, a 6.6 mm
    /// finding would be surrounded by tissue, like the node in mediastinal fat beside the
    /// oesophagus that the pleural closing took into the mask in evaluation A4-E1. A ball
    /// touching the left lung's costal pleura and an isolated one stand for the nodules that
    /// must stay, and so does the capsule itself, a mass surrounded by lung.
    let inTissue = SIMD3<Double>(26, 40, 30), costal = SIMD3<Double>(85.5, 40, 22)
    let isolated = SIMD3<Double>(66, 40, 40)

    func chest() -> SyntheticChest {
        var chest = SyntheticChest()
        chest.objects = [(.tube(from: SIMD3(26, 34, 30), to: SIMD3(26, 46, 30), radiusMM: 12), 40),
                         (.ball(center: costal, radiusMM: 3), 40),
                         (.ball(center: isolated, radiusMM: 3), 40)]
        return chest
    }

    @Test("a small finding inside tissue the lung mask took in is surrounded; nodules on and in the lung and the mass are not")
    func surroundedByTissue() throws {
        let (grid, lungs) = try segmentedLungs(chest(), superiorIsHighZ: true)
        let configuration = DetectorConfiguration()
        func surrounded(_ p: SIMD3<Double>, longAxisMM: Double, _ c: DetectorConfiguration = DetectorConfiguration()) -> Bool {
            NoduleDetector.isSurroundedByTissue(grid: grid, gridPosition: p / grid.spacingMM, longAxisMM: longAxisMM,
                                                configuration: c)
        }
        // The capsule's centre is inside the mask (so only this rule can drop it).
        #expect(lungs.containsNearest(gridPosition: inTissue / grid.spacingMM))
        #expect(surrounded(inTissue, longAxisMM: 6.6))
        #expect(!surrounded(costal, longAxisMM: 6.6))
        #expect(!surrounded(isolated, longAxisMM: 6.6))
        // The capsule measured whole (24 x 36 mm): its sphere lies in the lung.
        #expect(!surrounded(inTissue, longAxisMM: 36))
        var off = configuration
        off.minimumAeratedShellFraction = 0
        #expect(!surrounded(inTissue, longAxisMM: 6.6, off))
    }

    @Test("the detector keeps the balls on and in the lung and the mass with the rule on")
    func keepsNodules() throws {
        var configuration = testConfiguration()
        configuration.minimumScore = 0
        #expect(configuration.minimumAeratedShellFraction > 0)
        let candidates = try NoduleDetector(configuration: configuration).detectCandidates(in: chest().makeVolume()).0
        for p in [costal, isolated, inTissue] {
            #expect(nearest(candidates, to: p).map { $0.1 < 3 } ?? false, "finding at \(p)")
        }
    }
}

@Suite("A plate on the pleura")
struct PleuralPlateTests {
    /// A measured 6 mm ball touching the right lung's costal pleura (lateral edge at x = 8 mm).
    func measuredBall() throws -> CandidateMeasurement {
        var chest = SyntheticChest()
        let center = SIMD3<Double>(10.5, 40, 30)
        chest.objects = [(.ball(center: center, radiusMM: 3), 40)]
        let volume = chest.makeVolume()
        let (grid, lungs) = try segmentedLungs(chest, superiorIsHighZ: true)
        let blob = BlobCandidate(gridPosition: grid.gridPosition(ofNative: center / SIMD3(1, 1, 1.25)), response: 100,
                                 sigmaMM: 1.9, roundness: 0.9, tubularity: 0.95, smoothedHU: -300)
        return try #require(NoduleMeasurement.measure(volume: volume, slice: nil, grid: grid, lungs: lungs, candidate: blob,
                                                      configuration: DetectorConfiguration()))
    }

    @Test("solid, within 2 mm of the pleura and short axis below 0.4 of the long one: a plate; otherwise not")
    func plateRule() throws {
        let ball = try measuredBall()
        let configuration = DetectorConfiguration()
        // The ball itself: solid, round, its centre a radius from the pleura (on the 1.25 mm grid).
        #expect(ball.type == .solid)
        #expect(ball.distanceToPleuraMM <= 2.5)
        #expect(!NoduleDetector.isPleuralPlate(ball, configuration: configuration))
        var roundOnPleura = ball
        roundOnPleura.distanceToPleuraMM = 1.25
        #expect(!NoduleDetector.isPleuralPlate(roundOnPleura, configuration: configuration))
        // Flattened like the phantoms' plaques (13.5 x 4.2 mm, centre 1.25 mm from the pleura): a plate.
        var plate = roundOnPleura
        plate.longAxisMM = 13.5
        plate.shortAxisMM = 4.2
        #expect(NoduleDetector.isPleuralPlate(plate, configuration: configuration))
        // At the ratio itself, not flat enough.
        var edge = plate
        edge.shortAxisMM = 0.4 * edge.longAxisMM
        #expect(!NoduleDetector.isPleuralPlate(edge, configuration: configuration))
        // Away from the pleura, or ground glass (a flat ground-glass nodule is kept), or the rule off.
        var away = plate
        away.distanceToPleuraMM = 2.5
        #expect(!NoduleDetector.isPleuralPlate(away, configuration: configuration))
        var groundGlass = plate
        groundGlass.type = .groundGlass
        #expect(!NoduleDetector.isPleuralPlate(groundGlass, configuration: configuration))
        var off = configuration
        off.pleuralPlateAxisRatio = 0
        #expect(!NoduleDetector.isPleuralPlate(plate, configuration: off))
    }

    @Test("the ratio must lie in [0, 1]")
    func ratioValidated() throws {
        var configuration = DetectorConfiguration()
        configuration.pleuralPlateAxisRatio = 1.5
        #expect(throws: DetectionError.self) { try configuration.validate() }
        configuration.pleuralPlateAxisRatio = 0
        try configuration.validate()
    }
}

@Suite("Fat density")
struct FatDensityTests {
    /// A measured ball of `radiusMM` and `hu` in the right lung, 10 mm from its costal pleura
    /// (lateral edge at x = 8 mm), as it comes out of `NoduleMeasurement` (region growing,
    /// blur of the synthetic chest, partial volume at the edge).
    func measuredBall(radiusMM: Double, hu: Double) throws -> CandidateMeasurement {
        var chest = SyntheticChest()
        let center = SIMD3<Double>(8 + 10 + radiusMM, 40, 30)
        chest.objects = [(.ball(center: center, radiusMM: radiusMM), hu)]
        let volume = chest.makeVolume()
        let (grid, lungs) = try segmentedLungs(chest, superiorIsHighZ: true)
        let blob = BlobCandidate(gridPosition: grid.gridPosition(ofNative: center / SIMD3(1, 1, 1.25)), response: 100,
                                 sigmaMM: 0.63 * radiusMM, roundness: 0.9, tubularity: 0.95, smoothedHU: hu - 200)
        return try #require(NoduleMeasurement.measure(volume: volume, slice: nil, grid: grid, lungs: lungs, candidate: blob,
                                                      configuration: DetectorConfiguration()))
    }

    @Test("a 10 mm ball of fat (-100 HU) is fat; soft-tissue balls of 6 and 10 mm (40 HU) and the rule off are not")
    func fatRule() throws {
        var on = DetectorConfiguration()
        on.fatDensityRule = true
        let fat = try measuredBall(radiusMM: 5, hu: -100)
        #expect(fat.maxHU <= DetectorConfiguration.fatMaximumHU, "fat ball's maximum \(fat.maxHU) HU")
        #expect(NoduleDetector.isFatDensity(fat, configuration: on), "mean \(fat.meanHU), max \(fat.maxHU), axes \(fat.longAxisMM) x \(fat.shortAxisMM)")
        #expect(!NoduleDetector.isFatDensity(fat, configuration: DetectorConfiguration()))
        for radius in [3.0, 5.0] {
            let solid = try measuredBall(radiusMM: radius, hu: 40)
            #expect(!NoduleDetector.isFatDensity(solid, configuration: on),
                    "\(2 * radius) mm solid: mean \(solid.meanHU), max \(solid.maxHU)")
        }
        // A ground-glass ball (-550 HU): its mean lies far below fat.
        let groundGlass = try measuredBall(radiusMM: 5, hu: -550)
        #expect(!NoduleDetector.isFatDensity(groundGlass, configuration: on), "ground glass mean \(groundGlass.meanHU)")
        // Below the size: a fat-like 4 mm measurement is kept (partial volume makes small solid
        // nodules read low).
        var small = fat
        small.longAxisMM = 4.5
        small.shortAxisMM = 4
        #expect(!NoduleDetector.isFatDensity(small, configuration: on))
    }

    @Test("the key decodes and is off by default")
    func decoded() throws {
        #expect(!DetectorConfiguration().fatDensityRule)
        let c = try JSONDecoder().decode(DetectorConfiguration.self, from: Data(#"{"fat_density_rule": true}"#.utf8))
        #expect(c.fatDensityRule)
    }
}

@Suite("Candidate selection")
struct CandidateSelectionTests {
    /// A candidate on a 1 mm grid at x = `index` x 10 mm, far from every other.
    private func blob(_ index: Int, response: Double, sigmaMM: Double, roundness: Double,
                      smoothedHU: Double) -> BlobCandidate {
        BlobCandidate(gridPosition: SIMD3(Double(index) * 10, 0, 0), response: response, sigmaMM: sigmaMM,
                      roundness: roundness, tubularity: 1, smoothedHU: smoothedHU)
    }

    /// One place for strong candidates, `faint` for faint ones, no coarse search.
    private func places(faint: Int) -> DetectorConfiguration {
        var configuration = DetectorConfiguration()
        configuration.maximumCandidates = 1
        configuration.maximumFaintCandidates = faint
        configuration.maximumCoarseFaintCandidates = 0
        return configuration
    }

    @Test("an 8 mm ground-glass blob takes a faint place before vessel twigs with a higher dot response")
    func groundGlassBeforeTwigs() {
        // Twigs seen end-on at the smallest scale: scale-normalised response above the
        // ground-glass blob's, smoothed centre as faint (about -700 HU), scale 0.9 mm. The
        // ground-glass blob answers at 2.8 mm. One strong place (the solid blob), three faint.
        let configuration = places(faint: 3)
        let solid = blob(0, response: 600, sigmaMM: 2, roundness: 0.9, smoothedHU: -100)
        let twigs = (1...6).map { blob($0, response: 150, sigmaMM: 0.9, roundness: 0.9, smoothedHU: -700) }
        let groundGlass = blob(7, response: 110, sigmaMM: 2.8, roundness: 0.9, smoothedHU: -720)
        let kept = BlobFilter.select([solid] + twigs + [groundGlass], spacingMM: 1,
                                     configuration: configuration, coarseQuota: 0,
                                     faintSeparation: .mutual)
        #expect(kept.count == 4)
        #expect(kept.first?.gridPosition == solid.gridPosition)
        #expect(kept.contains { $0.gridPosition == groundGlass.gridPosition })
        // The order is by excess HU over the parenchyma x scale x roundness: 180 x 2.8 x 0.9
        // for the ground-glass blob against 200 x 0.9 x 0.9 for a twig.
        #expect(BlobFilter.faintRank(groundGlass) > 2 * BlobFilter.faintRank(twigs[0]))
    }

    @Test("faint candidates closer than the minimum separation to a kept one are dropped")
    func faintSuppressedNearKept() {
        let configuration = places(faint: 5)
        let solid = blob(0, response: 600, sigmaMM: 2, roundness: 0.9, smoothedHU: -100)
        var near = blob(0, response: 100, sigmaMM: 2.8, roundness: 0.9, smoothedHU: -700)
        near.gridPosition.x = 3   // 3 mm away, inside both the 4 mm separation and sqrt(3) x 2 mm
        let far = blob(2, response: 100, sigmaMM: 2.8, roundness: 0.9, smoothedHU: -700)
        let kept = BlobFilter.select([solid, near, far], spacingMM: 1, configuration: configuration, coarseQuota: 0,
                                     faintSeparation: .mutual)
        #expect(kept.map(\.gridPosition.x) == [0, 20])
    }

    @Test("a large faint sphere does not hide a smaller faint blob 11.7 mm away; a strong one still does")
    func faintMutualSeparation() {
        // As on development seed 1305 (case-006): a coarse faint maximum at the 8.7 mm scale
        // (radius 15 mm) ranks first by HU mass; a ground-glass nodule's maximum at 2.8 mm
        // (radius 4.8 mm) lies 11.7 mm away, in the large sphere but not the reverse.
        var configuration = places(faint: 0)
        configuration.maximumCoarseFaintCandidates = 5
        let large = blob(0, response: 9, sigmaMM: 8.7, roundness: 0.76, smoothedHU: -764)
        var nodule = blob(0, response: 17, sigmaMM: 2.8, roundness: 0.39, smoothedHU: -517)
        nodule.gridPosition.x = 11.7
        // Both mutual-rule places: closer than the smaller radius (4.8 mm) is one blob.
        var inside = blob(0, response: 16, sigmaMM: 2.8, roundness: 0.3, smoothedHU: -520)
        inside.gridPosition.x = 11.7 + 4.5
        #expect(BlobFilter.faintRank(large) > BlobFilter.faintRank(nodule))
        #expect(BlobFilter.faintRank(nodule) > BlobFilter.faintRank(inside))
        // The one strong place goes to a solid blob 50 mm away.
        var solid = blob(0, response: 600, sigmaMM: 2, roundness: 0.9, smoothedHU: -100)
        solid.gridPosition.x = 50
        let kept = BlobFilter.select([solid, large, nodule, inside], spacingMM: 1, configuration: configuration,
                                     coarseQuota: 5, faintSeparation: .mutual)
        #expect(kept.map(\.gridPosition.x) == [50, 0, 11.7])
        // 2D's rule (the one its model was trained with): the large sphere hides the nodule.
        let kept2D = BlobFilter.select([solid, large, nodule, inside], spacingMM: 1, configuration: configuration,
                                       coarseQuota: 5, faintSeparation: .withinKept)
        #expect(kept2D.map(\.gridPosition.x) == [50, 0, 16.2])
        // Among the strong candidates (strongest first) the stronger one's radius still rules.
        configuration.maximumCandidates = 5
        var strong = large
        strong.smoothedHU = -100; strong.response = 300
        var weaker = nodule
        weaker.smoothedHU = -100
        let strongKept = BlobFilter.select([strong, weaker], spacingMM: 1, configuration: configuration, coarseQuota: 0,
                                           faintSeparation: .mutual)
        #expect(strongKept.map(\.gridPosition.x) == [0])
    }
}

/// A voxel mask of `size` holding the voxels whose centre, in mm from `origin`, is `inside`.
private func mask(_ size: GridSize, spacing: SIMD3<Double>, origin: SIMD3<Double>,
                  _ inside: (SIMD3<Double>) -> Bool) -> [Bool] {
    var m = [Bool](repeating: false, count: size.count)
    for z in 0..<size.nz { for y in 0..<size.ny { for x in 0..<size.nx {
        m[size.index(x, y, z)] = inside(SIMD3(Double(x), Double(y), Double(z)) * spacing - origin)
    } } }
    return m
}

@Suite("Lung-RADS axes")
struct LungRADSAxesTests {
    @Test("a 10 mm ball with a 1.6 mm vessel stub is measured across the ball, not along the stub")
    func ballWithStub() {
        // 0.7 x 0.7 x 1.25 mm voxels; ball radius 5 mm at the centre; a stub (radius 0.8 mm)
        // leaves it along +x for 6 mm in the ball's central slice plane.
        let size = GridSize(nx: 40, ny: 30, nz: 13)
        let spacing = SIMD3(0.7, 0.7, 1.25)
        let c = SIMD3(12.0, 10.5, 7.5)
        let region = mask(size, spacing: spacing, origin: c) { p in
            let inBall = (p * p).sum() <= 25
            let inStub = p.x >= 0 && p.x <= 11 && p.y * p.y + p.z * p.z <= 0.64
            return inBall || inStub
        }
        let (long, short) = NoduleMeasurement.largestSliceAxes(region, size: size, spacing: spacing, slices: 0...12,
                                                                 stubRadiusMM: 1.5)
        // The ball alone measures 10.6 mm (extreme pixel centres 9.8 mm apart, plus a pixel);
        // the opening keeps the fillet where the stub meets the ball, about 1.3 mm more.
        #expect(long >= 10 && long <= 12.2, "long axis \(long) mm")
        #expect(abs(short - 10) <= 1.0, "short axis \(short) mm")
        // Without the opening the stub is the long axis: 5 + 11 mm end to end.
        let (stubLong, _) = NoduleMeasurement.largestSliceAxes(region, size: size, spacing: spacing, slices: 0...12)
        #expect(stubLong > 14, "long axis with the stub \(stubLong) mm")
    }

    @Test("a 16 mm ball with a vessel 3.2 mm across running through it: the stub disc scales with the nodule")
    func groundGlassSizedVessel() {
        // 0.5 mm pixels, 16 mm ball; a vessel of radius 1.6 mm through it along x, leaving
        // 5 mm on each side (as a vessel's blurred edge does at a ground-glass threshold).
        let size = GridSize(nx: 73, ny: 49, nz: 5)
        let spacing = SIMD3(0.5, 0.5, 0.5)
        let c = SIMD3(18.0, 12.0, 1.0)
        let region = mask(size, spacing: spacing, origin: c) { p in
            (p * p).sum() <= 64 || (abs(p.x) <= 13 && p.y * p.y + p.z * p.z <= 1.6 * 1.6)
        }
        let radius = NoduleMeasurement.stubOpeningRadiusMM(equivalentDiameterMM: 16)
        #expect(radius == 2.5)
        let (long, short) = NoduleMeasurement.largestSliceAxes(region, size: size, spacing: spacing, slices: 0...4,
                                                                 stubRadiusMM: radius)
        // The ball alone (pixel centres plus a pixel) is the reference; the opening keeps a
        // fillet where the vessel meets the ball, as in the test above.
        let ball = mask(size, spacing: spacing, origin: c) { p in (p * p).sum() <= 64 }
        let (ballLong, _) = NoduleMeasurement.largestSliceAxes(ball, size: size, spacing: spacing, slices: 0...4,
                                                                 stubRadiusMM: radius)
        #expect(abs(ballLong - 16) <= 1.0, "ball alone \(ballLong) mm")
        #expect(long - ballLong <= 1.3, "long axis \(long) mm against \(ballLong) mm for the ball alone")
        #expect(abs(short - 16) <= 1.0, "short axis \(short) mm")
        // The 1.5 mm disc used before leaves the 3.2 mm vessel: 26 mm end to end.
        let (before, _) = NoduleMeasurement.largestSliceAxes(region, size: size, spacing: spacing, slices: 0...4,
                                                               stubRadiusMM: 1.5)
        #expect(before > 24, "long axis with a 1.5 mm disc \(before) mm")
        // Small nodules keep a small disc, so their outline is not shaved.
        #expect(NoduleMeasurement.stubOpeningRadiusMM(equivalentDiameterMM: 6) == 1.5)
    }
}

@Suite("Part-solid halo")
struct PartSolidHaloTests {
    @Test("a surrounding ground-glass region covers the whole halo, a vessel about 1.3 % of it")
    func haloCoverage() {
        // 0.25 mm voxels; solid ball r = 3 mm; the halo is the shell 4-5 mm from the centre
        // (volume 4/3 pi (125 - 64) = 255.5 mm^3).
        let size = GridSize(nx: 49, ny: 49, nz: 49)
        let spacing = SIMD3(0.25, 0.25, 0.25)
        let centre = SIMD3(6.0, 6.0, 6.0)
        let solid = mask(size, spacing: spacing, origin: centre) { p in (p * p).sum() <= 9 }
        let wide = mask(size, spacing: spacing, origin: centre) { p in (p * p).sum() <= 36 }
        // A vessel of radius 1 mm leaving along +x: through the halo it is pi x 1 mm^3.
        let vessel = mask(size, spacing: spacing, origin: centre) { p in
            (p * p).sum() <= 9 || (p.x > 0 && p.y * p.y + p.z * p.z <= 1)
        }
        let crop = NoduleMeasurement.Crop(size: size, origin: SIMD3(0, 0, 0), hu: [], smooth: [],
                                          inLung: [Bool](repeating: true, count: size.count), spacing: spacing)
        #expect(NoduleMeasurement.halo(around: solid, covered: wide, in: crop) == 1)
        let v = NoduleMeasurement.halo(around: solid, covered: vessel, in: crop)
        #expect(abs(v - Double.pi / 255.5) < 0.004, "vessel coverage \(v)")
    }
}

@Suite("Ground-glass seed")
struct GroundGlassSeedTests {
    /// 0.5 mm voxels, parenchyma -850 HU, a ground-glass ball of radius 4.5 mm at -600 HU
    /// centred at the crop's middle, and (optionally) a vessel of radius 1.8 mm at 0 HU along z
    /// whose axis passes 2 mm from the ball's centre.
    func crop(vessel: Bool) -> NoduleMeasurement.Crop {
        let size = GridSize(nx: 41, ny: 41, nz: 41)
        let spacing = SIMD3(0.5, 0.5, 0.5)
        let centre = SIMD3(10.0, 10.0, 10.0)
        var hu = [Float](repeating: -850, count: size.count)
        for i in 0..<size.count {
            let p = size.position(of: i)
            let d = SIMD3(Double(p.x), Double(p.y), Double(p.z)) * spacing - centre
            if (d * d).sum() <= 4.5 * 4.5 { hu[i] = -600 }
            let a = SIMD2(d.x - 2, d.y)
            if vessel && (a * a).sum() <= 1.8 * 1.8 { hu[i] = 0 }
        }
        return NoduleMeasurement.Crop(size: size, origin: SIMD3(0, 0, 0), hu: hu, smooth: hu,
                                      inLung: [Bool](repeating: true, count: size.count), spacing: spacing)
    }

    @Test("a vessel filling most of the sphere does not set the ground glass's level")
    func vesselInsideGroundGlass() throws {
        // The candidate sits on the vessel's axis; its 2.4 mm sphere is about 70 % vessel.
        let c = crop(vessel: true)
        let candidate = SIMD3(24.0, 20.0, 20.0)   // (12, 10, 10) mm
        var all: [Float] = []
        NoduleMeasurement.forEachVoxel(in: c, around: SIMD3(24, 20, 20), radiusMM: 2.4) { all.append(c.smooth[$0]) }
        #expect(NoduleMeasurement.median(&all) == 0, "the fixture's sphere is mostly vessel")
        let seed = try #require(NoduleMeasurement.groundGlassSeed(in: c, around: candidate, radiusMM: 2.4, solidHU: -300))
        #expect(seed.core == -600)
        #expect(c.smooth[seed.seed] >= -600)
    }

    @Test("without a vessel the level is the ground glass's, as before")
    func plainGroundGlass() throws {
        let c = crop(vessel: false)
        let seed = try #require(NoduleMeasurement.groundGlassSeed(in: c, around: SIMD3(24.0, 20.0, 20.0), radiusMM: 2.4,
                                                                   solidHU: -300))
        #expect(seed.core == -600)
        // The seed is the candidate's own voxel (it is at the level).
        #expect(seed.seed == c.size.index(24, 20, 20))
    }
}

@Suite("Detection on synthetic chests")
struct SyntheticDetectionTests {
    @Test("a solid ball is found at its centre with its diameter")
    func ballCentreAndDiameter() throws {
        var chest = SyntheticChest()
        chest.noiseHU = 15
        let centre = SIMD3(26.3, 38.6, 30.2)
        chest.objects = [(.ball(center: centre, radiusMM: 4), 40)]
        let detector = NoduleDetector(configuration: testConfiguration())
        let (candidates, _) = try detector.detectCandidates(in: chest.makeVolume())
        let (hit, distance) = try #require(nearest(candidates, to: centre))
        #expect(distance < 0.75, "centre off by \(distance) mm")
        #expect(abs(hit.finding.diameterMM - 8) < 0.8, "diameter \(hit.finding.diameterMM) mm, truth 8")
        #expect(abs(hit.finding.equivalentDiameterMM - 8) < 0.6, "equivalent \(hit.finding.equivalentDiameterMM)")
        let volume = 4.0 / 3.0 * Double.pi * 64
        #expect(abs(hit.finding.volumeMM3 - volume) / volume < 0.2)
        #expect(hit.finding.type == .solid)
        #expect(hit.finding.lungRADS == .category4A)
        #expect(hit.finding.lungSide == "right")
        #expect(abs(hit.finding.meanHU - 40) < 250)
    }

    @Test("complete and central calcification make a nodule Lung-RADS 1; eccentric calcification does not")
    func calcifiedNodulesAreBenign() throws {
        var chest = SyntheticChest()
        chest.noiseHU = 15
        let complete = SIMD3(26.0, 28.0, 20.0), central = SIMD3(26.0, 52.0, 38.0)
        let eccentric = SIMD3(70.0, 30.0, 24.0), plain = SIMD3(70.0, 52.0, 38.0)
        chest.objects = [
            (.ball(center: complete, radiusMM: 3.5), 700),              // a calcified granuloma, 7 mm
            (.ball(center: central, radiusMM: 5), 40),                   // 10 mm, calcium at its centre
            (.ball(center: central, radiusMM: 1.6), 700),
            (.ball(center: eccentric, radiusMM: 5), 40),                 // 10 mm, calcium 3 mm off centre
            (.ball(center: eccentric + SIMD3(0, 0, 3), radiusMM: 1.6), 700),
            (.ball(center: plain, radiusMM: 4), 40),
        ]
        let detector = NoduleDetector(configuration: testConfiguration())
        let (candidates, _) = try detector.detectCandidates(in: chest.makeVolume())
        for (centre, calcified, name) in [(complete, true, "complete"), (central, true, "central"),
                                          (eccentric, false, "eccentric"), (plain, false, "plain")] {
            let (hit, d) = try #require(nearest(candidates, to: centre), "\(name): no finding")
            #expect(d < 1.5, "\(name): centre off by \(d) mm")
            #expect(hit.finding.calcified == calcified, "\(name)")
            #expect((hit.finding.lungRADS == .category1) == calcified, "\(name): \(hit.finding.lungRADS)")
            #expect(hit.finding.type == .solid, "\(name): \(hit.finding.type)")
        }
        // Off: the same balls get their size category.
        var off = testConfiguration()
        off.calcificationHU = 0
        let (plainCandidates, _) = try NoduleDetector(configuration: off).detectCandidates(in: chest.makeVolume())
        let completeOff = try #require(nearest(plainCandidates, to: complete)).0.finding
        #expect(!completeOff.calcified && completeOff.lungRADS == .category3)
    }

    @Test("a vessel-like tube scores lower than a ball")
    func tubeScoresLowerThanBall() throws {
        var chest = SyntheticChest()
        chest.noiseHU = 10
        let ball = SIMD3(26.0, 40.0, 30.0)
        // Oblique tube through the left lung, both ends outside the lung.
        let a = SIMD3(60.0, 20.0, 4.0), b = SIMD3(80.0, 60.0, 56.0)
        chest.objects = [(.ball(center: ball, radiusMM: 3), 40), (.tube(from: a, to: b, radiusMM: 2.5), 40)]
        let detector = NoduleDetector(configuration: testConfiguration())
        let (candidates, _) = try detector.detectCandidates(in: chest.makeVolume())
        let (ballHit, d) = try #require(nearest(candidates, to: ball))
        #expect(d < 1.5)
        // Candidates on the tube's middle part (away from its ends at the lung border).
        let onTube = candidates.filter { c in
            let ab = b - a, ap = c.finding.centerMM - a
            let t = (ap * ab).sum() / (ab * ab).sum()
            let off = ap - t * ab
            return t > 0.25 && t < 0.75 && (off * off).sum().squareRoot() < 4
        }
        let tubeBest = onTube.map(\.finding.score).max() ?? 0
        #expect(ballHit.finding.score > tubeBest, "ball \(ballHit.finding.score) vs tube \(tubeBest)")
        #expect(ballHit.finding.vesselness < (onTube.map(\.finding.vesselness).min() ?? 1))
    }

    @Test("solid, ground-glass and part-solid balls get their type")
    func typeClassification() throws {
        var chest = SyntheticChest()
        chest.noiseHU = 15
        let solid = SIMD3(26.0, 30.0, 22.0), ggo = SIMD3(26.0, 50.0, 38.0), partSolid = SIMD3(70.0, 40.0, 30.0)
        chest.objects = [
            (.ball(center: solid, radiusMM: 3.5), 40),
            (.ball(center: ggo, radiusMM: 5), -620),
            (.ball(center: partSolid, radiusMM: 6), -620),
            (.ball(center: partSolid, radiusMM: 2.5), 40),
        ]
        let detector = NoduleDetector(configuration: testConfiguration())
        let (candidates, _) = try detector.detectCandidates(in: chest.makeVolume())
        let s = try #require(nearest(candidates, to: solid))
        let g = try #require(nearest(candidates, to: ggo))
        let p = try #require(nearest(candidates, to: partSolid))
        #expect(s.1 < 1.5 && g.1 < 1.5 && p.1 < 1.5)
        #expect(s.0.finding.type == .solid)
        #expect(g.0.finding.type == .groundGlass)
        #expect(p.0.finding.type == .partSolid)
        #expect(abs(g.0.finding.diameterMM - 10) < 1.2, "GGO diameter \(g.0.finding.diameterMM)")
        #expect(abs(p.0.finding.diameterMM - 12) < 1.5, "part-solid total diameter \(p.0.finding.diameterMM)")
        #expect(p.0.finding.lungRADS == .category3)   // total >= 6, solid component 5 mm < 6
    }

    @Test("a ground-glass ball with a vessel through it is measured as the ball, not the vessel")
    func groundGlassWithVessel() throws {
        var chest = SyntheticChest()
        chest.noiseHU = 10
        let centre = SIMD3(70.0, 40.0, 30.0)
        // A 14 mm ground-glass ball; a 3 mm vessel runs through its centre, obliquely
        // through the whole lung (painted last, so it stays bright inside the ball).
        let a = SIMD3(70.0, 12.0, 8.0), b = SIMD3(70.0, 68.0, 52.0)
        chest.objects = [(.ball(center: centre, radiusMM: 7), -620), (.tube(from: a, to: b, radiusMM: 1.5), 40)]
        let volume = chest.makeVolume()
        func groundGlassHit(_ configuration: DetectorConfiguration) throws -> DetectorCandidate? {
            let (candidates, _) = try NoduleDetector(configuration: configuration).detectCandidates(in: volume)
            return candidates.first { c in
                let d = c.finding.centerMM - centre
                return (d * d).sum().squareRoot() < 2 && c.finding.type == .groundGlass
                    && abs(c.finding.equivalentDiameterMM - 14) < 2
            }
        }
        let hit = try #require(try groundGlassHit(testConfiguration()))
        #expect(abs(hit.finding.diameterMM - 14) < 2.5, "diameter \(hit.finding.diameterMM) mm, truth 14")
        // Without the coarse faint search the vessel takes the candidate and the measurement.
        var off = testConfiguration()
        off.maximumCoarseFaintCandidates = 0
        #expect(try groundGlassHit(off) == nil)
    }

    @Test("no finding outside the lungs")
    func nothingOutsideLungs() throws {
        var chest = SyntheticChest()
        chest.noiseHU = 15
        // Bright balls in the mediastinum, in the body wall, and one real nodule.
        chest.objects = [
            (.ball(center: SIMD3(48, 40, 30), radiusMM: 4), 200),
            (.ball(center: SIMD3(48, 70, 20), radiusMM: 3), 300),
            (.ball(center: SIMD3(70, 40, 24), radiusMM: 3), 40),
        ]
        let detector = NoduleDetector(configuration: testConfiguration(), model: .prior)
        let assessment = try detector.assess(volume: chest.makeVolume())
        #expect(!assessment.findings.isEmpty)
        for f in assessment.findings {
            // Inside a lung ellipsoid grown by 2 mm (mask closing and partial volume).
            let inside = [chest.rightLungCenter, chest.leftLungCenter].contains { c in
                let q = (f.centerMM - c) / (chest.lungSemiAxes + 2)
                return (q * q).sum() <= 1
            }
            #expect(inside, "finding at \(f.centerMM) is outside the lungs")
        }
    }

    @Test("a single slice runs in 2D and finds a disc")
    func twoDimensionalMode() throws {
        var chest = SyntheticChest()
        chest.slices = 1
        chest.spacing = VoxelSpacing(columnMM: 0.8, rowMM: 0.8, sliceMM: 1)
        chest.columns = 120; chest.rows = 100
        // z = 0 plane; lungs centred at z = 30 in 3D, so move the ball there: use a 2D slice
        // through z = 30 by shifting the lungs.
        let centre = SIMD3(26.0, 40.0, 0.0)
        chest.objects = [(.ball(center: centre, radiusMM: 5), 40)]
        var shifted = chest
        shifted.objects = chest.objects
        let volume = TwoDChest(base: shifted).makeVolume()
        // This test chest's lungs are 15 cm^2 each in the slice, i.e. 15 mL for the 2D
        // lung-size rule's 10 mm slab, below the 30 mL default meant for adults.
        var config = testConfiguration()
        config.minimumLungVolumeML = 10
        let detector = NoduleDetector(configuration: config)
        let (candidates, _) = try detector.detectCandidates(in: volume)
        let (hit, d) = try #require(nearest(candidates, to: centre))
        #expect(d < 1.0)
        #expect(abs(hit.finding.diameterMM - 10) < 1.0, "2D diameter \(hit.finding.diameterMM)")
    }
}

/// The synthetic chest cut at the lungs' equator (z = 30 mm) as a one-slice volume.
private struct TwoDChest {
    var base: SyntheticChest
    func makeVolume() -> Volume {
        var c = base
        c.slices = 1
        var v = [Float](repeating: 0, count: c.columns * c.rows)
        for y in 0..<c.rows {
            for x in 0..<c.columns {
                var acc = 0.0
                for s in 0..<16 {
                    let o = SIMD2(Double(s % 4), Double(s / 4)) / 4 - 0.375
                    let p2 = SIMD2(Double(x), Double(y)) * 0.8 + o * 0.8
                    let p = SIMD3(p2.x, p2.y, 30.0)
                    var h = c.background(p)
                    for (shape, hu) in c.objects {
                        if case let .ball(centre, r) = shape {
                            let d = SIMD2(p.x, p.y) - SIMD2(centre.x, centre.y)
                            if (d * d).sum() <= r * r { h = hu }
                        }
                    }
                    acc += h
                }
                v[y * c.columns + x] = Float(acc / 16)
            }
        }
        return Volume(columns: c.columns, rows: c.rows, slices: 1, voxels: v, spacing: c.spacing)
    }
}

@Suite("Lung-RADS and triage")
struct LungRADSTests {
    @Test("v1.1 baseline table", arguments: [
        (NoduleType.solid, 5.9, 5.9, LungRADSCategory.category2),
        (.solid, 6.0, 6.0, .category3),
        (.solid, 7.94, 7.94, .category3),
        (.solid, 8.0, 8.0, .category4A),
        (.solid, 14.9, 14.9, .category4A),
        (.solid, 15.0, 15.0, .category4B),
        (.partSolid, 5.5, 3, .category2),
        (.partSolid, 9, 5.9, .category3),
        (.partSolid, 12, 6.0, .category4A),
        (.partSolid, 12, 7.9, .category4A),
        (.partSolid, 14, 8.0, .category4B),
        (.groundGlass, 29.9, 0, .category2),
        (.groundGlass, 30.0, 0, .category3),
    ])
    func table(type: NoduleType, diameter: Double, solid: Double, expected: LungRADSCategory) {
        #expect(LungRADS.category(type: type, diameterMM: diameter, solidComponentMM: solid) == expected)
        // A benign calcification pattern is category 1 at any size.
        #expect(LungRADS.category(type: type, diameterMM: diameter, solidComponentMM: solid, calcified: true) == .category1)
    }

    @Test("priority follows the highest actionable category")
    func priority() {
        #expect(LungRADS.priority(for: .category4B) == .urgent)
        #expect(LungRADS.priority(for: .category4A) == .urgent)
        #expect(LungRADS.priority(for: .category3) == .soon)
        #expect(LungRADS.priority(for: .category2) == .routine)
        #expect(LungRADS.priority(for: .category1) == .routine)
    }

    @Test("study assessment ranks findings and ignores low-score ones for priority")
    func assessment() {
        func candidate(_ score: Double, _ cat: LungRADSCategory, x: Double) -> DetectorCandidate {
            DetectorCandidate(features: [], finding: Finding(
                id: "", rank: 0, score: score, centerMM: SIMD3(x, 0, 0), centerVoxel: .zero, diameterMM: 9,
                longAxisMM: 10, shortAxisMM: 8, equivalentDiameterMM: 9, volumeMM3: 380, meanHU: 20, minHU: -500,
                maxHU: 90, type: .solid, lungRADS: cat, lungSide: "right", lungZone: "upper", sphericity: 0.9,
                vesselness: 0.1, distanceToPleuraMM: 8))
        }
        var config = DetectorConfiguration()
        config.actionableScore = 0.5
        let a = NoduleDetector.assessment(from: [candidate(0.3, .category4B, x: 0), candidate(0.8, .category3, x: 50),
                                                 candidate(0.01, .category4A, x: 100)],
                                          configuration: config, timing: [:])
        #expect(a.findings.map(\.score) == [0.8, 0.3])      // 0.01 is below minimum_score
        // 0.03: above the 3D threshold (0.02), below the 2D one (0.05).
        let low = [candidate(0.03, .category2, x: 0)]
        let defaults = DetectorConfiguration()
        #expect(NoduleDetector.assessment(from: low, configuration: defaults, timing: [:]).findings.count == 1)
        #expect(NoduleDetector.assessment(from: low, configuration: defaults, timing: [:], twoD: true).findings.isEmpty)
        #expect(a.findings.map(\.rank) == [1, 2])
        #expect(a.priority == .soon)                          // the 4B finding is not actionable at 0.3
        #expect(a.lungRADS == .category3)
        #expect(abs(a.score - 0.8 * 0.9) < 1e-12)
        // Two findings of Lung-RADS >= 3, but only the one at or above the actionable score counts.
        #expect(a.actionableCount == 1)
    }
}

@Suite("Training labels")
struct TrainingLabelTests {
    private func candidate(body: SIMD3<Double>, region: SIMD3<Double>) -> DetectorCandidate {
        .trainingExample(features: [1, 2], body: body, region: region)
    }

    @Test("a candidate is labelled where its whole region's centroid lies, as the committed models were trained")
    func labelledAtRegionCentroid() {
        // A 6 mm nodule at the origin (hit radius 3 mm). The first candidate's body is on it
        // but its region (nodule plus a vessel) is centred 4 mm away; the second's body is
        // 3.5 mm away but its region is centred 2 mm from the nodule's centre.
        let truth = [TruthNodule(centerMM: .zero, diameterMM: 6)]
        var set = TrainingSet()
        set.add(candidates: [candidate(body: SIMD3(0.5, 0, 0), region: SIMD3(4, 0, 0)),
                             candidate(body: SIMD3(3.5, 0, 0), region: SIMD3(2, 0, 0))], truth: truth)
        #expect(set.labels == [0, 1])
        #expect(set.noduleIndex == [-1, 0])
        #expect(set.centersMM == [SIMD3(4, 0, 0), SIMD3(2, 0, 0)])
        #expect(set.truthWithCandidate == 1 && set.positives == 1)
    }
}

@Suite("Lung opacities")
struct LungOpacityTests {
    /// Left lung: a lumpy dense mass (+30 HU), three overlapping 7-8 mm balls 26 mm end to
    /// end, like a small consolidation. Right lung: two 14 mm nodules (thick enough to be
    /// opacities themselves) 10 mm apart, joined by a 1 mm-radius vessel.
    let massParts = [SIMD3<Double>(70, 31, 30), SIMD3(70, 40, 30), SIMD3(71, 48, 31)]
    let nodules = [SIMD3<Double>(26, 28, 30), SIMD3(26, 52, 30)]

    func lungsAndOpacities() throws -> (LungOpacities, WorkingGrid) {
        var chest = SyntheticChest()
        chest.objects = zip(massParts, [7.0, 8, 7]).map { (.ball(center: $0, radiusMM: $1), 30) }
        chest.objects += nodules.map { (.ball(center: $0, radiusMM: 7), 40) }
        chest.objects.append((.tube(from: nodules[0], to: nodules[1], radiusMM: 1), 40))
        let volume = chest.makeVolume()
        let config = DetectorConfiguration()
        let grid = WorkingGrid(volume: volume, spacingMM: config.workingSpacingMM, workers: 2)
        var lungs = try LungSegmentation.segment(grid: grid, configuration: config, superiorIsHighZ: true, workers: 2)
        lungs.mediastinum = HilarStructures.mediastinum(lungs: lungs)
        let opacities = LungOpacities.find(grid: grid, lungs: lungs, thresholdHU: Float(config.opacityThresholdHU),
                                           radiusMM: config.opacityRadiusMM, workers: 2)
        return (opacities, grid)
    }

    @Test("a thick opacity is one, nodules joined by a thin vessel are not joined")
    func components() throws {
        let (opacities, grid) = try lungsAndOpacities()
        func label(_ p: SIMD3<Double>) -> Int { opacities.label(atGridPosition: p / grid.spacingMM) }
        let mass = massParts.map(label)
        #expect(mass[0] != 0 && mass.allSatisfy { $0 == mass[0] }, "mass labels \(mass)")
        // The mass runs from y = 24 to 55 mm (31 mm; the opening takes a little off its
        // ends, the 2.5 mm blocks add a little).
        if mass[0] != 0 {
            let extent = opacities.extentsMM[mass[0] - 1]
            #expect(extent > 24 && extent < 36, "extent \(extent) mm")
        }
        let joined = nodules.map(label)
        #expect(joined[0] != 0 && joined[1] != 0 && joined[0] != joined[1], "nodule labels \(joined)")
        #expect(!joined.contains(mass[0]))
        // Healthy lung between the mass and the pleura, and the vessel's midpoint: no opacity.
        #expect(label(SIMD3(26, 40, 30)) == 0)
        #expect(label(SIMD3(56, 40, 44)) == 0)
        let off = LungOpacities.find(grid: grid, lungs: try LungSegmentation.segment(
            grid: grid, configuration: DetectorConfiguration(), superiorIsHighZ: true, workers: 2),
            thresholdHU: Float(DetectorConfiguration().opacityThresholdHU), radiusMM: 0, workers: 2)
        #expect(off.count == 0 && off.label(atGridPosition: massParts[1] / grid.spacingMM) == 0)
    }

    @Test("a mass against the pleura, which the lung mask leaves out, is an opacity; the chest wall is not")
    func pleuralMass() throws {
        // Left lung's lateral wall at x = 88 mm (y = 40, z = 30): a 22 mm mass half in the
        // wall, which bites into the lung's outline.
        var chest = SyntheticChest()
        let mass = SIMD3<Double>(84, 40, 30)
        chest.objects = [(.ball(center: mass, radiusMM: 11), 35)]
        let volume = chest.makeVolume()
        let config = DetectorConfiguration()
        let grid = WorkingGrid(volume: volume, spacingMM: config.workingSpacingMM, workers: 2)
        var lungs = try LungSegmentation.segment(grid: grid, configuration: config, superiorIsHighZ: true, workers: 2)
        lungs.mediastinum = HilarStructures.mediastinum(lungs: lungs)
        #expect(!lungs.containsNearest(gridPosition: mass / grid.spacingMM), "the mask was expected to leave the mass out")
        let opacities = LungOpacities.find(grid: grid, lungs: lungs, thresholdHU: Float(config.opacityThresholdHU),
                                           radiusMM: config.opacityRadiusMM, workers: 2)
        #expect(opacities.label(atGridPosition: mass / grid.spacingMM) != 0)
        // The chest wall (in front of the right lung, and beside the mass above it): none.
        #expect(opacities.label(atGridPosition: SIMD3(26, 8, 30) / grid.spacingMM) == 0)
        #expect(opacities.label(atGridPosition: SIMD3(92, 40, 48) / grid.spacingMM) == 0)
    }

    @Test("a ground-glass patch is an opacity at -700 HU, not at the default -500 HU")
    func groundGlassPatch() throws {
        // A 26 mm patch of -600 HU (ground glass) in the left lung, and healthy lung (-850)
        // around it.
        var chest = SyntheticChest()
        let patch = SIMD3<Double>(70, 40, 30)
        chest.objects = [(.ball(center: patch, radiusMM: 13), -600)]
        let volume = chest.makeVolume()
        let config = DetectorConfiguration()
        let grid = WorkingGrid(volume: volume, spacingMM: config.workingSpacingMM, workers: 2)
        var lungs = try LungSegmentation.segment(grid: grid, configuration: config, superiorIsHighZ: true, workers: 2)
        lungs.mediastinum = HilarStructures.mediastinum(lungs: lungs)
        func find(_ threshold: Double) -> LungOpacities {
            LungOpacities.find(grid: grid, lungs: lungs, thresholdHU: Float(threshold),
                               radiusMM: config.opacityRadiusMM, workers: 2)
        }
        let ground = find(-700), dense = find(config.opacityThresholdHU)
        #expect(ground.count == 1 && ground.label(atGridPosition: patch / grid.spacingMM) == 1)
        if ground.count == 1 { #expect(ground.extentsMM[0] > 20 && ground.extentsMM[0] < 32, "\(ground.extentsMM)") }
        #expect(dense.count == 0)
        // The healthy lung of the other side is not opaque.
        #expect(ground.label(atGridPosition: SIMD3(26, 40, 30) / grid.spacingMM) == 0)
    }

    @Test("three or more findings that are parts of larger opacities give a multifocal warning")
    func multifocalWarning() {
        func candidate(_ score: Double, x: Double, opacity: Int, extent: Double?) -> DetectorCandidate {
            var finding = Finding(
                id: "", rank: 0, score: score, centerMM: SIMD3(x, 0, 0), centerVoxel: .zero, diameterMM: 12,
                longAxisMM: 14, shortAxisMM: 10, equivalentDiameterMM: 12, volumeMM3: 900, meanHU: -600,
                minHU: -800, maxHU: -300, type: .groundGlass, lungRADS: .category2, lungSide: "right",
                lungZone: "lower", sphericity: 0.6, vesselness: 0.2, distanceToPleuraMM: 6)
            finding.opacityExtentMM = extent
            return DetectorCandidate(features: [], finding: finding, opacity: opacity)
        }
        let two = [candidate(0.9, x: 0, opacity: 1, extent: 40), candidate(0.8, x: 60, opacity: 2, extent: 55),
                   candidate(0.7, x: 120, opacity: 0, extent: nil)]
        let config = DetectorConfiguration()
        #expect(NoduleDetector.assessment(from: two, configuration: config, timing: [:]).warnings.isEmpty)
        // A third part of the same opacity as the first is merged away: still two.
        let merged = two + [candidate(0.6, x: 30, opacity: 1, extent: 40)]
        #expect(NoduleDetector.assessment(from: merged, configuration: config, timing: [:]).warnings.isEmpty)
        let three = two + [candidate(0.6, x: 180, opacity: 3, extent: 62)]
        let warnings = NoduleDetector.assessment(from: three, configuration: config, timing: [:]).warnings
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("3 findings are parts of larger lung opacities (up to 62 mm)") == true)
    }

    @Test("findings of one opacity are reported once, the highest score")
    func merge() {
        func candidate(_ score: Double, x: Double, opacity: Int) -> DetectorCandidate {
            DetectorCandidate(features: [], finding: Finding(
                id: "", rank: 0, score: score, centerMM: SIMD3(x, 0, 0), centerVoxel: .zero, diameterMM: 9,
                longAxisMM: 10, shortAxisMM: 8, equivalentDiameterMM: 9, volumeMM3: 380, meanHU: 20, minHU: -500,
                maxHU: 90, type: .solid, lungRADS: .category4A, lungSide: "right", lungZone: "upper", sphericity: 0.9,
                vesselness: 0.1, distanceToPleuraMM: 8), opacity: opacity)
        }
        let candidates = [candidate(0.6, x: 0, opacity: 3), candidate(0.9, x: 30, opacity: 3),
                          candidate(0.7, x: 60, opacity: 0), candidate(0.8, x: 90, opacity: 0),
                          candidate(0.5, x: 120, opacity: 4)]
        let a = NoduleDetector.assessment(from: candidates, configuration: DetectorConfiguration(), timing: [:])
        #expect(a.findings.map(\.score) == [0.9, 0.8, 0.7, 0.5])
        #expect(a.findings.map(\.centerMM.x) == [30, 90, 60, 120])
    }
}

@Suite("Configuration")
struct ConfigurationTests {
    @Test("decodes a partial dictionary, missing keys take defaults")
    func partial() throws {
        let json = #"{"closing_radius_mm": 6, "maximum_findings": 12}"#
        let c = try JSONDecoder().decode(DetectorConfiguration.self, from: Data(json.utf8))
        #expect(c.closingRadiusMM == 6)
        #expect(c.maximumFindings == 12)
        #expect(c.workingSpacingMM == DetectorConfiguration().workingSpacingMM)
        #expect(DetectorConfiguration.validKeys.contains("blob_scales_mm"))
        #expect(DetectorConfiguration.validKeys.count == 44)
        #expect(DetectorConfiguration.validKeys.contains("minimum_score_2d"))
        #expect(DetectorConfiguration.validKeys.contains("pleural_plate_axis_ratio"))
        let handMadeOrder = try JSONDecoder().decode(DetectorConfiguration.self,
                                                     from: Data(#"{"learned_faint_order": false}"#.utf8))
        #expect(!handMadeOrder.learnedFaintOrder)
        #expect(DetectorConfiguration().learnedFaintOrder)
        let trees = try JSONDecoder().decode(DetectorConfiguration.self,
                                             from: Data(#"{"trees_decide_near_mediastinum": false}"#.utf8))
        #expect(!trees.treesDecideNearMediastinum && DetectorConfiguration().treesDecideNearMediastinum)
        let shell = try JSONDecoder().decode(DetectorConfiguration.self,
                                             from: Data(#"{"minimum_aerated_shell_fraction": 0}"#.utf8))
        #expect(shell.minimumAeratedShellFraction == 0 && DetectorConfiguration().minimumAeratedShellFraction == 0.25)
        for bad in ["-0.1", "1.5"] {
            #expect(throws: DetectionError.self) {
                _ = try JSONDecoder().decode(DetectorConfiguration.self,
                                             from: Data(#"{"minimum_aerated_shell_fraction": \#(bad)}"#.utf8))
            }
        }
        #expect(try JSONDecoder().decode(DetectorConfiguration.self,
                                         from: Data(#"{"hilar_neck_ratio": 0.7}"#.utf8)).hilarNeckRatio == 0.7)
        for bad in ["-0.1", "1"] {
            #expect(throws: DetectionError.self) {
                _ = try JSONDecoder().decode(DetectorConfiguration.self, from: Data(#"{"hilar_neck_ratio": \#(bad)}"#.utf8))
            }
        }
        #expect(try JSONDecoder().decode(DetectorConfiguration.self,
                                         from: Data(#"{"keep_mediastinal_bumps": false}"#.utf8)).keepMediastinalBumps == false)
        let bumpBase = try JSONDecoder().decode(DetectorConfiguration.self,
                                                from: Data(#"{"mediastinal_bump_base_mm": 2}"#.utf8))
        #expect(bumpBase.mediastinalBumpBaseMM == 2 && DetectorConfiguration().mediastinalBumpBaseMM == 0)
        #expect(throws: DetectionError.self) {
            _ = try JSONDecoder().decode(DetectorConfiguration.self, from: Data(#"{"mediastinal_bump_base_mm": -1}"#.utf8))
        }
        let near = try JSONDecoder().decode(DetectorConfiguration.self,
                                            from: Data(#"{"near_mediastinum_minimum_score": 2}"#.utf8))
        #expect(near.nearMediastinumMinimumScore == 2 && DetectorConfiguration().nearMediastinumMinimumScore == 0.5)
        #expect(DetectorConfiguration.validKeys.contains("calcification_hu"))
        #expect(DetectorConfiguration.validKeys.contains("opacity_threshold_hu"))
        #expect(DetectorConfiguration.validKeys.contains("patch_network"))
        #expect(DetectorConfiguration.validKeys.contains("airway_wall_mm"))
        let wall = try JSONDecoder().decode(DetectorConfiguration.self, from: Data(#"{"airway_wall_mm": 1.5}"#.utf8))
        #expect(wall.airwayWallMM == 1.5 && wall.closingRadiusMM == DetectorConfiguration().closingRadiusMM)
        #expect(DetectorConfiguration.validKeys.contains("maximum_coarse_faint_candidates"))
        #expect(DetectorConfiguration.validKeys.contains("hilar_opening_radius_mm"))
        let hilar = try JSONDecoder().decode(DetectorConfiguration.self, from: Data(#"{"hilar_opening_radius_mm": 0}"#.utf8))
        #expect(hilar.hilarOpeningRadiusMM == 0 && hilar.hilarMarginMM == DetectorConfiguration().hilarMarginMM)
        let airway = try JSONDecoder().decode(DetectorConfiguration.self, from: Data(#"{"airway_margin_mm": 0}"#.utf8))
        #expect(airway.airwayMarginMM == 0 && DetectorConfiguration().airwayMarginMM == 3)
        #expect(DetectorConfiguration.validKeys.contains("mediastinal_margin_mm"))
        let mediastinal = try JSONDecoder().decode(DetectorConfiguration.self,
                                                   from: Data(#"{"mediastinal_margin_mm": 0}"#.utf8))
        #expect(mediastinal.mediastinalMarginMM == 0 && DetectorConfiguration().mediastinalMarginMM == 4.5)
        let faint = #"{"maximum_faint_candidates": 0, "faint_candidate_hu": -600}"#
        let f = try JSONDecoder().decode(DetectorConfiguration.self, from: Data(faint.utf8))
        #expect(f.maximumFaintCandidates == 0 && f.faintCandidateHU == -600)
        #expect(throws: DetectionError.self) {
            _ = try JSONDecoder().decode(DetectorConfiguration.self, from: Data(#"{"faint_candidate_hu": 10}"#.utf8))
        }
    }

    @Test("rejects a bad value naming the key")
    func badValue() {
        let json = #"{"minimum_score": 2}"#
        #expect(throws: DetectionError.invalidConfiguration(key: "minimum_score", reason: "must be in [0, 1]")) {
            _ = try JSONDecoder().decode(DetectorConfiguration.self, from: Data(json.utf8))
        }
        let negative = #"{"maximum_coarse_faint_candidates": -1}"#
        #expect(throws: DetectionError.invalidConfiguration(key: "maximum_coarse_faint_candidates", reason: "must be 0...100000")) {
            _ = try JSONDecoder().decode(DetectorConfiguration.self, from: Data(negative.utf8))
        }
        #expect(throws: DetectionError.invalidConfiguration(key: "hilar_margin_mm", reason: "must be 0...20 mm")) {
            _ = try JSONDecoder().decode(DetectorConfiguration.self, from: Data(#"{"hilar_margin_mm": -1}"#.utf8))
        }
        #expect(throws: DetectionError.invalidConfiguration(key: "airway_margin_mm", reason: "must be 0...20 mm")) {
            _ = try JSONDecoder().decode(DetectorConfiguration.self, from: Data(#"{"airway_margin_mm": 25}"#.utf8))
        }
        #expect(throws: DetectionError.invalidConfiguration(key: "mediastinal_margin_mm", reason: "must be 0...20 mm")) {
            _ = try JSONDecoder().decode(DetectorConfiguration.self, from: Data(#"{"mediastinal_margin_mm": -2}"#.utf8))
        }
        #expect(throws: DetectionError.invalidConfiguration(key: "near_mediastinum_minimum_score", reason: "must be a number >= 0")) {
            _ = try JSONDecoder().decode(DetectorConfiguration.self,
                                         from: Data(#"{"near_mediastinum_minimum_score": -0.5}"#.utf8))
        }
        #expect(throws: DetectionError.invalidConfiguration(key: "airway_wall_mm", reason: "must be 0...10 mm")) {
            _ = try JSONDecoder().decode(DetectorConfiguration.self, from: Data(#"{"airway_wall_mm": 12}"#.utf8))
        }
        #expect(throws: DetectionError.invalidConfiguration(key: "calcification_hu", reason: "must be 0 (off) or 100...3000 HU")) {
            _ = try JSONDecoder().decode(DetectorConfiguration.self, from: Data(#"{"calcification_hu": 50}"#.utf8))
        }
    }

    @Test("a volume without lungs is an error, not a crash")
    func noLungs() {
        let v = Volume(columns: 32, rows: 32, slices: 8, filledWith: 40, spacing: .isotropic1mm)
        #expect(throws: DetectionError.self) { _ = try NoduleDetector().assess(volume: v) }
    }
}
