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
        let fast = Convolution3D.apply(layer, to: input, context: KernelContext(workers: 2), im2colBudgetBytes: budget)
        let reference = Convolution3D.naive(layer, to: input)
        #expect(fast.channels == cout && fast.slices == layer.outputExtent(7) && fast.rows == layer.outputExtent(9)
                && fast.columns == layer.outputExtent(11))
        let (d, s) = maxAbsDifference(fast.data, reference.data)
        #expect(s > 0.1)
        #expect(d <= 1e-5 * Float(cin * k * k * k), "max diff \(d)")
        if relu { #expect(fast.data.allSatisfy { $0 >= 0 } && fast.data.contains(0)) }
    }

    @Test func knownSmallConvolution() {
        // A 1x1x3 "difference" filter over a ramp gives the slope everywhere inside.
        let input = FeatureVolume(channels: 1, slices: 1, rows: 1, columns: 6, data: [0, 2, 4, 6, 8, 10])
        let layer = Conv3DLayer(inChannels: 1, outChannels: 1, kernelSize: 1, weights: [3], bias: [1])
        #expect(Convolution3D.apply(layer, to: input).data == [1, 7, 13, 19, 25, 31])
    }
}
