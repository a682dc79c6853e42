import Foundation
import Testing
import Volumes
@testable import Detection

/// The patch network: its input sampler against an analytic answer, its forward pass against
/// PyTorch (scripts/reference/patch_network_reference.py), the file checks, the way its logit
/// joins the trees' score, and the bundled network on a ball and a vessel.
@Suite("Patch network")
struct PatchNetworkTests {
    struct Reference: Decodable {
        var size: Int
        var cubes_hu: [[Float]]
        var logits: [Double]
    }

    static func fixture(_ name: String) throws -> Data {
        let dir = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return try Data(contentsOf: dir.appendingPathComponent(name))
    }

    @Test("forward pass equals PyTorch's on four cubes (batch normalisation folded by the training script)")
    func forwardMatchesPyTorch() throws {
        let network = try PatchNetwork.decode(Self.fixture("patch_network_reference_net.json"), name: "reference")
        let reference = try JSONDecoder().decode(Reference.self, from: Self.fixture("patch_network_reference.json"))
        #expect(network.patchSize == reference.size)
        // The reference logits differ from each other by more than 0.8, so a wrong layer shows.
        #expect((reference.logits.max()! - reference.logits.min()!) > 0.8)
        for (cube, expected) in zip(reference.cubes_hu, reference.logits) {
            let logit = network.logit(patchHU: cube)
            #expect(abs(logit - expected) < 1e-4 * max(1, abs(expected)), "Swift \(logit), PyTorch \(expected)")
        }
    }

    /// HU linear in the patient position is reproduced exactly by trilinear sampling, whatever
    /// the voxel grid: here 0.7 x 0.8 mm pixels, 1.5 mm slices stored superior to inferior.
    @Test("sampler: a linear HU field is read back exactly at the LPS grid; outside the volume is air")
    func samplerOnLinearField() {
        let nx = 40, ny = 36, nz = 30
        let spacing = VoxelSpacing(columnMM: 0.7, rowMM: 0.8, sliceMM: 1.5)
        let affine = PatientAffine(origin: SIMD3(-10, 5, 60), columnStep: SIMD3(0.7, 0, 0),
                                   rowStep: SIMD3(0, 0.8, 0), sliceStep: SIMD3(0, 0, -1.5))
        func hu(_ p: SIMD3<Double>) -> Double { 2 * p.x - 3 * p.y + 5 * p.z - 400 }
        var voxels = [Float](repeating: 0, count: nx * ny * nz)
        for k in 0..<nz { for j in 0..<ny { for i in 0..<nx {
            voxels[(k * ny + j) * nx + i] = Float(hu(affine.patientPosition(column: Double(i), row: Double(j), slice: Double(k))))
        } } }
        let volume = Volume(columns: nx, rows: ny, slices: nz, voxels: voxels, spacing: spacing, affine: affine)
        let center = SIMD3(3.3, 19.1, 40.2)
        let size = 8
        let patch = CandidatePatch.sample(volume: volume, centerMM: center, size: size, stepMM: 1)
        var worst = 0.0
        for k in 0..<size { for j in 0..<size { for i in 0..<size {
            let p = center + SIMD3(Double(i), Double(j), Double(k)) - Double(size - 1) / 2
            worst = max(worst, abs(Double(patch[(k * size + j) * size + i]) - hu(p)))
        } } }
        #expect(worst < 0.01, "largest error \(worst) HU")

        // Centred at the top slice (z = 60): the upper half of the cube is above the volume.
        let edge = CandidatePatch.sample(volume: volume, centerMM: SIMD3(3.3, 19.1, 60), size: size, stepMM: 1)
        let top = (size - 1) * size * size + 3 * size + 3, bottom = 3 * size + 3
        #expect(edge[top] == CandidatePatch.outsideHU)
        #expect(abs(Double(edge[bottom]) - hu(SIMD3(3.3 - 0.5, 19.1 - 0.5, 60 - 3.5))) < 0.01)
    }

    @Test("combined score: trees alone below the floor (network not run); above it sigmoid(trees + w (net - offset))")
    func combination() throws {
        let network = try PatchNetwork.decode(Self.fixture("patch_network_reference_net.json"), name: "reference")
        let c = network.combination   // weight 0.7, offset -1.1, floor 0.002
        var ran = false
        let below = network.combinedScore(treeScore: 0.001) { ran = true; return 10 }
        #expect(below == 0.001 && !ran)
        let p = 0.2, z = 1.5
        let expected = 1 / (1 + exp(-(log(p / (1 - p)) + c.weight * (z - c.offset))))
        #expect(abs(network.combinedScore(treeScore: p) { z } - expected) < 1e-12)
        #expect(abs(expected - 0.6068) < 1e-3)   // sigmoid(log(0.25) + 0.7 * 2.6) = sigmoid(0.4337)
    }

    @Test("a file whose layers do not chain, or with bad base64, is refused naming the file")
    func refusesBadFiles() throws {
        let good = try JSONSerialization.jsonObject(with: Self.fixture("patch_network_reference_net.json")) as! [String: Any]
        var wrongChannels = good
        var convs = good["convolutions"] as! [[String: Any]]
        convs[1]["inputs"] = 9
        wrongChannels["convolutions"] = convs
        var badBase64 = good
        var dense = good["dense"] as! [[String: Any]]
        dense[0]["weights"] = "not base64!"
        badBase64["dense"] = dense
        for (doc, reason) in [(wrongChannels, "do not chain"), (badBase64, "base64")] {
            let data = try JSONSerialization.data(withJSONObject: doc)
            #expect {
                _ = try PatchNetwork.decode(data, name: "broken.json")
            } throws: { error in
                "\(error)".contains("broken.json") && "\(error)".contains(reason)
            }
        }
    }

    /// The synthetic chest with an 8 mm ball in the right lung, on 1.25 mm and on 5 mm slices.
    @Test("the detector joins the network on 1.25 mm slices and not on 5 mm ones, nor with patch_network: false")
    func gatedBySliceSpacing() throws {
        let network = try #require(try PatchNetwork.bundled())
        let model = try #require(try FalsePositiveModel.bundled(mode: "3d"))
        var treesOnly = DetectorConfiguration()
        treesOnly.patchNetwork = false
        for (sliceMM, joined) in [(1.25, true), (5.0, false)] {
            var chest = SyntheticChest()
            chest.spacing = VoxelSpacing(columnMM: 1, rowMM: 1, sliceMM: sliceMM)
            chest.slices = Int(60 / sliceMM)
            chest.noiseHU = 15
            chest.objects = [(.ball(center: SIMD3(26, 40, 30), radiusMM: 4), 40)]
            let volume = chest.makeVolume()
            let withNetwork = NoduleDetector(configuration: DetectorConfiguration(), model: model, patchNetwork: network)
            let withoutNetwork = NoduleDetector(configuration: treesOnly, model: model, patchNetwork: network)
            let (a, timing) = try withNetwork.detectCandidates(in: volume)
            let (b, _) = try withoutNetwork.detectCandidates(in: volume)
            try #require(a.count == b.count && !a.isEmpty)
            let changed = zip(a, b).filter { $0.finding.score != $1.finding.score }.count
            let floor = network.combination.treeScoreFloor
            let eligible = b.filter { $0.finding.score >= floor }.count
            #expect((timing["patch_network"] != nil) == joined, "\(sliceMM) mm")
            if joined {
                // Every candidate at or above the floor is rescored, none below it.
                #expect(eligible > 0 && changed == eligible, "\(changed) of \(eligible) rescored")
            } else {
                #expect(changed == 0)
            }
        }
    }

    @Test("an unreadable network is said in the study's warnings where it would have run, and the trees score alone")
    func unreadableNetworkWarns() throws {
        let model = try #require(try FalsePositiveModel.bundled(mode: "3d"))
        var chest = SyntheticChest()
        chest.objects = [(.ball(center: SIMD3(26, 40, 30), radiusMM: 4), 40)]
        let volume = chest.makeVolume()
        let broken = NoduleDetector(configuration: DetectorConfiguration(), model: model, patchNetwork: nil,
                                    patchNetworkProblem: "patch-network-3d.json: bad")
        let treesOnly = NoduleDetector(configuration: DetectorConfiguration(), model: model)
        let a = try broken.assess(volume: volume)
        let b = try treesOnly.assess(volume: volume)
        #expect(a.warnings.contains { $0.contains("patch network is unreadable") && $0.contains("patch-network-3d.json") })
        #expect(!b.warnings.contains { $0.contains("patch network") })
        #expect(a.findings.map(\.score) == b.findings.map(\.score))
    }

    /// The bundled network on two shapes of the same calibre in aerated lung (-850 HU, a
    /// little noise): an 8 mm solid ball, and a 4 mm vessel crossing the cube with a
    /// branch. Not a benchmark of the network, a check that the bundled weights load and
    /// answer as trained: with the HU window left out, or the first layer's weights reversed,
    /// the order does not hold.
    @Test("bundled network: an 8 mm ball is a nodule, a branching 4 mm vessel is not")
    func bundledBallAboveVessel() throws {
        let network = try #require(try PatchNetwork.bundled())
        let n = 48
        var generator = SplitMix(seed: 3)
        func volume(_ inside: (SIMD3<Double>) -> Bool) -> Volume {
            var v = [Float](repeating: 0, count: n * n * n)
            for k in 0..<n { for j in 0..<n { for i in 0..<n {
                let p = SIMD3(Double(i), Double(j), Double(k)) - Double(n - 1) / 2
                v[(k * n + j) * n + i] = (inside(p) ? 40 : -850) + Float(generator.gaussian() * 20)
            } } }
            return Volume(columns: n, rows: n, slices: n, voxels: v, spacing: VoxelSpacing(columnMM: 1, rowMM: 1, sliceMM: 1))
        }
        func distanceToSegment(_ p: SIMD3<Double>, _ a: SIMD3<Double>, _ b: SIMD3<Double>) -> Double {
            let t = max(0, min(1, ((p - a) * (b - a)).sum() / ((b - a) * (b - a)).sum()))
            let d = p - (a + t * (b - a))
            return (d * d).sum().squareRoot()
        }
        let ball = volume { ($0 * $0).sum() <= 16 }
        let vessel = volume { p in
            distanceToSegment(p, SIMD3(-30, 0, 0), SIMD3(30, 0, 0)) <= 2
                || distanceToSegment(p, SIMD3(0, 0, 0), SIMD3(20, 20, 10)) <= 1.5
        }
        let center = ball.affine.patientPosition(column: Double(n - 1) / 2, row: Double(n - 1) / 2, slice: Double(n - 1) / 2)
        let ballLogit = network.logit(volume: ball, centerMM: center)
        let vesselLogit = network.logit(volume: vessel, centerMM: center)
        // Trained on the phantoms, it reads 8.1 for the ball and -6.7 for the vessel here;
        // the network's even odds are at `combination.offset` (-1.1).
        #expect(ballLogit > 3 && vesselLogit < -3, "ball \(ballLogit), vessel \(vesselLogit)")
    }
}
