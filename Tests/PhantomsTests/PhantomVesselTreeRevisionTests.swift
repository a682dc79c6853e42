import Foundation
import Testing
@testable import Phantoms

/// `PhantomOptions.vesselTreeRevision` 2: Murray's fork angles, spaced peripheral side
/// branches instead of twig fans, and a gentler taper; 3: those side branches bending
/// outward, four pulmonary veins, veins clear of the arteries.
@Suite struct PhantomVesselTreeRevisionTests {
    /// Half size, as `PhantomVesselDensityTests`: the trees are planned, not rendered.
    private func plan(revision: Int?, seed: UInt64 = 1300) -> PhantomCase {
        var o = PhantomOptions()
        o.size = 256
        o.slices = 150
        o.maxNodules = 8
        o.cleanFraction = 0.1
        o.vesselTreeRevision = revision
        return PhantomGenerator(options: o, seed: seed).plan(case: 0)
    }

    /// Terminal-calibre segments whose start lies within `radiusMM` of another one's start:
    /// the fans of twigs that look like small stars in a slice.
    private func crowdedTwigFraction(_ p: PhantomCase, radiusMM: Double) -> Double {
        let terminal = p.vesselSegments.map(\.endRadiusMM).min() ?? 0
        let starts = p.vesselSegments.filter { $0.endRadiusMM <= terminal * 1.0001 }.map(\.start)
        // Bucket the starts on a grid of `radiusMM` so the neighbour search stays linear.
        var grid: [SIMD3<Int>: [Int]] = [:]
        func cell(_ x: SIMD3<Double>) -> SIMD3<Int> {
            SIMD3(Int((x.x / radiusMM).rounded(.down)), Int((x.y / radiusMM).rounded(.down)), Int((x.z / radiusMM).rounded(.down)))
        }
        for (i, s) in starts.enumerated() { grid[cell(s), default: []].append(i) }
        var crowded = 0
        for (i, s) in starts.enumerated() {
            let c = cell(s)
            var found = false
            for dx in -1...1 { for dy in -1...1 { for dz in -1...1 where !found {
                for j in grid[c &+ SIMD3(dx, dy, dz)] ?? [] where j != i {
                    let d = starts[j] - s
                    // Twigs of one fork start at the same point: not a fan, skip exact twins.
                    let distance = (d * d).sum().squareRoot()
                    if distance > 1e-6 && distance < radiusMM { found = true; break }
                }
            } } }
            if found { crowded += 1 }
        }
        return Double(crowded) / Double(Swift.max(1, starts.count))
    }

    @Test func murrayAnglesAreTheMinimumWorkAngles() {
        // A symmetric fork: each child at arccos(2^(-1/3)) = 37.47 degrees (the classical 75
        // degrees between the children, Murray 1926).
        let even = BranchingTree.murrayAngle(share: 0.5) * 180 / Double.pi
        #expect(abs(even - acos(pow(2, -1.0 / 3)) * 180 / Double.pi) < 1e-9)
        #expect(abs(even - 37.47) < 0.01)
        // The main child bends little, a small side branch much: cos(theta) from the law.
        let main = BranchingTree.murrayAngle(share: 0.8) * 180 / Double.pi
        let side = BranchingTree.murrayAngle(share: 0.2) * 180 / Double.pi
        #expect(abs(main - 19.4) < 0.1, "80 % child \(main) degrees")
        #expect(abs(side - 56.8) < 0.1, "20 % child \(side) degrees")
        // Flow-weighted the sideways pulls balance: s^(2/3) sin(theta1) = (1-s)^(2/3) sin(theta2).
        let balance = pow(0.8, 2.0 / 3) * sin(main * Double.pi / 180) - pow(0.2, 2.0 / 3) * sin(side * Double.pi / 180)
        #expect(abs(balance) < 1e-3)
    }

    @Test func revisionOneIsTheEarlierTree() {
        let earlier = plan(revision: nil)
        let one = plan(revision: 1)
        #expect(one.vesselSegments == earlier.vesselSegments)
        #expect(one.nodules.map(\.center) == earlier.nodules.map(\.center))
    }

    @Test func revisionTwoSpacesTheTwigsAndThickensThePeriphery() {
        let one = plan(revision: 1)
        let two = plan(revision: 2)
        // Half size: 1 mm here is 2 mm at full size.
        let crowdedOne = crowdedTwigFraction(one, radiusMM: 1)
        let crowdedTwo = crowdedTwigFraction(two, radiusMM: 1)
        #expect(crowdedTwo < 0.6 * crowdedOne, "twigs starting within 1 mm of another: \(crowdedOne) -> \(crowdedTwo)")
        let peripheral = two.vesselLengthAndVolume(depthMM: 5...20).volumeMM3 / one.vesselLengthAndVolume(depthMM: 5...20).volumeMM3
        #expect(peripheral > 1.3, "vessel volume 5-20 mm inside the pleura x\(peripheral)")
        // The hilar and lobar vessels keep their calibre (the taper meets revision 1's at
        // segmental branches); their paths differ, so the volume only roughly (1.17x on this
        // seed: the straighter paths run further).
        let widestOne = one.vesselSegments.map(\.startRadiusMM).max() ?? 0
        let widestTwo = two.vesselSegments.map(\.startRadiusMM).max() ?? 0
        #expect(abs(widestTwo - widestOne) < 1e-9, "hilar trunk radius \(widestOne) -> \(widestTwo) mm")
        let thickOne = one.vesselVolume(minimumRadiusMM: 2)
        let thickTwo = two.vesselVolume(minimumRadiusMM: 2)
        #expect(abs(thickTwo / thickOne - 1) < 0.25, "vessels >= 2 mm radius \(thickOne) -> \(thickTwo) mm3")
    }

    /// Per vein segment of mid calibre (radius `radiusMM`, full-size mm scaled), the gap (mm)
    /// between its midpoint's surface and the nearest artery surface of at least half its
    /// calibre, capped at `capMM` (arteries are bucketed on a grid of that size).
    private func veinArteryGaps(_ p: PhantomCase, radiusMM: ClosedRange<Double>, capMM: Double) -> [Double] {
        let s = p.anatomy.scale
        let arteries = p.vesselSegments.indices.filter { !p.vesselIsVein[$0] }.map { p.vesselSegments[$0] }
        var grid: [SIMD3<Int>: [Int]] = [:]
        func cell(_ x: SIMD3<Double>) -> SIMD3<Int> {
            SIMD3(Int((x.x / capMM).rounded(.down)), Int((x.y / capMM).rounded(.down)), Int((x.z / capMM).rounded(.down)))
        }
        for (i, a) in arteries.enumerated() {
            let lo = cell(pointwiseMin(a.start, a.end)), hi = cell(pointwiseMax(a.start, a.end))
            for x in lo.x...hi.x { for y in lo.y...hi.y { for z in lo.z...hi.z { grid[SIMD3(x, y, z), default: []].append(i) } } }
        }
        var gaps: [Double] = []
        for (i, v) in p.vesselSegments.enumerated() where p.vesselIsVein[i] {
            let r = 0.5 * (v.startRadiusMM + v.endRadiusMM)
            guard radiusMM.contains(r / s) else { continue }
            let mid = 0.5 * (v.start + v.end)
            var best = capMM
            let c = cell(mid)
            var seen = Set<Int>()
            for dx in -1...1 { for dy in -1...1 { for dz in -1...1 {
                for j in grid[c &+ SIMD3(dx, dy, dz)] ?? [] where seen.insert(j).inserted && arteries[j].maxRadiusMM >= 0.5 * r {
                    best = Swift.min(best, arteries[j].signedDistance(mid) - r)
                }
            } } }
            gaps.append(best)
        }
        return gaps
    }

    @Test func revisionThreeVeinsRunBetweenTheArteries() {
        let two = plan(revision: 2)
        let three = plan(revision: 3)
        let s = three.anatomy.scale
        // The steered veins (segmental and subsegmental, 1-2.5 mm radius at full size; the
        // finer ones are not steered), gaps capped at 8 mm.
        let gapsTwo = veinArteryGaps(two, radiusMM: 1.0...2.5, capMM: 8 * s).sorted()
        let gapsThree = veinArteryGaps(three, radiusMM: 1.0...2.5, capMM: 8 * s).sorted()
        #expect(gapsTwo.count > 200 && gapsThree.count > 200, "\(gapsTwo.count), \(gapsThree.count) veins")
        // Touching or overlapping an artery of their calibre (gap under 0.5 mm at full size):
        // grown independently, the veins cross the arteries at random.
        func touching(_ g: [Double]) -> Double { Double(g.filter { $0 < 0.5 * s }.count) / Double(g.count) }
        #expect(touching(gapsThree) < 0.6 * touching(gapsTwo),
                "veins touching an artery: \(touching(gapsTwo)) -> \(touching(gapsThree))")
        let medianTwo = gapsTwo[gapsTwo.count / 2], medianThree = gapsThree[gapsThree.count / 2]
        #expect(medianThree > medianTwo + 0.5 * s, "median vein-artery gap \(medianTwo / s) -> \(medianThree / s) mm (full size)")
    }

    @Test func revisionThreeHasFourPulmonaryVeinsEachDrainingItsLobes() {
        let two = plan(revision: 2)
        let three = plan(revision: 3)
        let a = three.anatomy
        #expect(two.anatomy.superiorVeinHilum.isEmpty)
        #expect(a.superiorVeinHilum.count == 2)
        // Two more tubes into the left atrium: the superior veins, each ending at its hilum.
        #expect(a.mediastinalTubes.count == two.anatomy.mediastinalTubes.count + 2)
        for side in 0..<2 {
            #expect(a.mediastinalTubes.contains { $0.segment.end == a.superiorVeinHilum[side] })
            // The superior vein leaves the hilum in front of and below the artery, above the
            // inferior vein.
            #expect(a.superiorVeinHilum[side].y < a.arteryHilum[side].y)
            #expect(a.superiorVeinHilum[side].z < a.arteryHilum[side].z)
            #expect(a.superiorVeinHilum[side].z > a.veinHilum[side].z)
        }
        // Each tree, followed from its root along the segments (a child starts where its
        // parent ends), ends only in its own lobes: the superior veins in the upper lobe (and
        // the right middle lobe), the inferior ones in the lower lobe.
        var children: [SIMD3<Double>: [Int]] = [:]
        for (i, v) in three.vesselSegments.enumerated() where three.vesselIsVein[i] {
            children[v.start, default: []].append(i)
        }
        for side in 0..<2 {
            let lower = side == 0 ? 2 : 1
            for (root, superior) in [(a.superiorVeinHilum[side], true), (a.veinHilum[side], false)] {
                var stack = [root], seen = Set<SIMD3<Double>>(), ends: [SIMD3<Double>] = []
                while let p = stack.popLast() {
                    guard seen.insert(p).inserted else { continue }
                    let next = children[p] ?? []
                    if next.isEmpty { ends.append(p) }
                    stack += next.map { three.vesselSegments[$0].end }
                }
                #expect(ends.count > 200, "side \(side) superior \(superior): \(ends.count) ends")
                let inOwnLobes = ends.filter { (a.lobe(side: side, $0) == lower) != superior }.count
                #expect(Double(inOwnLobes) / Double(Swift.max(1, ends.count)) > 0.95,
                        "side \(side) superior \(superior): \(inOwnLobes) of \(ends.count) ends in its lobes")
            }
        }
    }

    @Test func revisionOutsideItsRangeIsRefused() {
        var o = PhantomOptions()
        o.vesselTreeRevision = 4
        #expect(throws: PhantomError.self) { try o.validate() }
        o.vesselTreeRevision = 3
        #expect(throws: Never.self) { try o.validate() }
        o.vesselTreeRevision = 0
        #expect(throws: PhantomError.self) { try o.validate() }
        o.vesselTreeRevision = 2
        #expect(throws: Never.self) { try o.validate() }
    }
}
