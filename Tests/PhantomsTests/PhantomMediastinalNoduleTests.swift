import Foundation
import Testing
@testable import Phantoms

// Nodules on the mediastinal pleura (`--mediastinal-nodule-fraction`): opt-in, only the
// juxtapleural nodules move, and where they go the lung ends at the mediastinum, which the
// rendered plane shows.

/// Test-sized options with `--mediastinal-nodule-fraction`.
private func options(mediastinal: Double?, size: Int = 128) -> PhantomOptions {
    fastPhantomOptions(size: size, slices: 40).with {
        $0.mediastinalNoduleFraction = mediastinal
        $0.cleanFraction = 0
        $0.minNodules = 4
        $0.maxNodules = 8
    }
}

@Suite struct PhantomMediastinalNoduleTests {
    @Test func offByDefaultAndOnlyTheJuxtapleuralNodulesMove() throws {
        var moved = 0
        for i in 0..<4 {
            let before = PhantomGenerator(options: options(mediastinal: nil), seed: 1510).plan(case: i)
            let zero = PhantomGenerator(options: options(mediastinal: 0), seed: 1510).plan(case: i)
            let with = PhantomGenerator(options: options(mediastinal: 1), seed: 1510).plan(case: i)
            #expect(zero.nodules.map(\.center) == before.nodules.map(\.center))
            #expect(!before.nodules.contains { $0.location == .juxtamediastinal })
            try #require(with.nodules.count == before.nodules.count)
            for (b, w) in zip(before.nodules, with.nodules) {
                #expect(w.id == b.id && w.radiusMM == b.radiusMM && w.type == b.type)
                if b.location != .juxtapleural {
                    #expect(w.location == b.location && w.center == b.center, "\(b.id) moved though \(b.location)")
                } else if w.location == .juxtamediastinal {
                    moved += 1
                    #expect(w.center != b.center)
                } else {
                    // Left where it was only when no place was found.
                    #expect(w.center == b.center)
                }
            }
            let entry = PhantomTruth.entry(for: with, folder: "c", format: "dicom")
            #expect(entry.nodules.map(\.location).filter { $0 == "juxtamediastinal" }.count
                    == with.nodules.filter { $0.location == .juxtamediastinal }.count)
        }
        #expect(moved >= 3, "only \(moved) juxtapleural nodules moved to the mediastinal pleura")
        #expect(throws: PhantomError.self) { try options(mediastinal: 1.5).validate() }
        #expect(throws: PhantomError.self) { try options(mediastinal: -0.1).validate() }
    }

    @Test func theLungEndsAtTheMediastinumBesideThem() throws {
        var checked = 0
        for i in 0..<6 {
            let p = PhantomGenerator(options: options(mediastinal: 1, size: 256), seed: 1511).plan(case: i)
            for n in p.nodules where n.location == .juxtamediastinal {
                checked += 1
                let (hu, lung) = renderPlaneAndLung(p, z: n.center.z)
                let centre = try #require(nearestPixel(p, n.center.x, n.center.y))
                #expect(lung[centre] > 0.5, "\(n.id): centre not in the lung")
                if n.type == .solid { #expect(hu[centre] > -150, "\(n.id): \(hu[centre]) HU at a solid centre") }
                // The nearest pixel outside the lung, in this plane.
                let spacing = p.pixelSpacingMM
                let reach = Int((n.boundingRadiusMM * 1.5 + 3) / spacing)
                let (c0, r0) = (centre % p.columns, centre / p.columns)
                var nearest: (d: Double, c: Int, r: Int)? = nil
                for r in Swift.max(0, r0 - reach)...Swift.min(p.rows - 1, r0 + reach) {
                    for c in Swift.max(0, c0 - reach)...Swift.min(p.columns - 1, c0 + reach) where lung[r * p.columns + c] < 0.5 {
                        let d = Double((c - c0) * (c - c0) + (r - r0) * (r - r0)).squareRoot() * spacing
                        if d < (nearest?.d ?? .infinity) { nearest = (d, c, r) }
                    }
                }
                let edge = try #require(nearest, "\(n.id): no edge of the lung near a juxtamediastinal nodule")
                // Close: the nodule touches the pleura (its centre is 0.85 r inside, placed along
                // a direction up to 14 degrees out of this plane).
                #expect(edge.d <= n.boundingRadiusMM + 2 * spacing, "\(n.id): lung edge \(edge.d) mm away, radius \(n.radiusMM)")
                // Medial: nearer the midline (anatomy x = 0) than the centre, and no lung
                // between it and the midline along its row: the mediastinum, not the chest wall.
                let edgeX = p.gridOrigin.x + Double(edge.c) * spacing
                #expect(abs(edgeX) < abs(n.center.x), "\(n.id): the nearest lung edge is lateral")
                let midline = Int(((0 - p.gridOrigin.x) / spacing).rounded())
                let between = stride(from: edge.c, through: midline, by: midline >= edge.c ? 1 : -1)
                let lungOnTheWay = between.filter { lung[edge.r * p.columns + $0] > 0.5 }.count
                #expect(lungOnTheWay == 0, "\(n.id): \(lungOnTheWay) lung pixels between it and the midline")
            }
        }
        #expect(checked >= 4, "only \(checked) juxtamediastinal nodules checked")
    }
}
