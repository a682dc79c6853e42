import Testing
@testable import Kernels

@Suite struct Convolution3DTests {
    func random(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2001 - 1000) / 1000
        }
    }

    @Test(arguments: [
        // (C_in, C_out, k, stride, padding, relu, im2col budget bytes)
        (1, 4, 3, 1, 1, false, 32 << 20),
        (3, 5, 3, 2, 1, true, 2000),       // tiny budget: many tiles, including ragged ones
        (2, 3, 5, 1, 0, true, 32 << 20),
        (4, 2, 2, 2, 0, false, 4096),
        (2, 6, 1, 1, 0, true, 32 << 20),
    ])
    func im2colGEMMMatchesDirectConvolution(_ p: (Int, Int, Int, Int, Int, Bool, Int)) {
        let (cin, cout, k, stride, pad, relu, budget) = p
        let input = FeatureVolume(channels: cin, slices: 7, rows: 9, columns: 11,
                                  data: random(cin * 7 * 9 * 11, seed: 7))
        let layer = Conv3DLayer(inChannels: cin, outChannels: cout, kernelSize: k, stride: stride, padding: pad,
                                weights: random(cout * cin * k * k * k, seed: 11), bias: random(cout, seed: 13),
                                relu: relu)
        let fast = Convolution3D.apply(layer, to: input, context: KernelContext(workers: 2), im2colBudgetBytes: budget,
                                       method: .im2colGEMM)
        let reference = Convolution3D.naive(layer, to: input)
        #expect(fast.channels == cout && fast.slices == layer.outputExtent(7) && fast.rows == layer.outputExtent(9)
                && fast.columns == layer.outputExtent(11))
        let (d, s) = maxAbsDifference(fast.data, reference.data)
        #expect(s > 0.1)
        #expect(d <= 1e-5 * Float(cin * k * k * k), "max diff \(d)")
        if relu { #expect(fast.data.allSatisfy { $0 >= 0 } && fast.data.contains(0)) }
    }

    @Test(arguments: [
        // (C_in, C_out, k, stride, padding, relu, slices, rows, columns)
        (1, 32, 5, 1, 2, true, 9, 11, 21),    // the filter-bank kernel; 3 vectors per row (blocks of 2 + 1)
        (1, 5, 3, 1, 1, false, 7, 9, 11),     // channels not a multiple of 4, ragged last vector
        (1, 4, 3, 1, 0, true, 6, 5, 8),       // no padding, one full vector per row
        (2, 3, 3, 2, 1, true, 7, 9, 17),      // stride 2 (phase-split rows), 2 input channels
        (3, 7, 2, 2, 0, false, 8, 6, 10),     // even kernel, stride 2, no padding
        (1, 6, 5, 3, 4, true, 5, 7, 30),      // padding wider than half the kernel, stride 3
        (4, 8, 3, 1, 1, false, 5, 6, 50),     // 7 vectors per row: blocks of 2 + 2 + 2 + 1
        (1, 2, 1, 1, 0, false, 3, 2, 1),      // 1x1x1 kernel, one column
        (2, 4, 1, 2, 0, false, 5, 4, 1),      // stride 2 over one column: phase 1 has no input
        (2, 4, 3, 2, 1, true, 5, 4, 1),       // the same with a 3-kernel and padding
        (1, 3, 4, 3, 2, false, 6, 7, 2),      // stride 3, padding 2 over two columns
    ])
    func directMatchesDirectReference(_ p: (Int, Int, Int, Int, Int, Bool, Int, Int, Int)) {
        let (cin, cout, k, stride, pad, relu, nz, ny, nx) = p
        let input = FeatureVolume(channels: cin, slices: nz, rows: ny, columns: nx,
                                  data: random(cin * nz * ny * nx, seed: 17))
        let layer = Conv3DLayer(inChannels: cin, outChannels: cout, kernelSize: k, stride: stride, padding: pad,
                                weights: random(cout * cin * k * k * k, seed: 19), bias: random(cout, seed: 23),
                                relu: relu)
        let reference = Convolution3D.naive(layer, to: input)
        // One and three workers (3 workers: several work units, ragged slice runs).
        for workers in [1, 3] {
            let fast = Convolution3D.apply(layer, to: input, context: KernelContext(workers: workers), method: .direct)
            #expect(fast.channels == cout && fast.slices == reference.slices && fast.rows == reference.rows
                    && fast.columns == reference.columns)
            let (d, s) = maxAbsDifference(fast.data, reference.data)
            #expect(s > 0.1)
            #expect(d <= 1e-5 * Float(cin * k * k * k), "max diff \(d), workers \(workers)")
        }
        if relu { #expect(reference.data.contains(0)) }
    }

    @Test func directWithTinyBudgetFallsBackToGEMM() {
        // One output slice's padded input (1 x 5 x 13 x 24 floats) exceeds 1000 bytes: the
        // im2col path runs instead, same result.
        let input = FeatureVolume(channels: 1, slices: 6, rows: 9, columns: 10, data: random(540, seed: 29))
        let layer = Conv3DLayer(inChannels: 1, outChannels: 4, kernelSize: 5, padding: 2,
                                weights: random(4 * 125, seed: 31), bias: random(4, seed: 37), relu: false)
        let fast = Convolution3D.apply(layer, to: input, context: KernelContext(workers: 1), im2colBudgetBytes: 1000,
                                       method: .direct)
        let (d, _) = maxAbsDifference(fast.data, Convolution3D.naive(layer, to: input).data)
        #expect(d <= 1e-5 * 125)
    }

    @Test func automaticPicksDirectUpToMeasuredPatchLengths() {
        let w = { (n: Int) in [Float](repeating: 0, count: n) }
        #expect(Convolution3D.prefersDirect(Conv3DLayer(inChannels: 1, outChannels: 32, kernelSize: 5, padding: 2, weights: w(32 * 125))))
        #expect(Convolution3D.prefersDirect(Conv3DLayer(inChannels: 64, outChannels: 64, kernelSize: 3, padding: 1,
                                                         weights: w(64 * 64 * 27))))
        #expect(!Convolution3D.prefersDirect(Conv3DLayer(inChannels: 128, outChannels: 8, kernelSize: 3, padding: 1,
                                                          weights: w(8 * 128 * 27))))
    }

    @Test func automaticMatchesDirectReferenceOnAMultiChannelLayer() {
        // The path `apply` picks by default, on a 16 -> 8 layer with odd sizes.
        let input = FeatureVolume(channels: 16, slices: 5, rows: 7, columns: 13, data: random(16 * 5 * 7 * 13, seed: 41))
        let layer = Conv3DLayer(inChannels: 16, outChannels: 8, kernelSize: 3, padding: 1,
                                weights: random(8 * 16 * 27, seed: 43), bias: random(8, seed: 47), relu: true)
        let (d, s) = maxAbsDifference(Convolution3D.apply(layer, to: input, context: KernelContext(workers: 2)).data,
                                      Convolution3D.naive(layer, to: input).data)
        #expect(s > 0.1)
        #expect(d <= 1e-5 * 16 * 27, "max diff \(d)")
    }

    @Test func knownSmallConvolution() {
        // A 1x1x3 "difference" filter over a ramp gives the slope everywhere inside.
        let input = FeatureVolume(channels: 1, slices: 1, rows: 1, columns: 6, data: [0, 2, 4, 6, 8, 10])
        let layer = Conv3DLayer(inChannels: 1, outChannels: 1, kernelSize: 1, weights: [3], bias: [1])
        #expect(Convolution3D.apply(layer, to: input).data == [1, 7, 13, 19, 25, 31])
    }
}

@Suite("Max pooling")
struct MaxPoolTests {
    @Test("2^3 cells: each output is its cell's largest value; a 7-wide axis keeps 3 cells (floor, as PyTorch)")
    func cellsAndFloor() {
        // Two channels of 7 x 6 x 5 voxels (slices x rows x columns), value = a distinct
        // function of the position whose largest value in a cell is at its far corner.
        let s = 7, r = 6, c = 5
        var data = [Float]()
        for ch in 0..<2 { for z in 0..<s { for y in 0..<r { for x in 0..<c {
            data.append(Float(ch * 1000 + z * 100 + y * 10 + x))
        } } } }
        let out = MaxPool3D.apply(FeatureVolume(channels: 2, slices: s, rows: r, columns: c, data: data), size: 2)
        #expect(out.slices == 3 && out.rows == 3 && out.columns == 2)
        for ch in 0..<2 { for z in 0..<3 { for y in 0..<3 { for x in 0..<2 {
            let expected = Float(ch * 1000 + (2 * z + 1) * 100 + (2 * y + 1) * 10 + 2 * x + 1)
            #expect(out.data[((ch * 3 + z) * 3 + y) * 2 + x] == expected)
        } } } }
        // The dropped slice 6 and column 4 hold the input's largest values (654, 1654); pooled, 553.
        #expect(MaxPool3D.globalMax(out) == [553, 1553])
    }
}
