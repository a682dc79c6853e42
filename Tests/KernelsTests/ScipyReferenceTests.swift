import Testing
import Volumes
@testable import Kernels

/// Compares against scipy.ndimage outputs (fixtures). Tolerance: max |ours - scipy| <=
/// 2e-5 x max |scipy| (Float32 accumulation vs scipy's Float64 accumulation).
@Suite struct ScipyReferenceTests {
    let fixtures: ReferenceFixtures
    init() throws { fixtures = try ReferenceFixtures.load() }

    @Test func gaussianFilterWithOrdersMatchesScipy() throws {
        let cases = fixtures.cases(kind: "gaussian")
        #expect(cases.count >= 10)
        for c in cases {
            let sigma = SIMD3(c["sigma_x"]!.number!, c["sigma_y"]!.number!, c["sigma_z"]!.number!)
            let orders = DerivativeOrders(x: Int(c["order_x"]!.number!), y: Int(c["order_y"]!.number!),
                                          z: Int(c["order_z"]!.number!))
            let name = c["output"]!.string!
            for workers in (orders == .none || orders.x == 1 ? [1, 3] : [2]) {
                let ours = GaussianFilter.apply(fixtures.input, sigmaVoxels: sigma, orders: orders,
                                                context: KernelContext(workers: workers))
                let (d, s) = maxAbsDifference(ours.voxels, fixtures.array(name))
                #expect(d <= 2e-5 * s, "\(name) workers \(workers): max diff \(d) vs scale \(s)")
            }
        }
    }

    /// The engine cut into tiny tiles (3 rows) and chunks (2 slices; 7 slices: the z-pass's
    /// slice quad, then a pair, then a single slice), so tile halos, ragged last tiles/chunks and
    /// reflection inside halos are all exercised, against scipy.
    @Test(arguments: [2, 7])
    func tinyTilesAndChunksStillMatchScipy(chunk: Int) throws {
        let input = fixtures.input
        for c in fixtures.cases(kind: "gaussian") {
            let sigma = SIMD3(c["sigma_x"]!.number!, c["sigma_y"]!.number!, c["sigma_z"]!.number!)
            let triple = DerivativeTriple(z: Int(c["order_z"]!.number!), y: Int(c["order_y"]!.number!),
                                          x: Int(c["order_x"]!.number!))
            var engine = SeparableEngine(triples: [triple], sigmaVoxels: (sigma.x, sigma.y, sigma.z),
                                         context: KernelContext(workers: 3), spanName: "test")
            engine.tileRows = 3
            engine.zChunk = chunk
            var ours = [Float](repeating: .nan, count: input.voxelCount)
            let nx = input.columns, ny = input.rows
            ours.withUnsafeMutableBufferPointer { out in
                withVoxelSource(input.view(VoxelBox(covering: input))) { source in
                    engine.run(source) { _, z, y, rows in
                        (out.baseAddress! + (z * ny + y) * nx).update(from: rows[0], count: nx)
                    }
                }
            }
            let name = c["output"]!.string!
            #expect(!ours.contains { $0.isNaN }, "\(name) tiled: a voxel was never written")
            let (d, s) = maxAbsDifference(ours, fixtures.array(name))
            #expect(d <= 2e-5 * s, "\(name) tiled: max diff \(d) vs scale \(s)")
        }
    }

    @Test func laplaceMatchesScipyGaussianLaplace() throws {
        for c in fixtures.cases(kind: "gaussian_laplace") {
            let sigma = SIMD3(c["sigma_x"]!.number!, c["sigma_y"]!.number!, c["sigma_z"]!.number!)
            let name = c["output"]!.string!
            let ours = LaplacianOfGaussian.apply(fixtures.input, sigmaVoxels: sigma, context: KernelContext(workers: 2))
            let (d, s) = maxAbsDifference(ours.voxels, fixtures.array(name))
            #expect(d <= 2e-5 * s, "\(name): max diff \(d) vs scale \(s)")
        }
    }

    @Test func hessianEigenvaluesMatchScipyAndNumpyEigvalsh() throws {
        let c = try #require(fixtures.cases(kind: "hessian_eigenvalues").first)
        let spacing = VoxelSpacing(columnMM: c["spacing_x"]!.number!, rowMM: c["spacing_y"]!.number!,
                                   sliceMM: c["spacing_z"]!.number!)
        var input = fixtures.input
        input.spacing = spacing
        let sigmaMM = c["sigma_mm"]!.number!
        let components = HessianFilter.components(of: input, sigmaMM: sigmaMM, context: KernelContext(workers: 2))
        for (ours, key) in [(components.xx, "xx"), (components.xy, "xy"), (components.yz, "yz")] {
            let (d, s) = maxAbsDifference(ours.voxels, fixtures.array(c[key]!.string!))
            #expect(d <= 2e-5 * s, "H\(key): max diff \(d) vs scale \(s)")
        }
        let eig = HessianFilter.eigenvalues(of: input, sigmaMM: sigmaMM, context: KernelContext(workers: 2))
        // The eigenvalue scale is the largest |lambda| overall; near-degenerate voxels are included.
        let refs = [c["lambda1"]!.string!, c["lambda2"]!.string!, c["lambda3"]!.string!].map(fixtures.array)
        let scale = refs.flatMap { $0 }.map(abs).max()!
        for (ours, ref) in zip([eig.lambda1, eig.lambda2, eig.lambda3], refs) {
            let (d, _) = maxAbsDifference(ours.voxels, ref)
            #expect(d <= 5e-5 * scale, "eigenvalue max diff \(d) vs scale \(scale)")
        }
        // Ascending order holds everywhere.
        for i in 0..<eig.lambda1.voxelCount {
            #expect(eig.lambda1.voxels[i] <= eig.lambda2.voxels[i] && eig.lambda2.voxels[i] <= eig.lambda3.voxels[i])
        }
    }

    @Test func filteringAViewEqualsFilteringTheCopiedCrop() throws {
        let input = fixtures.input
        let box = VoxelBox(columns: 3..<19, rows: 2..<17, slices: 4..<13)
        let view = input.view(box)
        let viaView = GaussianFilter.apply(view, sigmaVoxels: SIMD3(1.2, 0.9, 1.7), orders: DerivativeOrders(x: 1, z: 2))
        let viaCopy = GaussianFilter.apply(input.cropped(to: box), sigmaVoxels: SIMD3(1.2, 0.9, 1.7),
                                           orders: DerivativeOrders(x: 1, z: 2))
        #expect(viaView.voxels == viaCopy.voxels)
        #expect(viaView.columns == 16 && viaView.rows == 15 && viaView.slices == 9)
        // Geometry follows the crop: view voxel (0,0,0) sits where parent voxel (3,2,4) was.
        #expect(viaView.patientPosition(column: 0, row: 0, slice: 0) == input.patientPosition(column: 3, row: 2, slice: 4))
    }
}
