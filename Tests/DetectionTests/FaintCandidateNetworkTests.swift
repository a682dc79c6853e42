import Foundation
import Testing
import Volumes
@testable import Detection

@Suite("Faint network")
struct FaintCandidateNetworkTests {
    private func faintBlob(_ x: Double, sigmaMM: Double) -> BlobCandidate {
        BlobCandidate(gridPosition: SIMD3(x, 0, 0), response: 100, sigmaMM: sigmaMM, roundness: 0.9, tubularity: 0.5,
                      smoothedHU: -700)
    }

    @Test("select: the faint places go in the keys' order; keys are asked only for the first faint_network_pool places the strong ones leave open")
    func selectAsksForOpenPlacesOnly() {
        var configuration = DetectorConfiguration()
        configuration.maximumCandidates = 1
        configuration.maximumFaintCandidates = 0   // the network's order alone
        configuration.faintNetworkCandidates = 2
        configuration.faintNetworkPool = 3
        let solid = BlobCandidate(gridPosition: SIMD3(-50, 0, 0), response: 600, sigmaMM: 2, roundness: 0.9,
                                  tubularity: 1, smoothedHU: -100)
        // HU-mass order (faintRank grows with the scale): hidden, a, b, c, d.
        let hidden = faintBlob(-51, sigmaMM: 2.5)   // inside the strong candidate: suppressed
        let a = faintBlob(10, sigmaMM: 2.4), b = faintBlob(20, sigmaMM: 2.3)
        let c = faintBlob(30, sigmaMM: 2.2), d = faintBlob(40, sigmaMM: 2.1)
        var asked: [[Double]] = []
        let kept = BlobFilter.select([solid, d, c, b, a, hidden], spacingMM: 1, configuration: configuration,
                                     coarseQuota: 0, faintSeparation: .mutual, faintKeys: { places in
                                         asked.append(places.map(\.gridPosition.x))
                                         return places.map { $0.gridPosition.x }   // the farther, the higher
                                     })
        // Asked once, for the first three open places in HU-mass order (not the hidden one, not d).
        #expect(asked == [[10, 20, 30]])
        // The two highest keys: c (30), then b (20).
        #expect(kept.map(\.gridPosition.x) == [-50, 30, 20])
        // Without keys, the HU-mass order (and no network quota).
        configuration.maximumFaintCandidates = 2
        let handMade = BlobFilter.select([solid, d, c, b, a, hidden], spacingMM: 1, configuration: configuration,
                                         coarseQuota: 0, faintSeparation: .mutual)
        #expect(handMade.map(\.gridPosition.x) == [-50, 10, 20])
    }

    @Test("select: the network's candidates come after the hand-made faint ones, from the places those leave open")
    func networkCandidatesAddToHandMade() {
        var configuration = DetectorConfiguration()
        configuration.maximumCandidates = 1
        configuration.maximumFaintCandidates = 1
        configuration.faintNetworkCandidates = 1
        configuration.faintNetworkPool = 3
        let solid = BlobCandidate(gridPosition: SIMD3(-50, 0, 0), response: 600, sigmaMM: 2, roundness: 0.9,
                                  tubularity: 1, smoothedHU: -100)
        let a = faintBlob(10, sigmaMM: 2.4), b = faintBlob(20, sigmaMM: 2.3)
        let c = faintBlob(30, sigmaMM: 2.2), d = faintBlob(40, sigmaMM: 2.1), e = faintBlob(50, sigmaMM: 2.0)
        let nearA = faintBlob(10.5, sigmaMM: 2.35)   // within a's radius: the same blob
        var asked: [[Double]] = []
        let kept = BlobFilter.select([solid, e, d, c, b, nearA, a], spacingMM: 1, configuration: configuration,
                                     coarseQuota: 0, faintSeparation: .mutual, faintKeys: { places in
                                         asked.append(places.map(\.gridPosition.x))
                                         return places.map { -abs($0.gridPosition.x - 40) }   // d best, then c and e
                                     })
        // a first by HU mass; the network sees the next three open places (not a, not nearA, not e).
        #expect(asked == [[20, 30, 40]])
        #expect(kept.map(\.gridPosition.x) == [-50, 10, 40])
        // A quota of 0 never asks the network.
        configuration.faintNetworkCandidates = 0
        var askedAgain = false
        let handMade = BlobFilter.select([solid, e, d, c, b, nearA, a], spacingMM: 1, configuration: configuration,
                                         coarseQuota: 0, faintSeparation: .mutual, faintKeys: { places in
                                             askedAgain = true
                                             return places.map { _ in 0 }
                                         })
        #expect(!askedAgain)
        #expect(handMade.map(\.gridPosition.x) == [-50, 10])
    }

    @Test("logits: one per place, the network's own, the same on one worker and on two")
    func logitsPerPlace() throws {
        // The 12^3 reference network of the patch network's PyTorch check: small and quick.
        let network = try PatchNetwork.decode(PatchNetworkTests.fixture("patch_network_reference_net.json"), name: "reference")
        let n = 40
        var v = [Float](repeating: -850, count: n * n * n)
        for k in 0..<n { for j in 0..<n { for i in 0..<n {
            let d = SIMD3(i - 20, j - 20, k - 20)
            let squared: Int = (d &* d).wrappedSum()
            if squared <= 16 { v[(k * n + j) * n + i] = 30 }
        } } }
        let volume = Volume(columns: n, rows: n, slices: n, voxels: v,
                            spacing: VoxelSpacing(columnMM: 1, rowMM: 1, sliceMM: 1))
        var places: [SIMD3<Double>] = []
        for k in 0..<70 {
            let column = Double(10 + k % 20), slice = Double(15 + k % 10)
            places.append(volume.affine.patientPosition(column: column, row: 20, slice: slice))
        }
        let faint = FaintCandidateNetwork(network: network)
        let serial = faint.logits(volume: volume, centersMM: places, workers: 1)
        let parallel = faint.logits(volume: volume, centersMM: places, workers: 2, chunk: 8)
        #expect(serial.count == places.count)
        #expect(serial == parallel)
        let direct = places.map { network.logit(volume: volume, centerMM: $0) }
        #expect(serial == direct)
        // The ball's centre reads differently from a place 10 mm beside it (not one constant).
        let spread = (serial.max() ?? 0) - (serial.min() ?? 0)
        #expect(spread > 1)
    }

    @Test("the faint-maxima table: one row per maximum, its truth nodule or -1, numbers read back exactly")
    func maximaTableRows() throws {
        let truth = [TruthNodule(centerMM: SIMD3(10, 20, 30), diameterMM: 6)]
        let inside = FaintMaximum(centerMM: SIMD3(11.5, 20, 30), features: [2.5, 0.9, -7.1, 0.6, 0.3], huMassRank: 0.1 + 0.2)
        let outside = FaintMaximum(centerMM: SIMD3(13.5, 20, 30), features: [2.5, 0.9, -7.1, 0.6, 0.3], huMassRank: 1e-7)
        let text = FaintMaximum.tableRows([inside, outside], truth: truth, seed: 1103, caseID: "case,005")
        let rows = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = FaintMaximum.tableHeader.split(separator: ",").map(String.init)
        #expect(rows.count == 2)
        #expect(rows.allSatisfy { $0.count == header.count })
        #expect(header.first == "seed" && header.last == "nodule")
        // 1.5 mm from the centre of a 6 mm nodule: inside; 3.5 mm: outside.
        #expect(rows.map { $0.last } == ["0", "-1"])
        #expect(rows[0][0] == "1103" && rows[0][1] == "case005")
        let x = try #require(Double(rows[0][2]))
        let rank = try #require(Double(rows[0][header.count - 2]))
        let tiny = try #require(Double(rows[1][header.count - 2]))
        #expect(x == 11.5 && rank == 0.1 + 0.2 && tiny == 1e-7)
    }

    @Test("faint_network_pool and faint_network_candidates are read from a pipeline's detect section and range-checked")
    func poolSetting() throws {
        let decoded = try JSONDecoder().decode(DetectorConfiguration.self, from: Data(#"{"faint_network_pool": 500}"#.utf8))
        #expect(decoded.faintNetworkPool == 500)
        #expect(DetectorConfiguration().faintNetworkPool == 3000)
        var bad = DetectorConfiguration()
        bad.faintNetworkPool = 0
        #expect(throws: DetectionError.self) { try bad.validate() }
        let quota = try JSONDecoder().decode(DetectorConfiguration.self, from: Data(#"{"faint_network_candidates": 0}"#.utf8))
        #expect(quota.faintNetworkCandidates == 0)
        #expect(DetectorConfiguration().faintNetworkCandidates == 100)
        bad = DetectorConfiguration()
        bad.faintNetworkCandidates = -1
        #expect(throws: DetectionError.self) { try bad.validate() }
    }
}
